"""The network domain: calendars, reactors, sites, lanes, centres and demand, without files."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from rltnet.domain.errors import UnknownName
from rltnet.domain.network import (
    EARTH_RADIUS_KM,
    Calendar,
    DemandArea,
    GeoPoint,
    Incidence,
    IrradiationCycle,
    Lane,
    Licence,
    Network,
    OpeningHours,
    Outage,
    PetScanner,
    ProductionSite,
    Reactor,
    StaffMember,
    StaffRole,
    TreatmentCentre,
    nearest,
)
from rltnet.domain.products import Weekday
from rltnet.domain.units import Activity

LONDON = ZoneInfo("Europe/London")
ROME = ZoneInfo("Europe/Rome")
WEEKDAYS = frozenset(Weekday(d) for d in range(5))
MONDAY = date(2026, 3, 2)
CHRISTMAS = date(2026, 12, 25)  # a Friday


class FakeHolidays:
    """Holidays from a plain dict, standing in for the `holidays` package."""

    def __init__(self, days: dict[date, str]) -> None:
        self.days = days

    def __contains__(self, day: object) -> bool:
        return day in self.days

    def get(self, key: date, default: str | None = None) -> str | None:
        return self.days.get(key, default)


def calendar(zone: ZoneInfo = LONDON) -> Calendar:
    return Calendar("GB-ENG", zone, FakeHolidays({CHRISTMAS: "Christmas Day"}))


def reactor(reactor_id: str = "petten", outages: tuple[Outage, ...] = (), gbq: float = 900) -> Reactor:
    return Reactor(
        reactor_id=reactor_id,
        name="High Flux Reactor",
        location=GeoPoint(52.7867, 4.6796),
        nuclides=("Lu-177",),
        delivery=Activity.from_gbq(gbq),
        delivery_weekdays=frozenset({Weekday.MONDAY, Weekday.THURSDAY}),
        cycles=(
            IrradiationCycle(date(2026, 1, 5), date(2026, 1, 28)),
            IrradiationCycle(date(2026, 2, 2), date(2026, 3, 27)),
        ),
        outages=outages,
    )


def site(site_id: str = "ivrea", reactors: tuple[str, ...] = ("petten",)) -> ProductionSite:
    return ProductionSite(
        site_id=site_id,
        name="AAA Ivrea",
        location=GeoPoint(45.4672, 7.8762),
        calendar=calendar(ROME),
        products=("lu177-vipivotide-tetraxetan",),
        production_weekdays=WEEKDAYS,
        batch_times=(time(6, 0), time(14, 0)),
        doses_per_batch=120,
        qc_release=timedelta(hours=8),
        reactors=reactors,
    )


def practitioner(expires_on: date = date(2029, 3, 31)) -> StaffMember:
    return StaffMember(
        staff_id="ap-1",
        role=StaffRole.AUTHORISED_PRACTITIONER,
        weekdays=frozenset({Weekday.MONDAY, Weekday.WEDNESDAY}),
        licences=(Licence("ARSAC practitioner licence", ("Lu-177",), expires_on),),
    )


def centre(staff: tuple[StaffMember, ...] = ()) -> TreatmentCentre:
    return TreatmentCentre(
        centre_id="leeds",
        name="Leeds",
        location=GeoPoint(53.7965, -1.5478),
        region="North East and Yorkshire",
        calendar=calendar(),
        chairs=4,
        bed_kind="chair",
        hours=OpeningHours(WEEKDAYS, time(8, 0), time(18, 0)),
        daily_activity_limit=Activity.from_gbq(60),
        mdt_weekday=Weekday.WEDNESDAY,
        products=("lu177-vipivotide-tetraxetan",),
        staff=staff,
        pet_scanners=(
            PetScanner("pet-1", ("ga68-gozetotide", "ga68-dotatate"), 8),
            PetScanner("pet-2", ("ga68-dotatate", "f18-piflufolastat"), 6),
        ),
    )


def network(*sites: ProductionSite, reactors: tuple[Reactor, ...] = ()) -> Network:
    lane = Lane("ivrea-leeds", "ivrea", "leeds", "air", timedelta(hours=22), (time(15, 0),), WEEKDAYS, 0.97)
    return Network(
        name="test",
        description="",
        reactors={r.reactor_id: r for r in reactors or (reactor(),)},
        sites={s.site_id: s for s in sites or (site(),)},
        lanes={lane.lane_id: lane},
        centres={"leeds": centre()},
        demand_areas=(
            DemandArea("london", "London", GeoPoint(51.5085, -0.1257), 9_000_000, "London"),
            DemandArea("leeds", "Leeds", GeoPoint(53.7965, -1.5478), 500_000, "Yorkshire"),
        ),
        incidence=(
            Incidence("GEP-NET", 4.0, 0.25, "lu177-oxodotreotide", "test"),
            Incidence("mCRPC", 10.0, 0.1, "lu177-vipivotide-tetraxetan", "test"),
            Incidence("mCRPC, second line", 2.0, 0.5, "lu177-vipivotide-tetraxetan", "test"),
        ),
    )


def test_a_point_is_no_distance_from_itself() -> None:
    leeds = GeoPoint(53.7965, -1.5478)
    assert leeds.distance_km(leeds) == 0.0


def test_one_degree_of_latitude_is_a_360th_of_a_meridian_circle() -> None:
    one_degree_km = 2 * math.pi * EARTH_RADIUS_KM / 360  # 111.195 km
    assert GeoPoint(50.0, -1.0).distance_km(GeoPoint(51.0, -1.0)) == pytest.approx(one_degree_km)


def test_distance_is_the_same_both_ways() -> None:
    london, manchester = GeoPoint(51.5085, -0.1257), GeoPoint(53.4809, -2.2374)
    assert london.distance_km(manchester) == pytest.approx(manchester.distance_km(london))
    assert round(london.distance_km(manchester)) == 262


def test_the_nearest_place_is_chosen_and_none_for_no_places() -> None:
    leeds = GeoPoint(53.7965, -1.5478)
    places = [(GeoPoint(51.5085, -0.1257), "london"), (GeoPoint(53.4809, -2.2374), "manchester")]
    assert nearest(leeds, places) == "manchester"
    assert nearest(leeds, []) is None


def test_a_calendar_gives_local_wall_clock_instants() -> None:
    summer = calendar().at(date(2026, 7, 1), time(9, 0))
    winter = calendar().at(MONDAY, time(9, 0))
    assert summer == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)  # BST
    assert winter == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # GMT


def test_a_calendar_reads_the_local_date_of_an_instant() -> None:
    late_evening_utc = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    assert calendar(LONDON).local_date(late_evening_utc) == date(2026, 7, 2)
    assert calendar(ROME).local_date(late_evening_utc) == date(2026, 7, 2)
    assert Calendar("US", ZoneInfo("America/New_York"), FakeHolidays({})).local_date(
        late_evening_utc
    ) == date(2026, 7, 1)


def test_a_reactor_operates_only_inside_its_cycles() -> None:
    petten = reactor()
    assert petten.is_operating(date(2026, 1, 5))
    assert petten.is_operating(date(2026, 1, 28))
    assert not petten.is_operating(date(2026, 1, 29))  # between cycles
    assert not petten.is_operating(date(2026, 4, 1))  # after the last


def test_a_reactor_delivers_on_its_delivery_weekdays_while_operating() -> None:
    petten = reactor()
    assert petten.delivers_on(date(2026, 1, 5)) == Activity.from_gbq(900)  # Monday
    assert petten.delivers_on(date(2026, 1, 8)) == Activity.from_gbq(900)  # Thursday
    assert petten.delivers_on(date(2026, 1, 6)) == Activity(0.0)  # Tuesday
    assert petten.delivers_on(date(2026, 2, 2)) == Activity.from_gbq(900)  # Monday, cycle 2


def test_a_reactor_delivers_nothing_during_an_outage() -> None:
    leak = Outage(datetime(2026, 2, 9, tzinfo=UTC), datetime(2026, 2, 20, tzinfo=UTC), "primary leak")
    petten = reactor(outages=(leak,))
    assert petten.delivers_on(date(2026, 2, 9)) == Activity(0.0)  # Monday, first day out
    assert petten.delivers_on(date(2026, 2, 19)) == Activity(0.0)  # Thursday, last day out
    assert petten.delivers_on(date(2026, 2, 23)) == Activity.from_gbq(900)  # back


def test_an_outage_of_a_few_hours_stops_deliveries_that_day() -> None:
    trip = Outage(datetime(2026, 2, 9, 8, tzinfo=UTC), datetime(2026, 2, 9, 14, tzinfo=UTC), "scram")
    petten = reactor(outages=(trip,))
    assert petten.delivers_on(date(2026, 2, 9)) == Activity(0.0)  # Monday, stopped 08-14
    assert petten.delivers_on(date(2026, 2, 12)) == Activity.from_gbq(900)  # Thursday


def test_isotope_supply_is_shared_evenly_among_the_sites_a_reactor_serves() -> None:
    shared = network(site("ivrea"), site("zaragoza"))
    assert shared.isotope_supply("ivrea", MONDAY) == Activity.from_gbq(450)
    assert shared.isotope_supply("zaragoza", MONDAY) == Activity.from_gbq(450)


def test_isotope_supply_adds_up_over_the_reactors_of_a_site() -> None:
    two = network(
        site("ivrea", reactors=("petten", "maria")),
        reactors=(reactor("petten"), reactor("maria", gbq=300)),
    )
    assert two.isotope_supply("ivrea", MONDAY) == Activity.from_gbq(1200)
    assert two.isotope_supply("ivrea", date(2026, 3, 3)) == Activity(0.0)  # Tuesday


def test_a_site_starts_its_batches_at_local_times_on_working_days() -> None:
    ivrea = site()
    assert ivrea.batch_starts(MONDAY) == [
        datetime(2026, 3, 2, 6, 0, tzinfo=ROME),
        datetime(2026, 3, 2, 14, 0, tzinfo=ROME),
    ]
    assert ivrea.batch_starts(MONDAY)[0] == datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
    assert ivrea.batch_starts(date(2026, 3, 7)) == []  # Saturday
    assert ivrea.batch_starts(CHRISTMAS) == []  # a holiday


def test_a_lane_departs_at_its_cut_offs_on_working_days_of_the_site() -> None:
    lane = network().lanes["ivrea-leeds"]
    assert lane.departures(MONDAY, calendar(ROME)) == [datetime(2026, 3, 2, 15, 0, tzinfo=ROME)]
    assert lane.departures(date(2026, 3, 8), calendar(ROME)) == []  # Sunday
    assert lane.departures(CHRISTMAS, calendar(ROME)) == []


def test_a_centre_opens_on_its_days_except_holidays() -> None:
    leeds = centre()
    assert leeds.opening(MONDAY) == (
        datetime(2026, 3, 2, 8, 0, tzinfo=LONDON),
        datetime(2026, 3, 2, 18, 0, tzinfo=LONDON),
    )
    assert leeds.opening(date(2026, 3, 7)) is None
    assert not leeds.is_open(CHRISTMAS)


def test_only_staff_on_duty_with_a_valid_licence_are_authorised() -> None:
    leeds = centre(staff=(practitioner(expires_on=date(2026, 3, 4)),))
    assert [s.staff_id for s in leeds.authorised_on(MONDAY, "Lu-177")] == ["ap-1"]
    assert leeds.authorised_on(date(2026, 3, 3), "Lu-177") == []  # Tuesday: off duty
    assert leeds.authorised_on(date(2026, 3, 4), "Lu-177") != []  # last valid day
    assert leeds.authorised_on(date(2026, 3, 9), "Lu-177") == []  # licence expired
    assert leeds.authorised_on(MONDAY, "Ra-223") == []  # not covered


def test_licences_expiring_soon_are_listed() -> None:
    leeds = centre(staff=(practitioner(expires_on=date(2026, 4, 1)),))
    assert len(leeds.licences_expiring(timedelta(days=31), MONDAY)) == 1
    assert leeds.licences_expiring(timedelta(days=7), MONDAY) == []


def test_a_centre_lists_the_tracers_of_all_its_scanners() -> None:
    assert centre().pet_tracers() == {"ga68-gozetotide", "ga68-dotatate", "f18-piflufolastat"}


def test_an_unknown_centre_or_site_is_refused_listing_the_choices() -> None:
    with pytest.raises(UnknownName, match="unknown treatment centre 'leds'; use one of: leeds"):
        network().centre("leds")
    with pytest.raises(UnknownName, match="unknown production site 'ivre'; use one of: ivrea"):
        network().site("ivre")


def test_lanes_and_centres_are_found_by_centre_and_product() -> None:
    net = network()
    assert [lane.lane_id for lane in net.lanes_to("leeds")] == ["ivrea-leeds"]
    assert net.lanes_to("london") == []
    assert [c.centre_id for c in net.centres_offering("lu177-vipivotide-tetraxetan")] == ["leeds"]
    assert net.centres_offering("ra223-dichloride") == []


def test_yearly_patients_are_population_times_rate_times_eligible_share() -> None:
    net = network()
    people = 9_000_000 + 500_000
    assert net.population() == people
    expected = net.yearly_patients()
    assert expected["lu177-oxodotreotide"] == pytest.approx(people * 4.0 / 100_000 * 0.25)  # 95
    assert expected["lu177-vipivotide-tetraxetan"] == pytest.approx(
        people * (10.0 * 0.1 + 2.0 * 0.5) / 100_000
    )  # 190
