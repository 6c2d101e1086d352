"""The plan checker passes the planner's plans and catches a hand-broken plan of each kind.

The network is built here in code, mirroring the conftest network document (one
reactor, Ivrea and Zaragoza, Leeds and the Royal Free), with an authorised
practitioner at the Royal Free too, so that both centres take patients. Each
test breaks one rule of a valid plan, by changing a placement or the network
under it, and expects the checker to name exactly that rule and the order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rltnet.domain import decay
from rltnet.domain.network import (
    Calendar,
    GeoPoint,
    IrradiationCycle,
    Lane,
    Licence,
    Network,
    OpeningHours,
    Outage,
    ProductionSite,
    Reactor,
    StaffMember,
    StaffRole,
    TreatmentCentre,
)
from rltnet.domain.orders import DoseOrder
from rltnet.domain.products import Catalogue, TherapyProduct, Weekday
from rltnet.domain.units import Activity
from rltnet.planning import checker
from rltnet.planning.checker import HANDOVER, RULES, Violation, check_plan
from rltnet.planning.exact import ExactPlanner
from rltnet.planning.greedy import EarliestDeadlineFirst, FastPlanner, FirstComeFirstServed, Planner
from rltnet.planning.plan import Placement, Plan, Unplanned
from rltnet.planning.problem import PlanningProblem

PLANNERS: dict[str, Planner] = {
    "fcfs": FirstComeFirstServed(),
    "edf": EarliestDeadlineFirst(),
    "fast": FastPlanner(),
    "exact": ExactPlanner(),
}


def make_plan(
    network: Network, catalogue: Catalogue, orders: Sequence[DoseOrder], planner: str = "fast"
) -> Plan:
    """The plan under test: the one place the planners are called."""
    problem = PlanningProblem(network, catalogue, tuple(orders), time_limit_s=5.0)
    return PLANNERS[planner].plan(problem)


PLUVICTO = "lu177-vipivotide-tetraxetan"
LUTATHERA = "lu177-oxodotreotide"
LONDON = ZoneInfo("Europe/London")
ROME = ZoneInfo("Europe/Rome")
MADRID = ZoneInfo("Europe/Madrid")
MON_FRI = frozenset(Weekday(d) for d in range(5))
TUESDAY = date(2026, 3, 10)
WEDNESDAY = date(2026, 3, 11)
PLACED_AT = datetime(2026, 2, 23, 9, 0, tzinfo=UTC)


class Holidays:
    """Public holidays from a plain dict, standing in for the `holidays` package."""

    def __init__(self, days: dict[date, str]) -> None:
        self.days = days

    def __contains__(self, day: object) -> bool:
        return day in self.days

    def get(self, key: date, default: str | None = None) -> str | None:
        return self.days.get(key, default)


ENGLAND = Calendar(
    "GB-ENG",
    LONDON,
    Holidays({date(2026, 4, 3): "Good Friday", date(2026, 4, 6): "Easter Monday"}),
)
ITALY = Calendar(
    "IT", ROME, Holidays({date(2026, 4, 6): "Easter Monday", date(2026, 4, 25): "Liberation Day"})
)
SPAIN = Calendar(
    "ES", MADRID, Holidays({date(2026, 4, 2): "Maundy Thursday", date(2026, 4, 3): "Good Friday"})
)


def weekdays(*names: str) -> frozenset[Weekday]:
    return frozenset(Weekday[name.upper()] for name in names)


def practitioner(staff_id: str, licence_expires_on: date = date(2029, 3, 31)) -> StaffMember:
    licence = Licence("ARSAC practitioner licence", ("Lu-177",), licence_expires_on)
    return StaffMember(staff_id, StaffRole.AUTHORISED_PRACTITIONER, MON_FRI, (licence,))


def small_network() -> Network:
    """The conftest network document as domain objects (Royal Free staffed, both products)."""
    first_cycle = date(2026, 1, 5)
    petten = Reactor(
        reactor_id="hfr-petten",
        name="High Flux Reactor, Petten",
        location=GeoPoint(52.7867, 4.6796),
        nuclides=("Lu-177",),
        delivery=Activity.from_gbq(900),
        delivery_weekdays=weekdays("monday", "thursday"),
        cycles=tuple(
            IrradiationCycle(first_cycle + timedelta(days=28 * k), first_cycle + timedelta(days=28 * k + 23))
            for k in range(13)
        ),
        outages=(
            Outage(
                datetime(2026, 2, 9, tzinfo=ROME),
                datetime(2026, 2, 20, tzinfo=ROME),
                "primary circuit leak",
            ),
        ),
    )
    ivrea = ProductionSite(
        site_id="ivrea",
        name="AAA Ivrea",
        location=GeoPoint(45.4672, 7.8762),
        calendar=ITALY,
        products=(PLUVICTO, LUTATHERA),
        production_weekdays=MON_FRI,
        batch_times=(time(6, 0),),
        doses_per_batch=120,
        qc_release=timedelta(hours=8),
        reactors=("hfr-petten",),
    )
    zaragoza = ProductionSite(
        site_id="zaragoza",
        name="AAA Zaragoza",
        location=GeoPoint(41.6488, -0.8891),
        calendar=SPAIN,
        products=(LUTATHERA,),
        production_weekdays=weekdays("tuesday", "thursday"),
        batch_times=(time(5, 30), time(13, 0)),
        doses_per_batch=60,
        qc_release=timedelta(hours=6),
        reactors=("hfr-petten",),
    )
    lanes = (
        Lane("ivrea-leeds", "ivrea", "leeds", "air", timedelta(hours=22), (time(15),), MON_FRI, 0.97),
        Lane(
            "ivrea-london",
            "ivrea",
            "london-rfh",
            "air",
            timedelta(hours=20),
            (time(14), time(16, 30)),
            MON_FRI,
            0.98,
        ),
        Lane(
            "zaragoza-london",
            "zaragoza",
            "london-rfh",
            "road",
            timedelta(hours=30),
            (time(12),),
            weekdays("tuesday", "thursday"),
            0.9,
        ),
    )
    leeds = TreatmentCentre(
        centre_id="leeds",
        name="Leeds (St James's University Hospital)",
        location=GeoPoint(53.7965, -1.5478),
        region="North East and Yorkshire",
        calendar=ENGLAND,
        chairs=4,
        bed_kind="chair",
        hours=OpeningHours(MON_FRI, time(8), time(18)),
        daily_activity_limit=Activity.from_gbq(60),
        mdt_weekday=Weekday.WEDNESDAY,
        products=(LUTATHERA, PLUVICTO),
        staff=(practitioner("leeds-ap-1"),),
    )
    london = TreatmentCentre(
        centre_id="london-rfh",
        name="London (Royal Free Hospital)",
        location=GeoPoint(51.5533, -0.1652),
        region="London",
        calendar=ENGLAND,
        chairs=2,
        bed_kind="shielded_bed",
        hours=OpeningHours(weekdays("monday", "tuesday", "wednesday", "thursday"), time(9), time(17)),
        daily_activity_limit=Activity.from_gbq(30),
        mdt_weekday=Weekday.TUESDAY,
        products=(PLUVICTO, LUTATHERA),
        staff=(practitioner("london-ap-1"),),
    )
    return Network(
        name="Test network",
        description="A small network for the checker tests.",
        reactors={petten.reactor_id: petten},
        sites={site.site_id: site for site in (ivrea, zaragoza)},
        lanes={lane.lane_id: lane for lane in lanes},
        centres={centre.centre_id: centre for centre in (leeds, london)},
    )


def dose_order(
    order_id: str,
    product: TherapyProduct,
    centre_id: str,
    preferred_at: datetime,
    *,
    earliest_at: datetime = datetime(2026, 3, 9, tzinfo=UTC),
    latest_at: datetime = datetime(2026, 3, 20, 23, tzinfo=UTC),
    placed_at: datetime = PLACED_AT,
) -> DoseOrder:
    return DoseOrder(
        order_id=order_id,
        patient_id=f"P-{order_id}",
        product_id=product.product_id,
        cycle=1,
        centre_id=centre_id,
        earliest_at=earliest_at,
        latest_at=latest_at,
        preferred_at=preferred_at,
        prescribed=product.prescribe(weight_kg=80),
        placed_at=placed_at,
        weight_kg=80,
    )


@pytest.fixture(scope="module")
def network() -> Network:
    return small_network()


@pytest.fixture(scope="module")
def orders(pluvicto: TherapyProduct, lutathera: TherapyProduct) -> tuple[DoseOrder, ...]:
    """Three Pluvicto patients wanting Leeds at 09:00 on Tuesday (one batch, three chairs),
    a Lutathera patient there on Wednesday, and two Pluvicto patients at the Royal Free."""
    tuesday_9 = datetime.combine(TUESDAY, time(9), tzinfo=LONDON)
    return (
        dose_order("leeds-a", pluvicto, "leeds", tuesday_9),
        dose_order("leeds-b", pluvicto, "leeds", tuesday_9),
        dose_order("leeds-c", pluvicto, "leeds", tuesday_9),
        dose_order("leeds-d", lutathera, "leeds", datetime.combine(WEDNESDAY, time(13), LONDON)),
        dose_order("london-e", pluvicto, "london-rfh", datetime(2026, 3, 12, 10, tzinfo=LONDON)),
        dose_order("london-f", pluvicto, "london-rfh", datetime(2026, 3, 11, 9, tzinfo=LONDON)),
    )


@pytest.fixture(scope="module")
def plan(network: Network, catalogue: Catalogue, orders: tuple[DoseOrder, ...]) -> Plan:
    return make_plan(network, catalogue, orders)


# -- helpers ---------------------------------------------------------------------------------


def placement(plan: Plan, order_id: str) -> Placement:
    return next(p for p in plan.placements if p.order.order_id == order_id)


def with_placement(plan: Plan, changed: Placement) -> Plan:
    """`plan` with the placement of `changed`'s order replaced by `changed`."""
    order_id = changed.order.order_id
    return replace(
        plan,
        placements=tuple(changed if p.order.order_id == order_id else p for p in plan.placements),
    )


