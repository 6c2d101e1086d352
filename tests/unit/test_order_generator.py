"""The order generator: instances drawn from a network's demand, by the products' rules."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rltnet.domain.errors import InvalidInput
from rltnet.domain.network import (
    Calendar,
    DemandArea,
    GeoPoint,
    Incidence,
    IrradiationCycle,
    Lane,
    Network,
    OpeningHours,
    ProductionSite,
    Reactor,
    TreatmentCentre,
)
from rltnet.domain.orders import FIRST_CYCLE_HORIZON, DoseOrder, later_cycle_window
from rltnet.domain.products import Catalogue, PerKgActivity, Weekday
from rltnet.domain.units import Activity
from rltnet.planning.order_generator import (
    DEFAULT_ORDER_LEAD,
    PLATELETS_PER_MM3,
    WEIGHT_KG,
    demand_streams,
    generate_orders,
)

PLUVICTO = "lu177-vipivotide-tetraxetan"
LUTATHERA = "lu177-oxodotreotide"
XOFIGO = "ra223-dichloride"
ZEVALIN = "y90-ibritumomab-tiuxetan"
WEEKDAYS = frozenset({Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY})
CLINIC_DAYS = frozenset({Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY})
HOLIDAY = date(2027, 1, 13)  # a Wednesday: the MDT of 'north' does not meet


class FakeHolidays:
    """Holidays from a plain dict, standing in for the `holidays` package."""

    def __init__(self, days: dict[date, str]) -> None:
        self.days = days

    def __contains__(self, day: object) -> bool:
        return day in self.days

    def get(self, key: date, default: str | None = None) -> str | None:
        return self.days.get(key, default)


LONDON = Calendar("test-GB", ZoneInfo("Europe/London"), FakeHolidays({HOLIDAY: "test holiday"}))
NEW_YORK = Calendar("test-US", ZoneInfo("America/New_York"), FakeHolidays({}))
START = date(2027, 1, 4)


def centre(
    centre_id: str,
    where: GeoPoint,
    calendar: Calendar,
    products: tuple[str, ...],
    mdt: Weekday,
    hours: OpeningHours,
) -> TreatmentCentre:
    return TreatmentCentre(
        centre_id=centre_id,
        name=centre_id.title(),
        location=where,
        region="test",
        calendar=calendar,
        chairs=4,
        bed_kind="chair",
        hours=hours,
        daily_activity_limit=Activity.from_gbq(60),
        mdt_weekday=mdt,
        products=products,
    )


def build_network() -> Network:
    """Three centres in two time zones; Xofigo is dosed by weight and has no order lead time,
    Zevalin is dosed by weight and platelets and has one cycle."""
    full_day = OpeningHours(WEEKDAYS, time(8), time(18))
    centres = (
        centre(
            "north",
            GeoPoint(53.48, -2.24),
            LONDON,
            (PLUVICTO, LUTATHERA),
            Weekday.WEDNESDAY,
            full_day,
        ),
        centre(
            "south",
            GeoPoint(51.51, -0.13),
            LONDON,
            (PLUVICTO, XOFIGO, ZEVALIN),
            Weekday.TUESDAY,
            OpeningHours(CLINIC_DAYS, time(9), time(17)),
        ),
        centre(
            "east",
            GeoPoint(40.71, -74.01),
            NEW_YORK,
            (PLUVICTO, LUTATHERA),
            Weekday.THURSDAY,
            full_day,
        ),
    )
    reactor = Reactor(
        "reactor",
        "Reactor",
        GeoPoint(52.79, 4.68),
        ("Lu-177",),
        Activity.from_gbq(900),
        frozenset(Weekday),
        (IrradiationCycle(date(2026, 1, 1), date(2028, 12, 31)),),
    )
    site = ProductionSite(
        "site",
        "Site",
        GeoPoint(45.47, 7.88),
        LONDON,
        (PLUVICTO, LUTATHERA, XOFIGO, ZEVALIN),
        WEEKDAYS,
        (time(6),),
        100,
        timedelta(hours=6),
        ("reactor",),
    )
    lanes = {
        f"site-{c.centre_id}": Lane(
            f"site-{c.centre_id}",
            "site",
            c.centre_id,
            "air",
            timedelta(hours=20),
            (time(14),),
            WEEKDAYS,
            0.97,
        )
        for c in centres
    }
    areas = (
        DemandArea("manchester", "Manchester", GeoPoint(53.48, -2.25), 2_000_000, "test"),
        DemandArea("leeds", "Leeds", GeoPoint(53.80, -1.55), 800_000, "test"),
        DemandArea("london", "London", GeoPoint(51.50, -0.12), 8_000_000, "test"),
        DemandArea("brighton", "Brighton", GeoPoint(50.83, -0.14), 300_000, "test"),
        DemandArea("new-york", "New York", GeoPoint(40.71, -74.00), 8_300_000, "test"),
        DemandArea("newark", "Newark", GeoPoint(40.74, -74.17), 300_000, "test"),
    )
    incidence = (
        Incidence("mCRPC", 11.77, 0.3, PLUVICTO, "test"),
        Incidence("NET", 8.19, 0.15, LUTATHERA, "test"),
        Incidence("bone metastases", 10.0, 0.1, XOFIGO, "test"),
        Incidence("NHL", 5.0, 0.2, ZEVALIN, "test"),
    )
    return Network(
        name="Generator test",
        description="",
        reactors={"reactor": reactor},
        sites={"site": site},
        lanes=lanes,
        centres={c.centre_id: c for c in centres},
        demand_areas=areas,
        incidence=incidence,
    )


NETWORK = build_network()


def horizon(start_date: date, weeks: int) -> tuple[datetime, datetime]:
    start_at = datetime.combine(start_date, time(0), tzinfo=UTC)
    return start_at, start_at + timedelta(weeks=weeks)


def assert_follows_the_rules(
    orders: list[DoseOrder], network: Network, catalogue: Catalogue, start_date: date, weeks: int
) -> None:
    """Every rule an order drawn for this horizon must keep."""
    start_at, end_at = horizon(start_date, weeks)
    made = {p for s in network.sites.values() for p in s.products}
    assert [o.order_id for o in orders] == [f"O{n:06d}" for n in range(1, len(orders) + 1)]
    assert len({o.patient_id for o in orders}) == len(orders)
    for order in orders:
        product = catalogue.therapy(order.product_id)
        place = network.centre(order.centre_id)
        schedule, lead = product.schedule, product.ordering.lead_time
        assert order.product_id in made and order.product_id in place.products
        assert start_at <= order.preferred_at < end_at, order
        assert order.earliest_at <= order.preferred_at <= order.latest_at
        assert not order.confirmed
        for moment in (order.earliest_at, order.latest_at, order.preferred_at, order.placed_at):
            assert moment.tzinfo is not None and moment.microsecond == 0
        if order.cycle == 1:
            approved = order.placed_at.astimezone(place.calendar.time_zone)
            assert approved.time() == time(13) and approved.weekday() == place.mdt_weekday
            assert order.earliest_at == order.placed_at + (lead or timedelta(0))
            assert order.latest_at == order.earliest_at + FIRST_CYCLE_HORIZON
            assert order.preferred_at == order.earliest_at
        else:
            assert 2 <= order.cycle <= schedule.cycles
            previous_at = order.preferred_at - schedule.interval
            assert (order.earliest_at, order.latest_at) == later_cycle_window(product, previous_at)
            assert order.placed_at == min(
                order.preferred_at - (lead or DEFAULT_ORDER_LEAD), order.earliest_at
            )
            local = order.preferred_at.astimezone(place.calendar.time_zone)
            opening = place.opening(local.date())
            assert opening is not None and opening[0] <= order.preferred_at, order
            assert order.preferred_at + product.appointment <= opening[1], order
        if isinstance(product.activity, PerKgActivity):
            assert order.weight_kg is not None
            assert WEIGHT_KG[0] <= order.weight_kg <= WEIGHT_KG[1]
            assert order.weight_kg == round(order.weight_kg, 1)
            platelets = PLATELETS_PER_MM3 if product.activity.platelet_bands else None
            label = product.prescribe(order.weight_kg, platelets)
            assert abs(order.prescribed.bq - label.bq) <= 500  # recorded to the kBq
        else:
            assert order.weight_kg is None
            assert order.prescribed == product.prescribe()


@settings(max_examples=40, deadline=None)
@given(
    start_date=st.dates(date(2026, 1, 1), date(2028, 12, 31)),
    weeks=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_order_keeps_its_products_window_lead_time_and_cycle_rules(
    catalogue: Catalogue, start_date: date, weeks: int, seed: int
) -> None:
    orders = generate_orders(NETWORK, catalogue, start_date=start_date, weeks=weeks, seed=seed)
    assert orders
    assert_follows_the_rules(orders, NETWORK, catalogue, start_date, weeks)


@settings(max_examples=25, deadline=None)
@given(count=st.integers(0, 400), weeks=st.integers(1, 8), seed=st.integers(0, 1000))
def test_a_count_draws_exactly_that_many_orders_by_the_same_rules(
    catalogue: Catalogue, count: int, weeks: int, seed: int
) -> None:
    orders = generate_orders(NETWORK, catalogue, start_date=START, weeks=weeks, seed=seed, count=count)
    assert len(orders) == count
    assert_follows_the_rules(orders, NETWORK, catalogue, START, weeks)


def test_the_same_seed_draws_the_same_orders_and_another_seed_others(
    catalogue: Catalogue,
) -> None:
    def draw(seed: int) -> list[DoseOrder]:
        return generate_orders(NETWORK, catalogue, start_date=START, weeks=4, seed=seed)

    assert draw(7) == draw(7)
    assert draw(7) != draw(8)
    with_count = generate_orders(NETWORK, catalogue, start_date=START, weeks=4, seed=7, count=99)
    assert with_count == generate_orders(NETWORK, catalogue, start_date=START, weeks=4, seed=7, count=99)


def test_every_product_with_demand_that_is_made_and_given_is_drawn(catalogue: Catalogue) -> None:
    orders = generate_orders(NETWORK, catalogue, start_date=START, weeks=8, seed=1, count=1000)
    assert {o.product_id for o in orders} == {PLUVICTO, LUTATHERA, XOFIGO, ZEVALIN}
    assert all(o.cycle == 1 for o in orders if o.product_id == ZEVALIN)  # one cycle only


def test_products_no_site_makes_or_no_centre_gives_are_never_drawn(
    catalogue: Catalogue,
) -> None:
    site = dataclasses.replace(NETWORK.sites["site"], products=(PLUVICTO, LUTATHERA, XOFIGO))
    south = dataclasses.replace(NETWORK.centres["south"], products=(PLUVICTO, ZEVALIN))
    network = dataclasses.replace(NETWORK, sites={"site": site}, centres={**NETWORK.centres, "south": south})
    orders = generate_orders(network, catalogue, start_date=START, weeks=8, seed=1, count=500)
    assert {o.product_id for o in orders} == {PLUVICTO, LUTATHERA}
    assert_follows_the_rules(orders, network, catalogue, START, 8)


def expected_shares(catalogue: Catalogue) -> dict[str, float]:
    """Each drawn product's share of the doses: new patients a year times cycles."""
    yearly = NETWORK.yearly_patients()
    doses = {p: n * catalogue.therapy(p).schedule.cycles for p, n in yearly.items()}
    return {p: n / sum(doses.values()) for p, n in doses.items()}


