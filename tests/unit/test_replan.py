"""Re-planning after each kind of event, with the change list that says what moved and why.

The network is one reactor, Ivrea making Pluvicto on weekdays, one air lane and
Leeds (two chairs, sessions at 08:00 and 13:00). In March 2027 a 06:00 Ivrea batch
starts at 05:00 UTC, leaves at the 14:00 cut-off (13:00 UTC) and lands in Leeds
20 h later, at 09:00 the next day: the batch of one weekday serves the 13:00
session of the next.

The week's plan: four patients at 13:00 from Tuesday to Friday, each dose from the
previous weekday's batch. The Tuesday, Wednesday and Friday patients are confirmed.
At `now` a placement whose batch has started is in flight. Every re-planned plan
must pass the independent checker against the events' disruptions and the orders
still in the plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest

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
from rltnet.domain.products import Catalogue, TherapyProduct, Weekday
from rltnet.domain.units import Activity
from rltnet.planning.checker import check_plan
from rltnet.planning.exact import ExactPlanner
from rltnet.planning.greedy import FastPlanner, Planner
from rltnet.planning.plan import Placement, Plan
from rltnet.planning.problem import PlanningProblem
from rltnet.planning.replan import (
    BatchFailed,
    CentreClosed,
    Change,
    Event,
    LaneCancelled,
    LaneDelayed,
    NoShow,
    OrderCancelled,
    ReactorOutage,
    Replan,
    disruptions_of,
    replan,
)

PLUVICTO = "lu177-vipivotide-tetraxetan"
LONDON = ZoneInfo("Europe/London")
ROME = ZoneInfo("Europe/Rome")
EVERY_DAY = frozenset(Weekday)
MON_FRI = frozenset(Weekday(d) for d in range(5))

MONDAY = date(2027, 3, 8)
TUESDAY = date(2027, 3, 9)
WEDNESDAY = date(2027, 3, 10)
THURSDAY = date(2027, 3, 11)
FRIDAY = date(2027, 3, 12)
NEXT_MONDAY = date(2027, 3, 15)
PLACED_AT = datetime(2027, 2, 1, 9, tzinfo=UTC)

PLANNERS: dict[str, Planner] = {"exact": ExactPlanner(), "fast": FastPlanner()}
BOTH_PLANNERS = pytest.mark.parametrize("planner", sorted(PLANNERS))


def batch(day: date) -> str:
    return f"ivrea-{day:%Y%m%d}-0600"


def utc(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def at(day: date, hour: int) -> datetime:
    """`hour`:00 on `day` in Leeds (UTC until 28 March 2027)."""
    return datetime.combine(day, time(hour), tzinfo=LONDON)


# -- the network --------------------------------------------------------------------------------


def leeds_network() -> Network:
    """One reactor, Ivrea, one lane, Leeds: two chairs, 08:00 and 13:00 sessions on weekdays."""
    reactor = Reactor(
        reactor_id="hfr-petten",
        name="High Flux Reactor, Petten",
        location=GeoPoint(52.7867, 4.6796),
        nuclides=("Lu-177",),
        delivery=Activity.from_gbq(1000),
        delivery_weekdays=EVERY_DAY,
        cycles=(IrradiationCycle(date(2027, 1, 1), date(2027, 12, 31)),),
    )
    ivrea = ProductionSite(
        site_id="ivrea",
        name="AAA Ivrea",
        location=GeoPoint(45.4672, 7.8762),
        calendar=Calendar("IT", ROME, holidays.country_holidays("IT")),
        products=(PLUVICTO,),
        production_weekdays=MON_FRI,
        batch_times=(time(6),),
        doses_per_batch=100,
        qc_release=timedelta(hours=6),
        reactors=("hfr-petten",),
    )
    lane = Lane(
        lane_id="ivrea-leeds",
        site_id="ivrea",
        centre_id="leeds",
        mode="air",
        transit=timedelta(hours=20),
        cutoffs=(time(14),),
        weekdays=MON_FRI,
        reliability=1.0,
    )
    licence = Licence("ARSAC practitioner licence", ("Lu-177",), date(2030, 3, 31))
    leeds = TreatmentCentre(
        centre_id="leeds",
        name="Leeds (St James's University Hospital)",
        location=GeoPoint(53.7965, -1.5478),
        region="North East and Yorkshire",
        calendar=Calendar("GB-ENG", LONDON, holidays.country_holidays("GB", subdiv="ENG")),
        chairs=2,
        bed_kind="chair",
        hours=OpeningHours(MON_FRI, time(8), time(18)),
        daily_activity_limit=Activity.from_gbq(100),
        mdt_weekday=Weekday.WEDNESDAY,
        products=(PLUVICTO,),
        staff=(StaffMember("leeds-ap-1", StaffRole.AUTHORISED_PRACTITIONER, MON_FRI, (licence,)),),
    )
    return Network(
        name="Leeds from Ivrea",
        description="A minimal network for the re-planning tests.",
        reactors={reactor.reactor_id: reactor},
        sites={ivrea.site_id: ivrea},
        lanes={lane.lane_id: lane},
        centres={leeds.centre_id: leeds},
    )


def with_reactor(network: Network, **changes: Any) -> Network:
    reactor = replace(network.reactors["hfr-petten"], **changes)
    return replace(network, reactors={reactor.reactor_id: reactor})


# -- orders, plans and re-plans ------------------------------------------------------------------


def dose_order(
    order_id: str,
    preferred_at: datetime,
    *,
    confirmed: bool = False,
    earliest_at: datetime | None = None,
    latest_at: datetime | None = None,
) -> DoseOrder:
    """A 7.4 GBq Pluvicto order at Leeds; its window is three days either side of the preferred time."""
    return DoseOrder(
        order_id=order_id,
        patient_id=f"P-{order_id}",
        product_id=PLUVICTO,
        cycle=1,
        centre_id="leeds",
        earliest_at=earliest_at or preferred_at - timedelta(days=3),
        latest_at=latest_at or preferred_at + timedelta(days=3),
        preferred_at=preferred_at,
        prescribed=Activity.from_gbq(7.4),
        placed_at=PLACED_AT,
        confirmed=confirmed,
    )


def the_weeks_orders() -> list[DoseOrder]:
    """Tuesday to Friday at 13:00; all but Thursday's patient confirmed."""
    return [
        dose_order("tue", at(TUESDAY, 13), confirmed=True),
        dose_order("wed", at(WEDNESDAY, 13), confirmed=True),
        dose_order("thu", at(THURSDAY, 13)),
        dose_order("fri", at(FRIDAY, 13), confirmed=True),
    ]