def with_site(network: Network, site: ProductionSite) -> Network:
    return replace(network, sites={**network.sites, site.site_id: site})


def with_centre(network: Network, centre: TreatmentCentre) -> Network:
    return replace(network, centres={**network.centres, centre.centre_id: centre})


def rebatched(placement: Placement, batch_start_at: datetime, network: Network) -> Placement:
    """`placement` from a batch starting at `batch_start_at`, consistent in every other way:
    the batch's name and QC release, and a vial filled for the same administration."""
    site = network.site(placement.site_id)
    local_start = batch_start_at.astimezone(site.calendar.time_zone)
    return replace(
        placement,
        batch_id=f"{site.site_id}-{local_start:%Y%m%d-%H%M}",
        batch_start_at=batch_start_at,
        released_at=batch_start_at.astimezone(UTC) + site.qc_release,
        calibration_activity=filled_for(placement, batch_start_at),
    )


def filled_for(placement: Placement, calibration_at: datetime) -> Activity:
    """The activity that decays to the prescribed activity at the planned administration."""
    lu177 = decay.nuclide("Lu-177")
    return decay.calibration_activity_for(
        lu177,
        placement.order.prescribed,
        placement.administration_at.astimezone(UTC),
        calibration_at.astimezone(UTC),
    )


def rules(violations: list[Violation]) -> set[str]:
    return {v.rule for v in violations}


