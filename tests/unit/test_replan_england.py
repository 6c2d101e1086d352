"""The re-plans an independent verifier found broken, kept as regression cases.

England, the two weeks of orders of `rltnet orders generate --network england --weeks 2
--seed 7`, planned by each solver; then, at 06:00 UTC on Tuesday 5 January 2027, London
is closed for the day, or the Zaragoza-London lane runs a day late. London's doses of
that day are in flight (their batches started on Monday): they must be re-seated around
every other frozen appointment, whatever the order ids, and the new plan must pass the
checker with the events applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from rltnet.domain.network import Network
from rltnet.domain.orders import DoseOrder
from rltnet.domain.products import Catalogue
from rltnet.files.catalogue_file import default_catalogue
from rltnet.files.network_file import load_network, network_path
from rltnet.planning.checker import check_plan
from rltnet.planning.exact import ExactPlanner
from rltnet.planning.greedy import EarliestDeadlineFirst, FastPlanner, FirstComeFirstServed, Planner
from rltnet.planning.order_generator import generate_orders
from rltnet.planning.plan import Placement, Plan
from rltnet.planning.problem import PlanningProblem
from rltnet.planning.replan import CentreClosed, Event, LaneDelayed, disruptions_of, replan

NOW = datetime(2027, 1, 5, 6, 0, tzinfo=UTC)
PLANNERS: dict[str, Planner] = {
    "exact": ExactPlanner(),
    "fast": FastPlanner(),
    "edf": EarliestDeadlineFirst(),
    "fcfs": FirstComeFirstServed(),
}
EVENTS: dict[str, Sequence[Event]] = {
    "london closed": [CentreClosed("london", date(2027, 1, 5), "air handling failure")],
    "zaragoza-london a day late": [
        LaneDelayed(
            "zaragoza-london",
            datetime(2027, 1, 4, tzinfo=UTC),
            datetime(2027, 1, 6, tzinfo=UTC),
            timedelta(hours=24),
        )
    ],
}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return default_catalogue()


@pytest.fixture(scope="module")
def england(catalogue: Catalogue) -> Network:
    return load_network(network_path("england"), catalogue)


@pytest.fixture(scope="module")
def orders(england: Network, catalogue: Catalogue) -> tuple[DoseOrder, ...]:
    return tuple(generate_orders(england, catalogue, start_date=date(2027, 1, 4), weeks=2, seed=7))


@pytest.fixture(scope="module")
def plans(england: Network, catalogue: Catalogue, orders: tuple[DoseOrder, ...]) -> dict[str, Plan]:
    return {name: p.plan(PlanningProblem(england, catalogue, orders)) for name, p in PLANNERS.items()}


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("solver", PLANNERS)
def test_a_replan_of_england_after_a_london_disruption_breaks_no_rule(
    solver: str, event: str, england: Network, catalogue: Catalogue, plans: dict[str, Plan]
) -> None:
    before = plans[solver]
    events = EVENTS[event]
    london_today = [
        p
        for p in before.placements
        if p.centre_id == "london" and p.appointment_at.date() == date(2027, 1, 5) and p.batch_start_at < NOW
    ]
    assert london_today, "the case needs London doses in flight on the day"
    after = replan(before, england, catalogue, events, NOW, PLANNERS[solver])
    violations = check_plan(
        after.plan, after.network, catalogue, after.plan.orders, disruptions=disruptions_of(events), now=NOW
    )
    assert [str(v) for v in violations] == []
    for placement in before.placements:
        if placement.batch_start_at < NOW and not _struck(placement, event):
            kept = after.plan.placement_of(placement.order.order_id)
            assert kept is not None
            assert (kept.batch_id, kept.appointment_at, kept.chair) == (
                placement.batch_id,
                placement.appointment_at,
                placement.chair,
            )


def _struck(placement: Placement, event: str) -> bool:
    """Whether the event makes the placement impossible as it stands."""
    if event == "london closed":
        return placement.centre_id == "london" and placement.appointment_at.date() == date(2027, 1, 5)
    (delay,) = EVENTS[event]
    assert isinstance(delay, LaneDelayed)
    late_at = placement.arrives_at + delay.delay + timedelta(hours=1)
    departs_in = delay.start_at <= placement.departs_at < delay.end_at
    return placement.lane_id == delay.lane_id and departs_in and late_at > placement.appointment_at
