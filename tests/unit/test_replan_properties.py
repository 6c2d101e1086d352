"""Re-planning, for all small networks, orders and disruptions: every re-plan of every solver
passes the independent checker and leaves every frozen placement as it was.

Hypothesis draws a network (one reactor; one or two production sites; one or two
centres with one to three chairs and a tight daily activity limit; a lane from each
site to each centre), a fortnight's Pluvicto orders, a plan by one solver, a moment
`now` and a few events of every kind; the plan is then re-planned by the same solver.
A placement is frozen when its batch started before `now`; unless an event strikes it
(its batch failed, its departure cancelled, its lane so late it misses the
appointment, its centre closed that day, its patient gone) it must come out unchanged.

On the same drawn instances, an order a planner reports as "every option is taken"
has no placement the network allows that fits without moving another order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rltnet.domain.network import (
    Calendar,
    GeoPoint,
    IrradiationCycle,
    Lane,
    Licence,
    Network,
    OpeningHours,
    ProductionSite,
    Reactor,
    StaffMember,
    StaffRole,
    TreatmentCentre,
)
from rltnet.domain.orders import DoseOrder
from rltnet.domain.products import Catalogue, Weekday
from rltnet.domain.units import Activity
from rltnet.files.catalogue_file import default_catalogue
from rltnet.planning.candidates import Candidates
from rltnet.planning.checker import check_plan
from rltnet.planning.exact import ExactPlanner
from rltnet.planning.greedy import EarliestDeadlineFirst, FastPlanner, FirstComeFirstServed, Planner
from rltnet.planning.plan import Placement, Plan
from rltnet.planning.problem import PlanningProblem
from rltnet.planning.replan import (
    BatchFailed,
    CentreClosed,
    Event,
    LaneCancelled,
    LaneDelayed,
    NoShow,
    OrderCancelled,
    ReactorOutage,
    disruptions_of,
    replan,
)

PLUVICTO = "lu177-vipivotide-tetraxetan"
PLANNERS: dict[str, Planner] = {
    "exact": ExactPlanner(),
    "fast": FastPlanner(),
    "edf": EarliestDeadlineFirst(),
    "fcfs": FirstComeFirstServed(),
}
FIRST_DAY = date(2027, 3, 8)  # a Monday; the fortnight has no public holiday in England or Italy
DAYS = 14
WEEKDAYS = frozenset(Weekday(d) for d in range(5))
EVERY_DAY = frozenset(Weekday)
PLACED_AT = datetime(2027, 2, 1, 9, tzinfo=UTC)
SITES = {"ivrea": ZoneInfo("Europe/Rome"), "zaragoza": ZoneInfo("Europe/Madrid")}
CENTRES = {"leeds": ZoneInfo("Europe/London"), "london": ZoneInfo("Europe/London")}
HOURS = st.integers(min_value=0, max_value=23)
EVENT_KINDS = (
    "reactor_outage",
    "batch_failed",
    "lane_cancelled",
    "lane_delayed",
    "order_cancelled",
    "no_show",
    "centre_closed",
)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return default_catalogue()


@dataclass(frozen=True)
class Case:
    network: Network
    orders: tuple[DoseOrder, ...]


@st.composite
def networks(draw: st.DrawFn) -> Network:
    reactor = Reactor(
        reactor_id="petten",
        name="Petten",
        location=GeoPoint(52.79, 4.68),
        nuclides=("Lu-177",),
        delivery=Activity.from_gbq(draw(st.sampled_from([15, 40, 200]))),
        delivery_weekdays=draw(st.sampled_from([EVERY_DAY, frozenset({Weekday.MONDAY, Weekday.THURSDAY})])),
        cycles=(IrradiationCycle(date(2027, 1, 1), date(2027, 12, 31)),),
    )
    site_ids = draw(st.sampled_from([["ivrea"], ["ivrea", "zaragoza"]]))
    sites = {
        s: ProductionSite(
            site_id=s,
            name=s,
            location=GeoPoint(45.0, 7.0),
            calendar=Calendar("IT", SITES[s], holidays.country_holidays("IT")),
            products=(PLUVICTO,),
            production_weekdays=WEEKDAYS,
            batch_times=(time(6),),
            doses_per_batch=draw(st.integers(min_value=1, max_value=4)),
            qc_release=timedelta(hours=6),
            reactors=("petten",),
        )
        for s in site_ids
    }
    centre_ids = draw(st.sampled_from([["leeds"], ["leeds", "london"]]))
    licence = Licence("ARSAC practitioner licence", ("Lu-177",), date(2030, 3, 31))
    centres = {
        c: TreatmentCentre(
            centre_id=c,
            name=c,
            location=GeoPoint(53.0, -1.5),
            region="England",
            calendar=Calendar("GB-ENG", CENTRES[c], holidays.country_holidays("GB", subdiv="ENG")),
            chairs=draw(st.integers(min_value=1, max_value=3)),
            bed_kind="chair",
            hours=OpeningHours(WEEKDAYS, time(8), time(18)),
            daily_activity_limit=Activity.from_gbq(draw(st.sampled_from([8, 16, 100]))),
            mdt_weekday=Weekday.WEDNESDAY,
            products=(PLUVICTO,),
            staff=(StaffMember(f"{c}-ap", StaffRole.AUTHORISED_PRACTITIONER, WEEKDAYS, (licence,)),),
        )
        for c in centre_ids
    }
    lanes = {
        f"{s}-{c}": Lane(
            lane_id=f"{s}-{c}",
            site_id=s,
            centre_id=c,
            mode="air",
            transit=timedelta(hours=draw(st.sampled_from([6, 20, 30]))),
            cutoffs=(time(14),),
            weekdays=WEEKDAYS,
            reliability=1.0,
        )
        for s in site_ids
        for c in centre_ids
    }
    return Network(
        name="drawn",
        description="a network drawn by hypothesis",
        reactors={"petten": reactor},
        sites=sites,
        lanes=lanes,
        centres=centres,
    )


@st.composite
def cases(draw: st.DrawFn) -> Case:
    network = draw(networks())
    count = draw(st.integers(min_value=1, max_value=9))
    orders = []
    for k in range(count):
        centre = draw(st.sampled_from(sorted(network.centres)))
        day = FIRST_DAY + timedelta(days=draw(st.integers(min_value=1, max_value=DAYS - 4)))
        preferred_at = datetime.combine(day, time(draw(st.sampled_from([8, 13]))), tzinfo=CENTRES[centre])
        spread = timedelta(days=draw(st.integers(min_value=0, max_value=3)), hours=5)
        orders.append(
            DoseOrder(
                order_id=f"O{k:02d}",
                patient_id=f"P{k:02d}",
                product_id=PLUVICTO,
                cycle=1,
                centre_id=centre,
                earliest_at=preferred_at - spread,
                latest_at=preferred_at + spread,
                preferred_at=preferred_at,
                prescribed=Activity.from_gbq(draw(st.sampled_from([6.0, 7.4]))),
                placed_at=PLACED_AT,
                confirmed=draw(st.booleans()),
            )
        )
    return Case(network, tuple(orders))


def moment(day_offset: int, hour: int) -> datetime:
    return datetime.combine(FIRST_DAY + timedelta(days=day_offset), time(hour), tzinfo=UTC)


@st.composite
def events_for(draw: st.DrawFn, case: Case, plan: Plan) -> list[Event]:
    """One to four events of any kind, naming what the network and the plan hold."""
    days = st.integers(min_value=-2, max_value=DAYS)
    batches = sorted({p.batch_id for p in plan.placements}) or ["ivrea-20270310-0600"]
    order_ids = [o.order_id for o in case.orders]
    kinds = st.sampled_from(EVENT_KINDS)
    events: list[Event] = []
    for kind in draw(st.lists(kinds, min_size=1, max_size=4)):
        start = moment(draw(days), draw(HOURS))
        end = start + timedelta(hours=draw(st.integers(min_value=1, max_value=96)))
        lane = draw(st.sampled_from(sorted(case.network.lanes)))
        if kind == "reactor_outage":
            events.append(ReactorOutage("petten", start, end, "drawn"))
        elif kind == "batch_failed":
            events.append(BatchFailed(draw(st.sampled_from(batches))))
        elif kind == "lane_cancelled":
            events.append(LaneCancelled(lane, start, end))
        elif kind == "lane_delayed":
            delay = timedelta(minutes=draw(st.sampled_from([30, 90, 6 * 60, 30 * 60])))
            events.append(LaneDelayed(lane, start, end, delay))
        elif kind == "order_cancelled":
            events.append(OrderCancelled(draw(st.sampled_from(order_ids))))
        elif kind == "no_show":
            events.append(NoShow(draw(st.sampled_from(order_ids))))
        else:
            centre = draw(st.sampled_from(sorted(case.network.centres)))
            events.append(CentreClosed(centre, FIRST_DAY + timedelta(days=draw(days))))
    return events


def struck(placement: Placement, events: list[Event], network: Network) -> bool:
    """Whether an event makes a placement impossible as it stands (worked out here)."""
    late = timedelta(0)
    for event in events:
        if isinstance(event, LaneDelayed) and event.lane_id == placement.lane_id:
            late += event.delay if event.start_at <= placement.departs_at < event.end_at else timedelta(0)
    lane = network.lanes[placement.lane_id]
    if placement.departs_at + lane.transit + late + timedelta(hours=1) > placement.appointment_at:
        return True
    for event in events:
        if isinstance(event, BatchFailed) and event.batch_id == placement.batch_id:
            return True
        if isinstance(event, LaneCancelled) and _departs_in(placement, event):
            return True
        if isinstance(event, OrderCancelled | NoShow) and event.order_id == placement.order.order_id:
            return True
        if isinstance(event, CentreClosed) and event.centre_id == placement.centre_id:
            zone = CENTRES[placement.centre_id]
            if placement.appointment_at.astimezone(zone).date() == event.day:
                return True
    return False


def _departs_in(placement: Placement, event: LaneCancelled) -> bool:
    return event.lane_id == placement.lane_id and event.start_at <= placement.departs_at < event.end_at


@pytest.mark.parametrize("solver", sorted(PLANNERS))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_replan_passes_the_checker_and_keeps_frozen_placements(
    solver: str, catalogue: Catalogue, data: st.DataObject
) -> None:
    case = data.draw(cases(), label="case")
    planner = PLANNERS[solver]
    plan = planner.plan(PlanningProblem(case.network, catalogue, case.orders, time_limit_s=5))
    assert check_plan(plan, case.network, catalogue, case.orders) == []
    now = moment(data.draw(st.integers(min_value=-1, max_value=DAYS - 2), label="now day"), data.draw(HOURS))
    events = data.draw(events_for(case, plan), label="events")
    after = replan(plan, case.network, catalogue, events, now, planner, time_limit_s=5)
    violations = check_plan(
        after.plan, after.network, catalogue, after.plan.orders, disruptions=disruptions_of(events), now=now
    )
    assert [str(v) for v in violations] == []
    gone = {e.order_id for e in events if isinstance(e, OrderCancelled | NoShow)}
    assert {o.order_id for o in after.plan.orders} == {o.order_id for o in case.orders} - gone
    assert {o.order_id for o in after.plan.cancelled} == gone
    for placement in plan.placements:
        if placement.batch_start_at < now and not struck(placement, events, case.network):
            kept = after.plan.placement_of(placement.order.order_id)
            assert kept is not None, placement.order.order_id
            same = ("batch_id", "lane_id", "departs_at", "appointment_at", "chair", "calibration_activity")
            assert all(getattr(kept, f) == getattr(placement, f) for f in same), (placement, kept)


def every_placement_of(case: Case, catalogue: Catalogue, order: DoseOrder) -> Iterator[Placement]:
    """Every placement the network allows the order on its own (any session of its window,
    any supply a lane and batch can bring, any chair), ignoring every other order."""
    candidates = Candidates(PlanningProblem(case.network, catalogue, (order,)))
    sessions, supplies, _, made = candidates.order_rows(order, None)
    for session_index, supply_index, made_bq in zip(sessions, supplies, made, strict=True):
        session = candidates.sessions[int(session_index)]
        supply = candidates.supplies[int(supply_index)]
        batch = candidates.batches[supply.batch]
        for chair in range(1, case.network.centres[order.centre_id].chairs + 1):
            yield Placement(
                order=order,
                site_id=batch.site_id,
                batch_id=batch.batch_id,
                batch_start_at=batch.start_at,
                released_at=batch.released_at,
                lane_id=supply.lane_id,
                departs_at=supply.departs_at,
                arrives_at=supply.arrives_at,
                appointment_at=session.start_at,
                appointment_end_at=session.end_at,
                chair=chair,
                administration_at=session.administration_at,
                calibration_activity=Activity(float(made_bq)),
            )


@pytest.mark.parametrize("solver", sorted(PLANNERS))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_an_order_every_option_of_which_is_taken_fits_nowhere_without_moving_another(
    solver: str, catalogue: Catalogue, case: Case
) -> None:
    """Unplanned reasons are true: for an order reported as "every option is taken", each
    placement the network allows it breaks a rule once added to the plan as it stands."""
    plan = PLANNERS[solver].plan(PlanningProblem(case.network, catalogue, case.orders, time_limit_s=5))
    for unplanned in plan.unplanned:
        if not unplanned.reason.startswith("every option is taken"):
            continue
        for placement in every_placement_of(case, catalogue, unplanned.order):
            more = replace(
                plan,
                placements=(*plan.placements, placement),
                unplanned=tuple(u for u in plan.unplanned if u is not unplanned),
            )
            assert check_plan(more, case.network, catalogue, case.orders) != [], (unplanned.reason, placement)