def named(violations: list[Violation]) -> set[str | None]:
    return {v.order_id for v in violations}


# -- the valid plan ----------------------------------------------------------------------------


def test_the_planners_plan_breaks_no_rule(
    plan: Plan, network: Network, catalogue: Catalogue, orders: tuple[DoseOrder, ...]
) -> None:
    assert len(plan.placements) == len(orders), plan.unplanned
    assert check_plan(plan, network, catalogue, orders) == []


def test_the_three_tuesday_patients_share_a_batch_and_sit_side_by_side(plan: Plan) -> None:
    """The breaks below rely on this shape of the valid plan."""
    trio = [placement(plan, f"leeds-{x}") for x in "abc"]
    assert len({p.batch_id for p in trio}) == 1
    assert len({p.appointment_at for p in trio}) == 1
    assert sorted(p.chair for p in trio) == [1, 2, 3]


def test_every_rule_family_has_a_check_that_states_it() -> None:
    for rule in RULES:
        check = getattr(checker, f"_check_{rule}")
        assert check.__doc__ and check.__doc__.strip()


def test_a_violation_reads_as_a_sentence_naming_rule_and_order() -> None:
    violation = Violation("chairs", "leeds-a", "chair 5 does not exist at leeds")
    assert str(violation) == "chairs (order leeds-a): chair 5 does not exist at leeds"