def make_plan(network: Network, catalogue: Catalogue, orders: Sequence[DoseOrder], planner: str) -> Plan:
    plan = PLANNERS[planner].plan(PlanningProblem(network, catalogue, tuple(orders), time_limit_s=5))
    violations = check_plan(plan, network, catalogue, orders)
    assert violations == [], "\n".join(str(v) for v in violations)
    assert plan.unplanned == ()
    return plan


def replanned(
    planner: str,
    catalogue: Catalogue,
    events: Sequence[Event],
    now: datetime,
    *,
    network: Network | None = None,
    orders: Sequence[DoseOrder] | None = None,
) -> tuple[Plan, Replan]:
    """The plan in force and its re-plan after `events` at `now`; the re-plan must pass the
    checker with the events' disruptions, over the orders that are still in the plan."""
    network = network or leeds_network()
    orders = orders if orders is not None else the_weeks_orders()
    before = make_plan(network, catalogue, orders, planner)
    after = replan(before, network, catalogue, events, now, PLANNERS[planner], time_limit_s=5)
    gone = {e.order_id for e in events if isinstance(e, OrderCancelled | NoShow)}
    still = [o for o in orders if o.order_id not in gone]
    violations = check_plan(after.plan, after.network, catalogue, still, disruptions=disruptions_of(events))
    assert violations == [], "\n".join(str(v) for v in violations)
    return before, after


