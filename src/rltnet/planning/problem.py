"""A planning problem: the network, the orders, what is already booked, and what failed.

The objective every planner minimises, in this order of priority (each weight
is larger than anything the next can add up to for one order):

1. ``UNPLANNED_COST`` for each order left without a dose: most patients treated
   inside their window;
2. ``CONFIRMED_CHANGE_COST`` for each confirmed order moved when re-planning:
   confirmed orders stay put unless they cannot;
3. days between the administration and the patient's preferred day, times
   ``FIRST_CYCLE_DELAY_WEIGHT`` for a first cycle (a patient waiting to start)
   or ``LATER_CYCLE_DELAY_WEIGHT`` for a later one;
4. ``OVERAGE_WEIGHT`` per GBq of isotope made beyond the prescribed activity
   (the activity a dose loses between its batch and its infusion);
5. ``CHANGE_COST`` for each unconfirmed order moved when re-planning.

A first-cycle window is four weeks (56 weight-days at most), a dose's overage
stays below 6 GBq (0.6), so each level dominates the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from rltnet.domain.errors import InvalidInput
from rltnet.domain.network import Network
from rltnet.domain.orders import DoseOrder
from rltnet.domain.products import Catalogue
from rltnet.domain.units import require_aware
from rltnet.planning.plan import Placement, Plan

UNPLANNED_COST = 1000.0
CONFIRMED_CHANGE_COST = 100.0
FIRST_CYCLE_DELAY_WEIGHT = 2.0
LATER_CYCLE_DELAY_WEIGHT = 1.0
OVERAGE_WEIGHT = 0.1
CHANGE_COST = 0.001

# Planning allowances, not label figures: the time between a dose's arrival and
# the start of its appointment (receipt, assay, preparation).
HANDOVER = timedelta(hours=1)

MAX_SEED = 2**31 - 1  # HiGHS takes a seed that fits a signed 32-bit integer


def delay_weight(order: DoseOrder) -> float:
    return FIRST_CYCLE_DELAY_WEIGHT if order.first_cycle else LATER_CYCLE_DELAY_WEIGHT


@dataclass(frozen=True, slots=True)
class LaneClosure:
    """No departures on `lane_id` in [start_at, end_at) (a cancelled flight, a strike)."""

    lane_id: str
    start_at: datetime
    end_at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class LaneDelay:
    """Departures on `lane_id` in [start_at, end_at) take `extra` longer."""

    lane_id: str
    start_at: datetime
    end_at: datetime
    extra: timedelta
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CentreClosure:
    """A centre closed on a day (a failed air handler, a strike, snow)."""

    centre_id: str
    day: date
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Disruptions:
    """What has failed: the planner avoids each of these."""

    failed_batches: frozenset[str] = frozenset()
    lane_closures: tuple[LaneClosure, ...] = ()
    lane_delays: tuple[LaneDelay, ...] = ()
    centre_closures: tuple[CentreClosure, ...] = ()

    def lane_open(self, lane_id: str, departs_at: datetime) -> bool:
        return not any(
            c.lane_id == lane_id and c.start_at <= departs_at < c.end_at for c in self.lane_closures
        )

    def lane_extra(self, lane_id: str, departs_at: datetime) -> timedelta:
        return sum(
            (
                d.extra
                for d in self.lane_delays
                if d.lane_id == lane_id and d.start_at <= departs_at < d.end_at
            ),
            timedelta(0),
        )

    def centre_closed(self, centre_id: str, day: date) -> bool:
        return any(c.centre_id == centre_id and c.day == day for c in self.centre_closures)


@dataclass(frozen=True)
class PlanningProblem:
    """Everything a planner needs; planners read it and return a new `Plan`.

    When re-planning, `previous` is the plan in force and `now` the moment of
    re-planning: no new batch may start before `now`. `kept` are placements that
    stay exactly as they are (their batch has started); they are not among
    `orders` but hold their chairs, daily activity and isotope.
    """

    network: Network
    catalogue: Catalogue
    orders: tuple[DoseOrder, ...]
    previous: Plan | None = None
    now: datetime | None = None
    kept: tuple[Placement, ...] = ()
    disruptions: Disruptions = field(default_factory=Disruptions)
    seed: int = 0
    time_limit_s: float = 10.0

    def __post_init__(self) -> None:
        if self.now is not None:
            require_aware(self.now, "now")
        if not 0 <= self.seed <= MAX_SEED:
            raise InvalidInput(f"seed must be a whole number from 0 to {MAX_SEED}, got {self.seed}")
        ids = [o.order_id for o in self.orders]
        if len(set(ids)) != len(ids):
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            raise InvalidInput(f"order ids must be unique; repeated: {', '.join(duplicates[:5])}")