# -- orders --------------------------------------------------------------------------------------


def test_an_order_missing_from_the_plan_is_reported(
    plan: Plan,
    network: Network,
    catalogue: Catalogue,
    orders: tuple[DoseOrder, ...],
    pluvicto: TherapyProduct,
) -> None:
    forgotten = dose_order("leeds-z", pluvicto, "leeds", datetime(2026, 3, 16, 9, tzinfo=UTC))
    violations = check_plan(plan, network, catalogue, (*orders, forgotten))
    assert rules(violations) == {"orders"}
    assert named(violations) == {"leeds-z"}


def test_an_order_both_placed_and_left_unplanned_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue, orders: tuple[DoseOrder, ...]
) -> None:
    twice = replace(plan, unplanned=(*plan.unplanned, Unplanned(orders[0], "no chair free")))
    violations = check_plan(twice, network, catalogue, orders)
    assert rules(violations) == {"orders"}
    assert named(violations) == {"leeds-a"}
    assert "1 placed, 1 unplanned" in violations[0].detail


def test_an_order_changed_on_its_way_into_the_plan_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue, orders: tuple[DoseOrder, ...]
) -> None:
    original = placement(plan, "leeds-b")
    changed = replace(original, order=replace(original.order, patient_id="someone-else"))
    violations = check_plan(with_placement(plan, changed), network, catalogue, orders)
    assert rules(violations) == {"orders"}
    assert named(violations) == {"leeds-b"}
    assert "patient_id" in violations[0].detail


# -- product -------------------------------------------------------------------------------------


def test_a_dose_for_a_centre_that_does_not_give_the_product_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    leeds = network.centre("leeds")
    no_lutathera = with_centre(network, replace(leeds, products=(PLUVICTO,)))
    violations = check_plan(plan, no_lutathera, catalogue)
    assert rules(violations) == {"product"}
    assert named(violations) == {"leeds-d"}


def test_a_dose_made_at_a_site_that_does_not_make_the_product_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    ivrea = network.site("ivrea")
    no_pluvicto = with_site(network, replace(ivrea, products=(LUTATHERA,)))
    violations = check_plan(plan, no_pluvicto, catalogue)
    assert rules(violations) == {"product"}
    assert named(violations) == {p.order.order_id for p in plan.placements if p.order.product_id == PLUVICTO}