def placed(plan: Plan, order_id: str) -> Placement:
    placement = plan.placement_of(order_id)
    assert placement is not None, f"{order_id} is unplanned: {plan.unplanned}"
    return placement


def where(placement: Placement) -> tuple[object, ...]:
    """Everything a patient, a courier and a production site see (chair numbers are internal)."""
    p = placement
    return (
        p.site_id,
        p.batch_id,
        p.batch_start_at,
        p.released_at,
        p.lane_id,
        p.departs_at,
        p.arrives_at,
        p.appointment_at,
        p.appointment_end_at,
        p.administration_at,
        p.calibration_activity,
        p.dose_of,
    )


def changes_by_order(result: Replan) -> dict[str, Change]:
    return {c.order_id: c for c in result.changes}


def assert_put(before: Plan, after: Plan, *order_ids: str) -> None:
    for order_id in order_ids:
        assert where(placed(after, order_id)) == where(placed(before, order_id)), order_id


def assert_in_flight_kept(before: Plan, after: Plan, now: datetime, *struck: str) -> None:
    """Placements whose batch started before `now` are carried over exactly, unless struck."""
    for placement in before.placements:
        if placement.batch_start_at < now and placement.order.order_id not in struck:
            assert placed(after, placement.order.order_id) == placement


# -- the plan in force ---------------------------------------------------------------------------


@BOTH_PLANNERS
def test_the_weeks_plan_gives_each_dose_from_the_previous_weekdays_batch(
    planner: str, catalogue: Catalogue
) -> None:
    plan = make_plan(leeds_network(), catalogue, the_weeks_orders(), planner)
    assert [(p.order.order_id, p.batch_id, p.appointment_at) for p in plan.placements] == [
        ("tue", batch(MONDAY), at(TUESDAY, 13)),
        ("wed", batch(TUESDAY), at(WEDNESDAY, 13)),
        ("thu", batch(WEDNESDAY), at(THURSDAY, 13)),
        ("fri", batch(THURSDAY), at(FRIDAY, 13)),
    ]


@BOTH_PLANNERS
def test_re_planning_with_no_events_changes_nothing(planner: str, catalogue: Catalogue) -> None:
    before, after = replanned(planner, catalogue, [], utc(TUESDAY, 0))
    assert after.changes == ()
    assert_put(before, after.plan, "tue", "wed", "thu", "fri")


# -- reactor outage ------------------------------------------------------------------------------


def thin_reactor_orders() -> list[DoseOrder]:
    """Wednesday's confirmed patient, Thursday's, and two Friday patients, one of whom may
    wait until the Thursday after."""
    return [
        dose_order("wed", at(WEDNESDAY, 13), confirmed=True),
        dose_order("thu", at(THURSDAY, 13)),
        dose_order("fri-waits", at(FRIDAY, 13), latest_at=at(date(2027, 3, 18), 23)),
        dose_order("fri", at(FRIDAY, 8)),
    ]


def thin_reactor() -> Network:
    """The reactor delivers 20 GBq a day from Monday 8 March: about two doses' worth."""
    return with_reactor(
        leeds_network(),
        delivery=Activity.from_gbq(20),
        cycles=(IrradiationCycle(MONDAY, date(2027, 12, 31)),),
    )


OUTAGE = ReactorOutage("hfr-petten", utc(TUESDAY, 6), utc(NEXT_MONDAY, 0), "control rod fault")