def test_a_count_shares_the_orders_among_products_as_the_yearly_demand_does(
    catalogue: Catalogue,
) -> None:
    orders = generate_orders(NETWORK, catalogue, start_date=START, weeks=4, seed=3, count=3000)
    drawn = Counter(o.product_id for o in orders)
    for product_id, share in expected_shares(catalogue).items():
        assert drawn[product_id] / len(orders) == pytest.approx(share, abs=0.001)


def test_without_a_count_the_numbers_of_orders_follow_the_yearly_demand(
    catalogue: Catalogue,
) -> None:
    streams = demand_streams(NETWORK, catalogue, weeks=26)
    orders = generate_orders(NETWORK, catalogue, start_date=START, weeks=26, seed=5)
    assert len(orders) == pytest.approx(sum(s.expected for s in streams), rel=0.05)
    drawn = Counter(o.product_id for o in orders)
    for product_id, share in expected_shares(catalogue).items():
        assert drawn[product_id] / len(orders) == pytest.approx(share, abs=0.02)
    first = sum(s.expected for s in streams if not s.later_cycles)
    first_drawn = sum(o.cycle == 1 for o in orders)
    assert first_drawn == pytest.approx(first, rel=0.1)


def test_patients_go_to_the_nearest_centre_that_gives_their_product(
    catalogue: Catalogue,
) -> None:
    leeds_only = dataclasses.replace(
        NETWORK, demand_areas=(DemandArea("leeds", "Leeds", GeoPoint(53.8, -1.55), 10**7, "t"),)
    )
    orders = generate_orders(leeds_only, catalogue, start_date=START, weeks=4, seed=2, count=300)
    by_product = {(o.product_id, o.centre_id) for o in orders}
    # north (Manchester) is nearest for both Lu-177 products; only south gives the others.
    assert by_product == {
        (PLUVICTO, "north"),
        (LUTATHERA, "north"),
        (XOFIGO, "south"),
        (ZEVALIN, "south"),
    }