def test_a_dose_from_a_site_not_in_the_network_is_reported_once(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    unknown = replace(placement(plan, "leeds-c"), site_id="petten-hot-lab")
    violations = check_plan(with_placement(plan, unknown), network, catalogue)
    assert [(v.rule, v.order_id) for v in violations] == [("product", "leeds-c")]
    assert "petten-hot-lab" in violations[0].detail


# -- production day ------------------------------------------------------------------------------


def test_a_batch_on_a_weekday_the_site_does_not_produce_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    ivrea = network.site("ivrea")
    batch_day = ivrea.calendar.local_date(placement(plan, "leeds-d").batch_start_at)
    closed = Weekday(batch_day.weekday())
    short_week = with_site(network, replace(ivrea, production_weekdays=MON_FRI - {closed}))
    violations = check_plan(plan, short_week, catalogue)
    assert rules(violations) == {"production_day"}
    assert "leeds-d" in named(violations)
    assert all(
        ivrea.calendar.local_date(placement(plan, str(v.order_id)).batch_start_at).weekday() == closed
        for v in violations
    )


def test_a_batch_at_an_hour_the_site_starts_none_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    original = placement(plan, "leeds-d")
    early = rebatched(original, original.batch_start_at - timedelta(hours=1), network)
    violations = check_plan(with_placement(plan, early), network, catalogue)
    assert rules(violations) == {"production_day"}
    assert named(violations) == {"leeds-d"}
    assert "06:00" in violations[0].detail


def test_a_batch_with_the_wrong_name_is_reported(plan: Plan, network: Network, catalogue: Catalogue) -> None:
    renamed = replace(placement(plan, "london-e"), batch_id="ivrea-batch-7")
    violations = check_plan(with_placement(plan, renamed), network, catalogue)
    assert rules(violations) == {"production_day"}
    assert named(violations) == {"london-e"}


# -- QC release ----------------------------------------------------------------------------------


def test_a_release_before_the_qc_time_has_passed_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    original = placement(plan, "leeds-a")
    hasty = replace(original, released_at=original.released_at - timedelta(hours=1))
    violations = check_plan(with_placement(plan, hasty), network, catalogue)
    assert rules(violations) == {"qc_release"}
    assert named(violations) == {"leeds-a"}


def test_a_dose_leaving_before_its_release_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    original = placement(plan, "leeds-d")
    held = replace(original, released_at=original.departs_at + timedelta(hours=1))
    violations = check_plan(with_placement(plan, held), network, catalogue)
    assert rules(violations) == {"qc_release"}
    assert named(violations) == {"leeds-d"}
    assert any("before its QC release" in v.detail for v in violations)


# -- lane ----------------------------------------------------------------------------------------


def test_a_departure_that_is_not_at_a_cut_off_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    original = placement(plan, "leeds-a")
    minute = timedelta(minutes=1)
    assert original.released_at <= original.departs_at - minute
    early = replace(
        original, departs_at=original.departs_at - minute, arrives_at=original.arrives_at - minute
    )
    violations = check_plan(with_placement(plan, early), network, catalogue)
    assert rules(violations) == {"lane"}
    assert named(violations) == {"leeds-a"}
    assert "15:00" in violations[0].detail


def test_a_dose_on_a_lane_to_another_centre_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    misrouted = replace(placement(plan, "leeds-d"), lane_id="ivrea-london")
    violations = check_plan(with_placement(plan, misrouted), network, catalogue)
    assert rules(violations) == {"lane"}
    assert named(violations) == {"leeds-d"}


def test_an_arrival_that_does_not_match_the_transit_time_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    original = placement(plan, "london-e")
    quick = replace(original, arrives_at=original.arrives_at - timedelta(hours=2))
    violations = check_plan(with_placement(plan, quick), network, catalogue)
    assert rules(violations) == {"lane"}
    assert named(violations) == {"london-e"}


# -- handover ------------------------------------------------------------------------------------


def test_a_dose_arriving_after_its_appointment_has_started_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    original = placement(plan, "leeds-a")
    lane = network.lanes[original.lane_id]
    ivrea = network.site("ivrea")
    appointment_day = original.appointment_at.astimezone(LONDON).date()
    departs_at = lane.departures(appointment_day, ivrea.calendar)[0]  # arrives the next day
    late = replace(original, departs_at=departs_at, arrives_at=departs_at + lane.transit)
    violations = check_plan(with_placement(plan, late), network, catalogue)
    assert rules(violations) == {"handover"}
    assert named(violations) == {"leeds-a"}


def test_the_handover_time_is_a_parameter(plan: Plan, network: Network, catalogue: Catalogue) -> None:
    tightest = min(p.appointment_at - p.arrives_at for p in plan.placements)
    assert check_plan(plan, network, catalogue, handover=tightest) == []
    longer = check_plan(plan, network, catalogue, handover=tightest + timedelta(minutes=1))
    assert rules(longer) == {"handover"}
    assert tightest >= HANDOVER


# -- centre hours --------------------------------------------------------------------------------


def test_an_appointment_on_a_public_holiday_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    leeds = network.centre("leeds")
    holiday = Calendar("GB-ENG", LONDON, Holidays({WEDNESDAY: "a new bank holiday"}))
    violations = check_plan(plan, with_centre(network, replace(leeds, calendar=holiday)), catalogue)
    assert rules(violations) == {"centre_hours"}
    assert named(violations) == {"leeds-d"}
    assert "a new bank holiday" in violations[0].detail


def test_an_appointment_running_past_closing_time_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    original = placement(plan, "leeds-d")
    closes_at = original.appointment_end_at.astimezone(LONDON) - timedelta(minutes=30)
    leeds = network.centre("leeds")
    earlier = replace(leeds, hours=replace(leeds.hours, closes=closes_at.time()))
    violations = check_plan(plan, with_centre(network, earlier), catalogue)
    assert rules(violations) == {"centre_hours"}
    assert "leeds-d" in named(violations)


def test_an_appointment_shorter_than_the_products_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    original = placement(plan, "london-e")
    short = replace(original, appointment_end_at=original.appointment_end_at - timedelta(hours=1))
    violations = check_plan(with_placement(plan, short), network, catalogue)
    assert rules(violations) == {"centre_hours"}
    assert named(violations) == {"london-e"}


def test_a_lutathera_dose_given_before_the_amino_acids_have_run_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    original = placement(plan, "leeds-d")
    hurried = replace(original, administration_at=original.appointment_at)
    hurried = replace(hurried, calibration_activity=filled_for(hurried, hurried.batch_start_at))
    violations = check_plan(with_placement(plan, hurried), network, catalogue)
    assert rules(violations) == {"centre_hours"}
    assert named(violations) == {"leeds-d"}


# -- staff ---------------------------------------------------------------------------------------


def test_an_appointment_after_the_only_licence_has_expired_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    leeds = network.centre("leeds")
    expired = replace(leeds, staff=(practitioner("leeds-ap-1", licence_expires_on=TUESDAY),))
    violations = check_plan(plan, with_centre(network, expired), catalogue)
    assert rules(violations) == {"staff"}
    assert named(violations) == {"leeds-d"}


# -- chairs --------------------------------------------------------------------------------------


def test_a_chair_the_centre_does_not_have_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    phantom = replace(placement(plan, "leeds-b"), chair=network.centre("leeds").chairs + 1)
    violations = check_plan(with_placement(plan, phantom), network, catalogue)
    assert rules(violations) == {"chairs"}
    assert named(violations) == {"leeds-b"}


def test_two_patients_on_one_chair_at_once_are_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    first, second = placement(plan, "leeds-a"), placement(plan, "leeds-b")
    doubled = replace(second, chair=first.chair)
    violations = check_plan(with_placement(plan, doubled), network, catalogue)
    assert rules(violations) == {"chairs"}
    assert named(violations) == {"leeds-b"}
    assert "order leeds-a has it" in violations[0].detail


# -- batch capacity ------------------------------------------------------------------------------


def test_a_batch_holding_more_doses_than_the_site_makes_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    doses = Counter(p.batch_id for p in plan.placements)
    fullest = placement(plan, "leeds-a").batch_id
    assert doses[fullest] == max(doses.values()) >= 3
    capacity = doses[fullest] - 1
    assert all(n <= capacity for batch_id, n in doses.items() if batch_id != fullest)
    ivrea = network.site("ivrea")
    violations = check_plan(plan, with_site(network, replace(ivrea, doses_per_batch=capacity)), catalogue)
    in_batch = sorted(p.order.order_id for p in plan.placements if p.batch_id == fullest)
    assert rules(violations) == {"batch_capacity"}
    assert named(violations) == {in_batch[capacity]}
    assert f"holds {doses[fullest]} doses" in violations[0].detail


# -- isotope -------------------------------------------------------------------------------------


def test_doses_drawing_more_isotope_than_the_reactor_delivered_are_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    petten = network.reactors["hfr-petten"]
    trickle = replace(petten, delivery=Activity.from_gbq(10))
    starved = replace(network, reactors={petten.reactor_id: trickle})
    violations = check_plan(plan, starved, catalogue)
    assert rules(violations) == {"isotope"}
    assert None not in named(violations)
    assert named(violations) <= {p.order.order_id for p in plan.placements}


def test_isotope_left_over_from_earlier_deliveries_still_counts_after_decay(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    """The plan draws about 60 GBq; 30 GBq twice a week, kept and decaying, covers it."""
    drawn = sum(p.calibration_activity.gbq for p in plan.placements)
    assert 40 < drawn < 80
    petten = network.reactors["hfr-petten"]
    modest = replace(petten, delivery=Activity.from_gbq(60))  # 30 GBq to each site
    assert check_plan(plan, replace(network, reactors={"hfr-petten": modest}), catalogue) == []


# -- activity limit ------------------------------------------------------------------------------


def test_more_activity_at_a_centre_in_a_day_than_its_permit_allows_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    leeds = network.centre("leeds")
    tight = replace(leeds, daily_activity_limit=Activity.from_gbq(20))
    violations = check_plan(plan, with_centre(network, tight), catalogue)
    assert rules(violations) == {"activity_limit"}
    assert named(violations) == {"leeds-c"}
    assert "22.2 GBq" in violations[0].detail


# -- dose ----------------------------------------------------------------------------------------


def test_a_dose_outside_its_activity_tolerance_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    original = placement(plan, "london-e")
    weak = replace(original, calibration_activity=original.calibration_activity * 0.7)
    violations = check_plan(with_placement(plan, weak), network, catalogue)
    assert rules(violations) == {"dose"}
    assert named(violations) == {"london-e"}
    assert any("tolerance" in v.detail for v in violations)


def test_a_dose_not_filled_for_its_prescribed_activity_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    original = placement(plan, "leeds-a")
    rich = replace(original, calibration_activity=original.calibration_activity * 1.01)
    violations = check_plan(with_placement(plan, rich), network, catalogue)
    assert rules(violations) == {"dose"}
    assert named(violations) == {"leeds-a"}
    assert "not the prescribed 7.4 GBq" in violations[0].detail


def test_a_dose_given_after_its_expiry_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue, lutathera: TherapyProduct
) -> None:
    leeds_d = placement(plan, "leeds-d")
    lead = leeds_d.administration_at - leeds_d.batch_start_at
    short_lived = replace(lutathera, shelf_life=lead - timedelta(minutes=5))
    shorter = replace(catalogue, therapies={**catalogue.therapies, LUTATHERA: short_lived})
    violations = check_plan(plan, network, shorter)
    assert rules(violations) == {"dose"}
    assert named(violations) == {
        p.order.order_id
        for p in plan.placements
        if p.order.product_id == LUTATHERA and p.administration_at - p.batch_start_at > short_lived.shelf_life
    }
    assert "leeds-d" in named(violations)
    assert all("expiry" in v.detail for v in violations)


def test_a_vial_filled_beyond_its_largest_volume_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue, lutathera: TherapyProduct
) -> None:
    original = placement(plan, "leeds-d")
    assert lutathera.vial is not None
    most = lutathera.vial.concentration_per_ml * lutathera.vial.max_volume_ml
    # an earlier batch the same morning would need more than the largest vial holds
    lead_for_most = decay.time_to_decay(lutathera.nuclide, most, original.order.prescribed)
    too_early = original.administration_at - lead_for_most - timedelta(hours=1)
    overfull = replace(original, calibration_activity=filled_for(original, too_early))
    violations = check_plan(with_placement(plan, overfull), network, catalogue)
    assert rules(violations) == {"dose"}
    assert named(violations) == {"leeds-d"}
    assert any("fill" in v.detail for v in violations)