@BOTH_PLANNERS
def test_a_reactor_outage_moves_a_dose_past_it_or_leaves_it_unplanned_for_want_of_isotope(
    planner: str, catalogue: Catalogue
) -> None:
    """Declared Tuesday 06:00 (Tuesday's batch for Wednesday has started), the outage stops
    deliveries until Monday 15 March. Monday's 20 GBq, less Wednesday's dose, makes one more
    dose (Thursday's); of the Friday patients one waits for Monday's delivery (Tuesday 16
    March), the other, whose window closes on Monday, is left unplanned."""
    now = utc(TUESDAY, 6)
    before, after = replanned(
        planner, catalogue, [OUTAGE], now, network=thin_reactor(), orders=thin_reactor_orders()
    )
    assert after.network.reactors["hfr-petten"].outages[-1].reason == "control rod fault"
    assert_in_flight_kept(before, after.plan, now)
    assert_put(before, after.plan, "wed", "thu")
    waits = placed(after.plan, "fri-waits")
    assert waits.batch_start_at.date() >= NEXT_MONDAY
    assert [u.order.order_id for u in after.plan.unplanned] == ["fri"]
    assert "not enough isotope" in after.plan.unplanned[0].reason
    changes = changes_by_order(after)
    assert {order_id: c.kind for order_id, c in changes.items()} == {"fri-waits": "moved", "fri": "unplanned"}
    assert "isotope" in changes["fri"].reason
    assert after.plan.notes == (OUTAGE.describe(),)


@BOTH_PLANNERS
def test_the_changes_a_reactor_outage_forces_name_the_outage(planner: str, catalogue: Catalogue) -> None:
    _, after = replanned(
        planner, catalogue, [OUTAGE], utc(TUESDAY, 6), network=thin_reactor(), orders=thin_reactor_orders()
    )
    assert after.changes
    for change in after.changes:
        assert "reactor hfr-petten out" in change.reason, change


# -- batch failed ----------------------------------------------------------------------------------


@BOTH_PLANNERS
def test_a_failed_batch_moves_its_dose_to_another_batch(planner: str, catalogue: Catalogue) -> None:
    """Wednesday's batch fails before it starts: Thursday's patient takes Tuesday's batch to
    Thursday 08:00; the confirmed patients stay exactly where they were."""
    now = utc(TUESDAY, 0)
    event = BatchFailed(batch(WEDNESDAY), "sterility test failed")
    before, after = replanned(planner, catalogue, [event], now)
    assert_in_flight_kept(before, after.plan, now)
    assert_put(before, after.plan, "tue", "wed", "fri")
    moved = placed(after.plan, "thu")
    assert moved.batch_id != batch(WEDNESDAY)
    assert moved.appointment_at == at(THURSDAY, 8)
    (change,) = after.changes
    assert (change.order_id, change.kind) == ("thu", "moved")
    assert change.reason == f"batch {batch(WEDNESDAY)} failed QC"
    assert change.before is not None and batch(WEDNESDAY) in change.before
    assert change.after is not None and batch(TUESDAY) in change.after


@BOTH_PLANNERS
def test_a_batch_that_fails_after_it_started_never_supplies_a_dose(
    planner: str, catalogue: Catalogue
) -> None:
    """Tuesday's batch (Wednesday's dose) started at 05:00 UTC and fails QC at 06:00."""
    event = BatchFailed(batch(TUESDAY), "sterility test failed")
    _, after = replanned(planner, catalogue, [event], utc(TUESDAY, 6))
    assert all(p.batch_id != batch(TUESDAY) for p in after.plan.placements)
    change = changes_by_order(after)["wed"]
    assert f"batch {batch(TUESDAY)} failed QC" in change.reason


# -- lane cancelled --------------------------------------------------------------------------------


@BOTH_PLANNERS
def test_a_cancelled_lane_moves_the_dose_that_would_have_left_on_it(
    planner: str, catalogue: Catalogue
) -> None:
    now = utc(TUESDAY, 0)
    event = LaneCancelled("ivrea-leeds", utc(WEDNESDAY, 0), utc(THURSDAY, 0), "air traffic control strike")
    before, after = replanned(planner, catalogue, [event], now)
    assert_in_flight_kept(before, after.plan, now)
    assert_put(before, after.plan, "tue", "wed", "fri")
    moved = placed(after.plan, "thu")
    assert moved.departs_at.astimezone(ROME).date() != WEDNESDAY
    (change,) = after.changes
    assert (change.order_id, change.kind) == ("thu", "moved")
    assert change.reason == event.describe()
    assert change.reason.startswith("lane ivrea-leeds cancelled from 2027-03-10")


