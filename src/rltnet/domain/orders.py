"""Dose orders: what a centre asks a manufacturer for, and when it may be given."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from rltnet.domain.errors import InvalidInput, OrderStateError
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


class OrderStatus(StrEnum):
    """Where an order stands; the dose's journey in detail is the patient's pathway."""

    REQUESTED = "requested"  # taken, placed where capacity allowed, awaiting the manufacturer
    CONFIRMED = "confirmed"  # the manufacturer will make it (and ships it, until given or missed)
    CANCELLED = "cancelled"
    FAILED = "failed"  # its batch failed QC
    MISSED = "missed"  # not given: the patient did not come, or the dose came too late
    ADMINISTERED = "administered"


class OrderChange(StrEnum):
    """What may happen to an order once taken; each value reads after "cannot"."""

    CONFIRM = "be confirmed"
    ADJUST = "be adjusted"  # a new preferred time: placed again, to be confirmed again
    PROPOSE = "have another date proposed"  # by the manufacturer; nothing moves yet
    ACCEPT_PROPOSAL = "have a proposed date accepted"  # by the centre: an adjustment
    REPLAN = "be re-planned"  # the full planner moves its placement
    PROGRESS = "have its dose's journey recorded"  # production, release, shipping, delivery
    FAIL_QC = "fail QC"
    MISS = "be recorded as missed"
    CANCEL = "be cancelled"
    ADMINISTER = "be administered"


S, C = OrderStatus, OrderChange
LIVE = frozenset({S.REQUESTED, S.CONFIRMED})
"""Orders whose dose is still to be made or given: the only ones that hold a placement that
may move, and the only ones a patient may have one of."""

# The whole state machine: the status each change leads to, from each status that allows it.
# Finished orders (cancelled, failed, missed, administered) allow nothing: a patient whose
# dose was not given gets a new order, never a revived one.
TRANSITIONS: dict[OrderStatus, dict[OrderChange, OrderStatus]] = {
    S.REQUESTED: {
        C.CONFIRM: S.CONFIRMED,
        C.ADJUST: S.REQUESTED,
        C.PROPOSE: S.REQUESTED,
        C.ACCEPT_PROPOSAL: S.REQUESTED,
        C.REPLAN: S.REQUESTED,
        C.CANCEL: S.CANCELLED,
    },
    S.CONFIRMED: {
        C.ADJUST: S.REQUESTED,
        C.PROPOSE: S.CONFIRMED,
        C.ACCEPT_PROPOSAL: S.REQUESTED,
        C.REPLAN: S.CONFIRMED,
        C.PROGRESS: S.CONFIRMED,
        C.FAIL_QC: S.FAILED,
        C.MISS: S.MISSED,
        C.CANCEL: S.CANCELLED,
        C.ADMINISTER: S.ADMINISTERED,
    },
    S.CANCELLED: {},
    S.FAILED: {},
    S.MISSED: {},
    S.ADMINISTERED: {},
}


def next_status(order_id: str, status: str, change: OrderChange) -> OrderStatus:
    """The status `change` leads to from `status`, or `OrderStateError` saying what is allowed.

    >>> next_status("O-1", "confirmed", OrderChange.ADJUST).value
    'requested'
    >>> next_status("O-1", "cancelled", OrderChange.ADJUST)
    Traceback (most recent call last):
    ...
    rltnet.domain.errors.OrderStateError: order O-1 is cancelled, so it cannot be adjusted: only a \
requested or confirmed order can; it is finished: order the patient's next dose instead
    """
    current = OrderStatus(status)
    found = TRANSITIONS[current].get(change)
    if found is not None:
        return found
    allowed = " or ".join(s.value for s, changes in TRANSITIONS.items() if change in changes)
    finished = "" if current in LIVE else "; it is finished: order the patient's next dose instead"
    raise OrderStateError(
        f"order {order_id} is {current.value}, so it cannot {change.value}: only a {allowed} order can"
        f"{finished}"
    )