def test_an_mdt_meeting_on_a_public_holiday_approves_no_one(catalogue: Catalogue) -> None:
    # North's MDT meets on Wednesdays; a first cycle preferred in the two weeks from
    # 25 January was approved on 13 January (a holiday) or 20 January.
    orders = generate_orders(NETWORK, catalogue, start_date=date(2027, 1, 25), weeks=2, seed=4, count=400)
    approvals = {o.placed_at.date() for o in orders if o.cycle == 1 and o.centre_id == "north"}
    assert approvals == {date(2027, 1, 20)}


def test_with_only_a_holiday_meeting_in_the_horizon_the_holiday_meeting_is_used(
    catalogue: Catalogue,
) -> None:
    orders = generate_orders(NETWORK, catalogue, start_date=date(2027, 1, 25), weeks=1, seed=4, count=400)
    approvals = {o.placed_at.date() for o in orders if o.cycle == 1 and o.centre_id == "north"}
    assert approvals == {HOLIDAY}


def test_no_orders_can_be_drawn_for_less_than_a_week_or_a_negative_count(
    catalogue: Catalogue,
) -> None:
    with pytest.raises(InvalidInput, match="weeks must be 1 or more"):
        generate_orders(NETWORK, catalogue, start_date=START, weeks=0, seed=1)
    with pytest.raises(InvalidInput, match="count must be 0 or more"):
        generate_orders(NETWORK, catalogue, start_date=START, weeks=1, seed=1, count=-1)


def test_a_network_without_demand_draws_nothing_and_refuses_a_count(
    catalogue: Catalogue,
) -> None:
    no_demand = dataclasses.replace(NETWORK, incidence=())
    assert generate_orders(no_demand, catalogue, start_date=START, weeks=2, seed=1) == []
    with pytest.raises(InvalidInput, match="no demand"):
        generate_orders(no_demand, catalogue, start_date=START, weeks=2, seed=1, count=10)