@BOTH_PLANNERS
def test_an_in_flight_dose_never_leaves_on_a_cancelled_departure(planner: str, catalogue: Catalogue) -> None:
    """Tuesday's batch has started (06:00 UTC) and Tuesday's 13:00 UTC departure is cancelled."""
    event = LaneCancelled("ivrea-leeds", utc(TUESDAY, 12), utc(TUESDAY, 14), "flight cancelled")
    _, after = replanned(planner, catalogue, [event], utc(TUESDAY, 6))
    wed = after.plan.placement_of("wed")
    assert wed is None or wed.departs_at != utc(TUESDAY, 13)
    assert event.describe() in changes_by_order(after)["wed"].reason


# -- lane delayed ----------------------------------------------------------------------------------


@BOTH_PLANNERS
def test_a_late_lane_re_seats_an_in_flight_dose_at_a_later_session(
    planner: str, catalogue: Catalogue, pluvicto: TherapyProduct
) -> None:
    """Monday's departure lands 5 h late, at 14:00 on Tuesday: too late for Tuesday 13:00, so
    the same dose is given at the next free session, Wednesday 08:00, 19 h after it was
    filled for and still within ±10 % (6.81 of 7.4 GBq)."""
    now = utc(MONDAY, 12)
    event = LaneDelayed("ivrea-leeds", utc(MONDAY, 12), utc(TUESDAY, 0), timedelta(hours=5), "fog")
    before, after = replanned(planner, catalogue, [event], now)
    assert_put(before, after.plan, "wed", "thu", "fri")
    old, new = placed(before, "tue"), placed(after.plan, "tue")
    assert new.appointment_at == at(WEDNESDAY, 8)
    assert new.dose_of == "tue"
    assert (new.batch_id, new.departs_at, new.calibration_activity) == (
        old.batch_id,
        old.departs_at,
        old.calibration_activity,
    )
    assert new.arrives_at == old.arrives_at + timedelta(hours=5)
    low, high = pluvicto.tolerance_band(new.order.prescribed)
    given = new.dose(pluvicto).activity_at(new.administration_at)
    assert low.bq <= given.bq <= high.bq
    (change,) = after.changes
    assert (change.order_id, change.kind) == ("tue", "dose re-seated")
    assert change.reason.startswith("lane ivrea-leeds 5 h late from 2027-03-08")


@BOTH_PLANNERS
def test_a_late_lane_moves_a_dose_not_yet_made_to_one_that_arrives_in_time(
    planner: str, catalogue: Catalogue
) -> None:
    """Wednesday's departure lands at 14:00 on Thursday, after Thursday 13:00 has started:
    Thursday's patient is given Tuesday's batch at Thursday 08:00 instead."""
    now = utc(TUESDAY, 0)
    event = LaneDelayed("ivrea-leeds", utc(WEDNESDAY, 0), utc(THURSDAY, 0), timedelta(hours=5))
    before, after = replanned(planner, catalogue, [event], now)
    assert_in_flight_kept(before, after.plan, now)
    assert_put(before, after.plan, "tue", "wed", "fri")
    moved = placed(after.plan, "thu")
    assert moved.appointment_at - moved.arrives_at >= timedelta(hours=1)
    (change,) = after.changes
    assert (change.order_id, change.kind) == ("thu", "moved")
    assert change.reason == event.describe()


@BOTH_PLANNERS
def test_an_in_flight_dose_a_little_late_keeps_its_session_and_arrives_late(
    planner: str, catalogue: Catalogue
) -> None:
    event = LaneDelayed("ivrea-leeds", utc(MONDAY, 12), utc(TUESDAY, 0), timedelta(hours=2))
    before, after = replanned(planner, catalogue, [event], utc(MONDAY, 12))
    old, new = placed(before, "tue"), placed(after.plan, "tue")
    assert new.appointment_at == old.appointment_at
    assert new.arrives_at == old.arrives_at + timedelta(hours=2)


# -- order cancelled -------------------------------------------------------------------------------


