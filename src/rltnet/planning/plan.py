"""A dose plan: for each order, the batch, the shipment and the appointment, or why not."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from rltnet.domain.dose import Dose
from rltnet.domain.orders import DoseOrder
from rltnet.domain.products import TherapyProduct
from rltnet.domain.units import Activity, after


@dataclass(frozen=True, slots=True)
class Placement:
    """Where and when one order is made, shipped and given.

    The dose is calibrated at the batch start (`calibration_activity`), filled so
    that it holds the prescribed activity at `administration_at`. `delay_reason`
    says, for an order placed away from its preferred day, what kept it off that day.
    `dose_of` names the order a re-used dose was filled for (a no-show's dose given to
    another patient, or a dose re-seated after a disruption); such a dose holds an
    activity inside the tolerance band rather than exactly the prescribed one.
    """

    order: DoseOrder
    site_id: str
    batch_id: str
    batch_start_at: datetime
    released_at: datetime
    lane_id: str
    departs_at: datetime
    arrives_at: datetime
    appointment_at: datetime
    appointment_end_at: datetime
    chair: int
    administration_at: datetime
    calibration_activity: Activity
    delay_reason: str | None = None
    dose_of: str | None = None  # set when the dose was filled for another order or time

    @property
    def centre_id(self) -> str:
        return self.order.centre_id

    def dose(self, product: TherapyProduct) -> Dose:
        """The dose this placement makes."""
        return Dose(
            dose_id=f"dose-{self.order.order_id}",
            product=product,
            batch_id=self.batch_id,
            calibration_at=self.batch_start_at,
            calibration_activity=self.calibration_activity,
            expiry_at=after(self.batch_start_at, product.shelf_life),
            prescribed=self.order.prescribed,
            released_at=self.released_at,
        )


@dataclass(frozen=True, slots=True)
class Unplanned:
    """An order no placement was found for, with the reason that bound it."""

    order: DoseOrder
    reason: str


@dataclass(frozen=True, slots=True)
class SolverReport:
    """How a plan was found: the planner, its objective, the best bound and the gap.

    For a heuristic the bound is the relaxation bound the planner computed (or
    None); the gap is ``(objective - bound) / objective``.
    """

    planner: str
    objective: float
    bound: float | None
    wall_s: float
    status: str
    seed: int = 0

    @property
    def gap(self) -> float | None:
        if self.bound is None:
            return None
        if self.objective == 0:
            return 0.0
        return max(0.0, (self.objective - self.bound) / abs(self.objective))


@dataclass(frozen=True, slots=True)
class Plan:
    """An immutable plan: placements, the orders left unplanned, and how it was found.

    `cancelled` are the orders a re-plan's events took out (cancelled, or the patient did
    not come): neither placed nor planned again, kept so that a dose made for one of them
    and given to another patient (`Placement.dose_of`) names an order of the plan.
    """

    placements: tuple[Placement, ...]
    unplanned: tuple[Unplanned, ...]
    report: SolverReport | None = None
    notes: tuple[str, ...] = field(default=())
    cancelled: tuple[DoseOrder, ...] = field(default=())
    _by_order: dict[str, Placement] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # looked up once per order when re-planning: a scan each time was quadratic on L
        by_order: dict[str, Placement] = {}
        for placement in self.placements:
            by_order.setdefault(placement.order.order_id, placement)
        object.__setattr__(self, "_by_order", by_order)

    def unplanned_reasons(self) -> Counter[str]:
        return Counter(u.reason for u in self.unplanned)

    def placement_of(self, order_id: str) -> Placement | None:
        return self._by_order.get(order_id)

    @property
    def orders(self) -> tuple[DoseOrder, ...]:
        return tuple(p.order for p in self.placements) + tuple(u.order for u in self.unplanned)
