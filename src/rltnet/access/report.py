"""One network's access report: travel times, coverage, accessibility, burden, reachability.

Puts the pure kernels together for a network, its areas and a travel-time matrix
to its centres; returns plain frozen data that the command line prints, maps and
writes as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from rltnet.access import measures
from rltnet.access.areas import Areas, FloatArray
from rltnet.access.reachability import Reach, reachability
from rltnet.access.travel import DEFAULT_MODEL, TravelModel, estimated_minutes, great_circle_km, nearest
from rltnet.domain.errors import UnknownName
from rltnet.domain.network import Network
from rltnet.domain.products import Catalogue

# Enhanced 2SFCA defaults, ASSUMED: a 120-minute catchment (the longest band reported)
# with Gaussian decay of sigma 45 minutes (weight 0.61 at 45 min, 0.03 at 120 min).
CATCHMENT_MIN = 120.0
GAUSSIAN_SIGMA_MIN = 45.0
PER_PEOPLE = 100_000


@dataclass(frozen=True)
class GroupRow:
    """Figures for a group of areas (a region, a rurality class, or all)."""

    group: str
    areas: int
    population: float
    patients_per_year: float
    mean_minutes: float  # population-weighted, to the nearest centre giving the therapy
    mean_pet_minutes: float
    shares_within: dict[float, float]  # of population
    patient_shares_within: dict[float, float]
    chairs_per_100k: float  # mean E2SFCA, population-weighted
    burden_hours_per_patient: float
    burden_hours_total: float


@dataclass(frozen=True)
class IndicationAccess:
    """Access to one therapy (one indication of the network's demand)."""

    indication: str
    product_id: str
    centres: tuple[str, ...]  # centres that give the product
    pet_centres: tuple[str, ...]  # centres with a matching PET tracer
    minutes: FloatArray  # per area, to the nearest centre giving the therapy
    nearest_centre: tuple[str, ...]
    pet_minutes: FloatArray
    patients: FloatArray  # expected new patients a year per area
    chairs_e2sfca: FloatArray  # chairs per 100,000 people, per area
    pet_e2sfca: FloatArray  # PET scanners per 100,000 people, per area
    burden_hours: FloatArray  # per patient, whole course
    burden_km: FloatArray
    visits: measures.CourseVisits
    overall: GroupRow
    by_region: tuple[GroupRow, ...]
    by_rurality: tuple[GroupRow, ...]


@dataclass(frozen=True)
class AccessReport:
    network: str
    mode: str
    travel_source: str
    areas: Areas
    centre_ids: tuple[str, ...]
    centre_lat: FloatArray
    centre_lon: FloatArray
    indications: tuple[IndicationAccess, ...]
    reach: tuple[Reach, ...]


def _group(
    label: str,
    mask: np.ndarray[Any, np.dtype[np.bool_]],
    areas: Areas,
    minutes: FloatArray,
    pet_minutes: FloatArray,
    patients: FloatArray,
    chairs: FloatArray,
    burden: FloatArray,
) -> GroupRow:
    people = areas.population[mask]
    pts = patients[mask]
    total_burden = burden[mask] * pts
    return GroupRow(
        group=label,
        areas=int(mask.sum()),
        population=float(people.sum()),
        patients_per_year=float(pts.sum()),
        mean_minutes=measures.weighted_mean(minutes[mask], people),
        mean_pet_minutes=measures.weighted_mean(pet_minutes[mask], people),
        shares_within=measures.shares_within(minutes[mask], people),
        patient_shares_within=measures.shares_within(minutes[mask], pts),
        chairs_per_100k=measures.weighted_mean(chairs[mask], people),
        burden_hours_per_patient=measures.weighted_mean(burden[mask], pts),
        burden_hours_total=float(total_burden[np.isfinite(total_burden)].sum()),
    )


def centre_minutes(
    network: Network, areas: Areas, mode: str, model: TravelModel = DEFAULT_MODEL
) -> FloatArray:
    """Estimated minutes from every area to every centre (areas x centres, network order)."""
    centres = list(network.centres.values())
    return estimated_minutes(
        areas.latitude,
        areas.longitude,
        np.array([c.location.latitude for c in centres]),
        np.array([c.location.longitude for c in centres]),
        mode,
        model,
    )


def indications_of(network: Network, indication: str | None) -> list[tuple[str, str, float]]:
    """(indication, product id, patients per person-year) of the network's demand, or one of them."""
    found = [(r.indication, r.product_id, r.patients_per_person_year) for r in network.incidence]
    if indication is None:
        return found
    chosen = [f for f in found if indication.lower() in (f[0].lower(), f[1].lower())]
    if not chosen:
        raise UnknownName("indication", indication, [f[0] for f in found])
    return chosen


def build_report(
    network: Network,
    catalogue: Catalogue,
    areas: Areas,
    minutes: FloatArray,
    on: date,
    mode: str = "car",
    travel_source: str = "estimated",
    indication: str | None = None,
    model: TravelModel = DEFAULT_MODEL,
) -> AccessReport:
    """The report for `areas` with `minutes` (areas x centres, in the network's centre order)."""
    centres = list(network.centres.values())
    ids = tuple(c.centre_id for c in centres)
    lat = np.array([c.location.latitude for c in centres])
    lon = np.array([c.location.longitude for c in centres])
    # km for the burden: road km along the estimate; for a user's matrix, back from minutes is
    # not possible, so the straight line times the circuity factor.
    road_km = model.road_km(great_circle_km(areas.latitude, areas.longitude, lat, lon))
    weight = measures.gaussian(GAUSSIAN_SIGMA_MIN)
    origin, destination, pair_minutes = measures.pairs_of(minutes, CATCHMENT_MIN)
    results = []
    for name, product_id, per_person in indications_of(network, indication):
        product = catalogue.therapy(product_id)
        gives = np.array([product_id in c.products for c in centres], dtype=np.bool_)
        tracers = set(product.eligibility.imaging_agents)
        scans = np.array([bool(tracers & c.pet_tracers()) for c in centres], dtype=np.bool_)
        t_centre, k_centre = nearest(minutes, gives)
        t_pet, k_pet = nearest(minutes, scans)
        rows = np.arange(len(areas))
        km_centre = np.where(k_centre >= 0, road_km[rows, np.maximum(k_centre, 0)], np.inf)
        km_pet = np.where(k_pet >= 0, road_km[rows, np.maximum(k_pet, 0)], np.inf)
        visits = measures.CourseVisits(infusions=product.schedule.cycles)
        burden = measures.course_burden_hours(visits, t_centre, t_pet)
        burden_km = measures.course_burden_km(visits, km_centre, km_pet)
        patients = areas.population * areas.incidence * per_person
        chairs = np.array([c.chairs if g else 0 for c, g in zip(centres, gives, strict=True)], dtype=float)
        scanners = np.array(
            [sum(1 for s in c.pet_scanners if tracers & set(s.tracers)) for c in centres], dtype=float
        )
        e2_chairs = PER_PEOPLE * measures.two_step_fca(
            areas.population, chairs, origin, destination, pair_minutes, CATCHMENT_MIN, weight
        )
        e2_pet = PER_PEOPLE * measures.two_step_fca(
            areas.population, scanners, origin, destination, pair_minutes, CATCHMENT_MIN, weight
        )

        def group(label: str, mask: np.ndarray[Any, np.dtype[np.bool_]]) -> GroupRow:
            return _group(label, mask, areas, t_centre, t_pet, patients, e2_chairs, burden)  # noqa: B023

        results.append(
            IndicationAccess(
                indication=name,
                product_id=product_id,
                centres=tuple(np.asarray(ids)[gives].tolist()),
                pet_centres=tuple(np.asarray(ids)[scans].tolist()),
                minutes=t_centre,
                nearest_centre=tuple(ids[k] if k >= 0 else "" for k in k_centre.tolist()),
                pet_minutes=t_pet,
                patients=patients,
                chairs_e2sfca=e2_chairs,
                pet_e2sfca=e2_pet,
                burden_hours=burden,
                burden_km=burden_km,
                visits=visits,
                overall=group("all", np.ones(len(areas), dtype=np.bool_)),
                by_region=tuple(group(r, areas.region == r) for r in sorted(set(areas.region.tolist()))),
                by_rurality=tuple(
                    group(c, areas.rurality == c)
                    for c in ("urban", "town", "rural")
                    if (areas.rurality == c).any()
                ),
            )
        )
    return AccessReport(
        network=network.name,
        mode=mode,
        travel_source=travel_source,
        areas=areas,
        centre_ids=ids,
        centre_lat=lat,
        centre_lon=lon,
        indications=tuple(results),
        reach=tuple(reachability(network, catalogue, on)),
    )


def _finite(value: float) -> float | None:
    return round(value, 6) if np.isfinite(value) else None


def _row_json(row: GroupRow) -> dict[str, Any]:
    return {
        "group": row.group,
        "areas": row.areas,
        "population": round(row.population),
        "patients_per_year": round(row.patients_per_year, 3),
        "mean_minutes": _finite(row.mean_minutes),
        "mean_pet_minutes": _finite(row.mean_pet_minutes),
        "population_within": {f"{int(k)}_min": round(v, 6) for k, v in row.shares_within.items()},
        "patients_within": {f"{int(k)}_min": round(v, 6) for k, v in row.patient_shares_within.items()},
        "chairs_per_100k_e2sfca": _finite(row.chairs_per_100k),
        "burden_hours_per_patient": _finite(row.burden_hours_per_patient),
        "burden_hours_total": round(row.burden_hours_total, 1),
    }


def report_json(report: AccessReport, with_areas: bool = False) -> dict[str, Any]:
    """The report as JSON-ready data (per-area figures only when asked)."""
    out: dict[str, Any] = {
        "network": report.network,
        "mode": report.mode,
        "travel_times": report.travel_source,
        "areas": len(report.areas),
        "population": round(float(report.areas.population.sum())),
        "notes": list(report.areas.notes),
        "e2sfca": {
            "catchment_min": CATCHMENT_MIN,
            "gaussian_sigma_min": GAUSSIAN_SIGMA_MIN,
            "per_people": PER_PEOPLE,
        },
        "indications": [],
        "dose_reachability": [
            {
                "centre": r.centre_id,
                "product": r.product_id,
                "reachable": r.reachable,
                "margin_h": None if r.margin_h is None else round(r.margin_h, 2),
                "journey_h": None if r.journey_h is None else round(r.journey_h, 2),
                "lane": r.lane_id,
                "why_not": r.why_not,
            }
            for r in report.reach
        ],
    }
    for ind in report.indications:
        entry: dict[str, Any] = {
            "indication": ind.indication,
            "product": ind.product_id,
            "centres": list(ind.centres),
            "pet_centres": list(ind.pet_centres),
            "course_visits": {
                "pet": ind.visits.pet,
                "mdt": ind.visits.mdt,
                "infusions": ind.visits.infusions,
                "follow_ups": ind.visits.follow_ups,
            },
            "overall": _row_json(ind.overall),
            "by_region": [_row_json(r) for r in ind.by_region],
            "by_rurality": [_row_json(r) for r in ind.by_rurality],
        }
        if with_areas:
            entry["by_area"] = [
                {
                    "id": str(report.areas.area_id[i]),
                    "minutes": _finite(float(ind.minutes[i])),
                    "nearest_centre": ind.nearest_centre[i],
                    "pet_minutes": _finite(float(ind.pet_minutes[i])),
                    "chairs_per_100k": round(float(ind.chairs_e2sfca[i]), 6),
                    "burden_hours": _finite(float(ind.burden_hours[i])),
                }
                for i in range(len(report.areas))
            ]
        out["indications"].append(entry)
    return out