def with_a_waiting_receiver() -> list[DoseOrder]:
    """The week, with Thursday's patient able to come from Wednesday on."""
    orders = the_weeks_orders()
    orders[2] = dose_order("thu", at(THURSDAY, 13), earliest_at=at(WEDNESDAY, 0))
    return orders


@BOTH_PLANNERS
def test_a_cancelled_patients_made_dose_goes_to_another_patient(
    planner: str, catalogue: Catalogue, pluvicto: TherapyProduct
) -> None:
    """Wednesday's patient cancels at 06:00 on Tuesday, after Tuesday's batch has started:
    their dose goes to Thursday's patient, who can come on Wednesday, at Wednesday 13:00."""
    now = utc(TUESDAY, 6)
    event = OrderCancelled("wed", "patient withdrew consent")
    before, after = replanned(planner, catalogue, [event], now, orders=with_a_waiting_receiver())
    assert after.plan.placement_of("wed") is None
    assert "wed" not in {u.order.order_id for u in after.plan.unplanned}
    assert_in_flight_kept(before, after.plan, now, "wed")
    assert_put(before, after.plan, "tue", "fri")
    freed, receiver = placed(before, "wed"), placed(after.plan, "thu")
    assert receiver.dose_of == "wed"
    assert (receiver.batch_id, receiver.departs_at, receiver.calibration_activity) == (
        freed.batch_id,
        freed.departs_at,
        freed.calibration_activity,
    )
    assert receiver.appointment_at == freed.appointment_at
    assert receiver.dose(pluvicto).activity_at(receiver.administration_at).gbq == pytest.approx(7.4)
    assert {p.batch_id for p in after.plan.placements} < {p.batch_id for p in before.placements}
    changes = changes_by_order(after)
    assert (changes["wed"].kind, changes["wed"].reason) == ("cancelled", "order wed cancelled")
    assert changes["thu"].kind == "dose reassigned"
    assert changes["thu"].reason == "takes the dose of order wed (order wed cancelled)"


@BOTH_PLANNERS
def test_a_cancellation_before_the_batch_starts_frees_nothing_and_moves_no_one(
    planner: str, catalogue: Catalogue
) -> None:
    now = utc(TUESDAY, 0)
    before, after = replanned(planner, catalogue, [OrderCancelled("thu")], now)
    assert after.plan.placement_of("thu") is None
    assert_put(before, after.plan, "tue", "wed", "fri")
    assert all(p.dose_of is None for p in after.plan.placements)
    assert [(c.order_id, c.kind) for c in after.changes] == [("thu", "cancelled")]


# -- no-show ---------------------------------------------------------------------------------------


def no_show_orders() -> list[DoseOrder]:
    """The week, with a fifth patient, unconfirmed, preferring Friday morning but able to come
    from Wednesday on: planned at Friday 13:00 from Thursday's batch, their dose is not made
    yet at Wednesday 13:30, and they are first in line (by preferred time) for a freed dose."""
    return [
        *the_weeks_orders(),
        dose_order("fri-early", at(FRIDAY, 8), earliest_at=at(WEDNESDAY, 0)),
    ]


@BOTH_PLANNERS
def test_a_no_shows_dose_goes_to_a_patient_who_can_receive_it_within_tolerance(
    planner: str, catalogue: Catalogue, pluvicto: TherapyProduct
) -> None:
    """Wednesday's patient does not come to 13:00. Their dose, filled for 7.4 GBq at 13:00,
    holds 6.81 GBq at Thursday 08:00 (within ±10 %), the first session after `now` with a
    chair free: the Friday-08:00 patient gets it there, with no new batch."""
    now = utc(WEDNESDAY, 13) + timedelta(minutes=30)
    event = NoShow("wed", "patient in hospital elsewhere")
    before, after = replanned(planner, catalogue, [event], now, orders=no_show_orders())
    assert_in_flight_kept(before, after.plan, now, "wed")
    assert_put(before, after.plan, "tue", "thu", "fri")
    freed = placed(before, "wed")
    receiver = placed(after.plan, "fri-early")
    assert receiver.dose_of == "wed"
    assert receiver.appointment_at == at(THURSDAY, 8)
    assert (receiver.batch_id, receiver.calibration_activity) == (freed.batch_id, freed.calibration_activity)
    assert {p.batch_id for p in after.plan.placements} <= {p.batch_id for p in before.placements}
    low, high = pluvicto.tolerance_band(receiver.order.prescribed)
    given = receiver.dose(pluvicto).activity_at(receiver.administration_at)
    assert low.bq <= given.bq <= high.bq
    assert given.gbq == pytest.approx(6.81, abs=0.01)
    changes = changes_by_order(after)
    assert changes["wed"].kind == "cancelled"
    assert changes["wed"].reason == "the patient of order wed did not come"
    assert changes["fri-early"].kind == "dose reassigned"
    assert "takes the dose of order wed" in changes["fri-early"].reason
    assert set(changes) == {"wed", "fri-early"}