# -- order window --------------------------------------------------------------------------------


def test_a_dose_given_outside_the_orders_window_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    original = placement(plan, "leeds-d")
    latest_at = original.administration_at - timedelta(hours=1)
    hurried_order = replace(
        original.order,
        earliest_at=latest_at - timedelta(days=2),
        preferred_at=latest_at - timedelta(days=2),
        latest_at=latest_at,
    )
    violations = check_plan(with_placement(plan, replace(original, order=hurried_order)), network, catalogue)
    assert rules(violations) == {"order_window"}
    assert named(violations) == {"leeds-d"}


def test_a_batch_started_before_the_order_was_placed_is_reported(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    original = placement(plan, "leeds-d")
    late_order = replace(original.order, placed_at=original.batch_start_at + timedelta(minutes=1))
    violations = check_plan(with_placement(plan, replace(original, order=late_order)), network, catalogue)
    assert rules(violations) == {"order_window"}
    assert named(violations) == {"leeds-d"}


# -- every plan the planner makes passes ---------------------------------------------------------

FIRST_DAY = datetime(2026, 2, 2, tzinfo=UTC)  # the Petten outage, Easter and a clock change ahead


@st.composite
def order_books(draw: st.DrawFn, catalogue: Catalogue) -> tuple[DoseOrder, ...]:
    """Up to 16 orders at either centre for Lutathera or Pluvicto, over about two months."""
    count = draw(st.integers(min_value=1, max_value=16))
    books = []
    for k in range(count):
        product = catalogue.therapy(draw(st.sampled_from(["Lutathera", "Pluvicto"])))
        centre_id = draw(st.sampled_from(["leeds", "london-rfh"]))
        earliest_at = FIRST_DAY + timedelta(days=draw(st.integers(0, 42)), hours=draw(st.integers(0, 23)))
        window = timedelta(days=draw(st.integers(7, 28)))
        preferred_at = earliest_at + window * draw(st.floats(0, 1))
        books.append(
            dose_order(
                f"o{k}",
                product,
                centre_id,
                preferred_at,
                earliest_at=earliest_at,
                latest_at=earliest_at + window,
                placed_at=earliest_at - timedelta(days=14),
            )
        )
    return tuple(books)


@st.composite
def networks(draw: st.DrawFn) -> Network:
    """The small network, at times short of isotope or of doses per batch, so that the
    planner's capacities bind."""
    network = small_network()
    petten = network.reactors["hfr-petten"]
    delivery = Activity.from_gbq(draw(st.sampled_from([900, 60, 20])))
    doses_per_batch = draw(st.sampled_from([120, 2, 1]))
    return replace(
        network,
        reactors={petten.reactor_id: replace(petten, delivery=delivery)},
        sites={
            site_id: replace(site, doses_per_batch=doses_per_batch) for site_id, site in network.sites.items()
        },
    )


@settings(max_examples=30, deadline=None)
@given(data=st.data(), planner=st.sampled_from(sorted(PLANNERS)))
def test_every_plan_any_planner_makes_passes_the_checker(
    data: st.DataObject, planner: str, catalogue: Catalogue
) -> None:
    network = data.draw(networks())
    orders = data.draw(order_books(catalogue))
    plan = make_plan(network, catalogue, orders, planner)
    assert check_plan(plan, network, catalogue, orders) == []


# -- planner bugs the checker found --------------------------------------------------------------


def test_a_dose_filled_across_a_clock_change_holds_the_prescribed_activity(
    network: Network, catalogue: Catalogue, pluvicto: TherapyProduct
) -> None:
    ivrea_in_london = replace(network.site("ivrea"), calendar=ENGLAND)
    same_zone = with_site(network, ivrea_in_london)
    monday_after_the_change = datetime(2026, 3, 30, 8, tzinfo=LONDON)  # BST from 29 March
    order = dose_order(
        "leeds-dst",
        pluvicto,
        "leeds",
        monday_after_the_change,
        earliest_at=monday_after_the_change,
        latest_at=monday_after_the_change + timedelta(hours=5),
    )
    plan = make_plan(same_zone, catalogue, [order])
    placed = placement(plan, "leeds-dst")
    assert placed.batch_start_at.astimezone(UTC) < datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert check_plan(plan, same_zone, catalogue, [order]) == []
