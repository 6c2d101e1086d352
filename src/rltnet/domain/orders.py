"""Dose orders: what a centre asks a manufacturer for, and when it may be given."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rltnet.domain.errors import InvalidInput
from rltnet.domain.products import TherapyProduct
from rltnet.domain.units import Activity, require_aware

# How long after the earliest possible date a first cycle may still be booked.
# A planning choice, not a label figure: the planner minimises delay inside it.
FIRST_CYCLE_HORIZON = timedelta(weeks=4)


@dataclass(frozen=True, slots=True)
class DoseOrder:
    """A dose ordered for one patient's cycle, with its admissible administration window."""

    order_id: str
    patient_id: str  # pseudonym, never a name or hospital number
    product_id: str
    cycle: int
    centre_id: str
    earliest_at: datetime
    latest_at: datetime
    preferred_at: datetime
    prescribed: Activity
    placed_at: datetime
    weight_kg: float | None = None
    confirmed: bool = False

    def __post_init__(self) -> None:
        for name in ("earliest_at", "latest_at", "preferred_at", "placed_at"):
            require_aware(getattr(self, name), name)
        if self.cycle < 1:
            raise InvalidInput(f"order {self.order_id}: cycle must be 1 or more, got {self.cycle}")
        if self.placed_at > self.latest_at:
            raise InvalidInput(
                f"order {self.order_id}: placed at {self.placed_at.isoformat()}, after its window "
                f"closed at {self.latest_at.isoformat()}; give a window that is still open"
            )
        if not self.earliest_at <= self.preferred_at <= self.latest_at:
            raise InvalidInput(
                f"order {self.order_id}: preferred time {self.preferred_at.isoformat()} is "
                f"outside its window {self.earliest_at.isoformat()} to "
                f"{self.latest_at.isoformat()}; choose a time inside it"
            )

    @property
    def first_cycle(self) -> bool:
        return self.cycle == 1


def first_cycle_window(
    product: TherapyProduct, approved_at: datetime, horizon: timedelta = FIRST_CYCLE_HORIZON
) -> tuple[datetime, datetime]:
    """A first cycle: as soon as the order lead time allows after MDT approval."""
    lead_time = product.ordering.lead_time or timedelta(0)
    earliest = require_aware(approved_at, "approved_at") + lead_time
    return earliest, earliest + horizon


def later_cycle_window(product: TherapyProduct, previous_at: datetime) -> tuple[datetime, datetime]:
    """A later cycle: the label's interval and its allowed slack after the previous one."""
    return product.schedule.next_cycle_window(previous_at)