@BOTH_PLANNERS
def test_a_no_shows_dose_never_moves_a_confirmed_patient_who_can_stay_put(
    planner: str, catalogue: Catalogue
) -> None:
    """The same no-show with no unconfirmed patient to take the dose: it is wasted, and
    Friday's confirmed patient keeps Friday 13:00."""
    now = utc(WEDNESDAY, 13) + timedelta(minutes=30)
    before, after = replanned(planner, catalogue, [NoShow("wed")], now)
    assert_put(before, after.plan, "tue", "thu", "fri")
    assert [(c.order_id, c.kind) for c in after.changes] == [("wed", "cancelled")]


# -- centre closed ---------------------------------------------------------------------------------


@BOTH_PLANNERS
def test_a_closed_centre_moves_that_days_patient_to_another_day(planner: str, catalogue: Catalogue) -> None:
    now = utc(TUESDAY, 0)
    event = CentreClosed("leeds", THURSDAY, "air handling failure")
    before, after = replanned(planner, catalogue, [event], now)
    assert_in_flight_kept(before, after.plan, now)
    assert_put(before, after.plan, "tue", "wed", "fri")
    moved = placed(after.plan, "thu")
    assert moved.appointment_at.astimezone(LONDON).date() != THURSDAY
    assert moved.delay_reason == (
        "preferred day 2027-03-11: the centre is closed (weekend, public holiday or closure) that day"
    )
    (change,) = after.changes
    assert (change.order_id, change.kind, change.reason) == (
        "thu",
        "moved",
        "centre leeds closed on 2027-03-11",
    )


@BOTH_PLANNERS
def test_a_closed_centre_re_seats_a_dose_already_on_its_way(
    planner: str, catalogue: Catalogue, pluvicto: TherapyProduct
) -> None:
    """Closed on Tuesday, with Tuesday's dose made and leaving: it is given on Wednesday
    08:00, still within tolerance; the rest of the week stays put."""
    now = utc(MONDAY, 12)
    event = CentreClosed("leeds", TUESDAY, "snow")
    before, after = replanned(planner, catalogue, [event], now)
    assert_put(before, after.plan, "wed", "thu", "fri")
    old, new = placed(before, "tue"), placed(after.plan, "tue")
    assert (new.batch_id, new.arrives_at) == (old.batch_id, old.arrives_at)
    assert new.appointment_at == at(WEDNESDAY, 8)
    assert new.dose_of == "tue"
    low, _ = pluvicto.tolerance_band(new.order.prescribed)
    assert new.dose(pluvicto).activity_at(new.administration_at).bq >= low.bq
    (change,) = after.changes
    assert (change.order_id, change.kind) == ("tue", "dose re-seated")
    assert change.reason == "centre leeds closed on 2027-03-09; the same dose at a new session"


@BOTH_PLANNERS
def test_a_re_seated_dose_off_its_preferred_day_says_why(planner: str, catalogue: Catalogue) -> None:
    _, after = replanned(planner, catalogue, [CentreClosed("leeds", TUESDAY)], utc(MONDAY, 12))
    new = placed(after.plan, "tue")
    assert new.appointment_at.date() != TUESDAY
    assert new.delay_reason is not None
    assert "2027-03-09" in new.delay_reason
