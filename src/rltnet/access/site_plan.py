"""Where k new centres help most for one therapy: candidates, dose reach, exact and greedy answers.

Demand is the expected new patients a year of each area. Candidates are the
user's sites, or by default every urban area (10,000+ people) at least 5 km from
a centre that already gives the therapy. A candidate has no lanes yet; ASSUMED: it
would be served by extending the best lane of the nearest centre giving the
product by road, so its dose margin is that centre's less the road hours between
them, and only candidates left with 0 h or more are offered.

Capacity (capacitated variant): ASSUMED 500 infusions a chair a year (250 working
days x 2 appointments of up to 5 h in a 10 h day); new sites get `new_chairs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from rltnet.access import measures, siting
from rltnet.access.areas import URBAN_MIN_PEOPLE, Areas, FloatArray
from rltnet.access.reachability import reach
from rltnet.access.report import indications_of
from rltnet.access.travel import DEFAULT_MODEL, TravelModel, estimated_minutes, great_circle_km
from rltnet.domain.errors import InvalidInput
from rltnet.domain.network import Network
from rltnet.domain.products import Catalogue

INFUSIONS_PER_CHAIR_YEAR = 500.0  # ASSUMED, see the module docstring
NEW_CHAIRS = 4  # ASSUMED size of a new centre
MIN_KM_FROM_CENTRE = 5.0


@dataclass(frozen=True)
class Candidates:
    site_id: tuple[str, ...]
    name: tuple[str, ...]
    latitude: FloatArray
    longitude: FloatArray


@dataclass(frozen=True)
class ChosenSite:
    site_id: str
    name: str
    latitude: float
    longitude: float
    patients_per_year: float  # patients whose nearest open site it becomes
    dose_margin_h: float


@dataclass(frozen=True)
class SitePlan:
    network: str
    indication: str
    product_id: str
    objective: str  # coverage | burden
    minutes_limit: float
    k: int
    capacitated: bool
    candidates: int
    reachable_candidates: int
    chosen: tuple[ChosenSite, ...]
    status: str
    patients_covered_before: float
    patients_covered_after: float
    people_covered_before: float
    people_covered_after: float
    burden_hours_before: float  # all patients of a year, whole courses
    burden_hours_after: float
    greedy_sites: tuple[str, ...]
    greedy_gap: float  # relative, 0 = the greedy answer is optimal


def default_candidates(areas: Areas, centre_lat: FloatArray, centre_lon: FloatArray) -> Candidates:
    """Urban areas at least MIN_KM_FROM_CENTRE from every centre giving the therapy."""
    urban = areas.rurality == "urban"
    far = np.ones(len(areas), dtype=np.bool_)
    if len(centre_lat):
        far = (
            great_circle_km(areas.latitude, areas.longitude, centre_lat, centre_lon).min(axis=1)
            >= MIN_KM_FROM_CENTRE
        )
    keep = urban & far & (areas.population >= URBAN_MIN_PEOPLE)
    return Candidates(
        tuple(areas.area_id[keep].tolist()),
        tuple(areas.name[keep].tolist()),
        areas.latitude[keep],
        areas.longitude[keep],
    )


def plan_sites(
    network: Network,
    catalogue: Catalogue,
    areas: Areas,
    k: int,
    on: date,
    objective: str = "coverage",
    minutes_limit: float = 90.0,
    indication: str | None = None,
    candidates: Candidates | None = None,
    capacitated: bool = False,
    new_chairs: int = NEW_CHAIRS,
    mode: str = "car",
    model: TravelModel = DEFAULT_MODEL,
    time_limit: float | None = None,
) -> SitePlan:
    """The k new sites; with `time_limit` (s) the p-median may stop at its best site set so far,
    and `status` says so (e.g. 'Time limit reached')."""
    if objective not in ("coverage", "burden"):
        raise InvalidInput(f"objective {objective!r}: use coverage or burden")
    if k < 1:
        raise InvalidInput(f"--add {k}: ask for 1 new centre or more")
    found = indications_of(network, indication)
    name, product_id, per_person = found[0]
    product = catalogue.therapy(product_id)
    centres = [c for c in network.centres.values() if product_id in c.products]
    c_lat = np.array([c.location.latitude for c in centres])
    c_lon = np.array([c.location.longitude for c in centres])
    cand = candidates if candidates is not None else default_candidates(areas, c_lat, c_lon)
    if not cand.site_id:
        raise InvalidInput("no candidate sites: give a --candidates file with id, lat and lon columns")
    # dose reach of each candidate: the nearest centre's margin less the road hours to it
    margins = np.array(
        [m if (m := reach(network, c, product, on).margin_h) is not None else -np.inf for c in centres]
    )
    if len(centres):
        between = estimated_minutes(cand.latitude, cand.longitude, c_lat, c_lon, "car", model)
        nearest_centre = np.argmin(between, axis=1)
        cand_margin = margins[nearest_centre] - between[np.arange(len(cand.site_id)), nearest_centre] / 60
    else:
        cand_margin = np.full(len(cand.site_id), -np.inf)
    ok = cand_margin >= 0
    if ok.sum() < k:
        raise InvalidInput(
            f"only {int(ok.sum())} of {len(cand.site_id)} candidates can receive {product_id} inside its "
            f"shelf life; ask for fewer new centres or give other candidates"
        )
    idx = np.flatnonzero(ok)
    demand = areas.population * areas.incidence * per_person
    t_new = estimated_minutes(
        areas.latitude, areas.longitude, cand.latitude[idx], cand.longitude[idx], mode, model
    )
    t_old = estimated_minutes(areas.latitude, areas.longitude, c_lat, c_lon, mode, model)
    already = siting.existing_cover(t_old, minutes_limit)
    if objective == "coverage":
        exact = siting.mclp(demand, t_new, minutes_limit, k, already)
        greedy = siting.mclp_greedy(demand, t_new, minutes_limit, k, already)
        exact_value = siting.coverage_of(demand, t_new, minutes_limit, exact.chosen, already)
        gap = siting.gap(exact_value, greedy.objective, maximise=True)
    else:
        capacity = np.full(len(idx), new_chairs * INFUSIONS_PER_CHAIR_YEAR) if capacitated else None
        existing_cap = (
            np.array([c.chairs * INFUSIONS_PER_CHAIR_YEAR for c in centres]) if capacitated else None
        )
        infusions = demand * product.schedule.cycles if capacitated else demand
        exact = siting.p_median(
            infusions, t_new, k, t_old, capacity, existing_cap, nearest_candidates=10, time_limit=time_limit
        )
        if not exact.chosen:
            raise InvalidInput(
                f"no way to serve every patient with {k} new centres of {new_chairs} chairs "
                f"({exact.status}); add more centres or chairs"
            )
        greedy = siting.p_median_greedy(demand, t_new, k, t_old)
        exact_uncap = siting.weighted_minutes(demand, t_new, exact.chosen, t_old)
        gap = siting.gap(exact_uncap, greedy.objective, maximise=False) if not capacitated else float("nan")
    chosen = exact.chosen
    visits = measures.CourseVisits(infusions=product.schedule.cycles)
    before = t_old.min(axis=1) if len(centres) else np.full(len(areas), np.inf)
    after = np.minimum(before, t_new[:, list(chosen)].min(axis=1)) if chosen else before
    # burden counts the therapy centre's visits only; PET is where it was
    hours_before = float((demand * visits.at_centre * 2 * before / 60)[np.isfinite(before)].sum())
    hours_after = float((demand * visits.at_centre * 2 * after / 60)[np.isfinite(after)].sum())
    nearest_new = np.argmin(t_new[:, list(chosen)], axis=1) if chosen else np.zeros(0, dtype=np.int64)
    goes_new = t_new[np.arange(len(areas)), np.asarray(chosen)[nearest_new]] < before if chosen else None
    sites = []
    for position, j in enumerate(chosen):
        gets = goes_new & (nearest_new == position) if goes_new is not None else np.zeros(0, dtype=np.bool_)
        g = int(idx[j])
        sites.append(
            ChosenSite(
                cand.site_id[g],
                cand.name[g],
                float(cand.latitude[g]),
                float(cand.longitude[g]),
                float(demand[gets].sum()),
                float(cand_margin[g]),
            )
        )
    people_before = float(areas.population[before <= minutes_limit].sum())
    people_after = float(areas.population[after <= minutes_limit].sum())
    return SitePlan(
        network=network.name,
        indication=name,
        product_id=product_id,
        objective=objective,
        minutes_limit=minutes_limit,
        k=k,
        capacitated=capacitated,
        candidates=len(cand.site_id),
        reachable_candidates=len(idx),
        chosen=tuple(sites),
        status=exact.status,
        patients_covered_before=float(demand[before <= minutes_limit].sum()),
        patients_covered_after=float(demand[after <= minutes_limit].sum()),
        people_covered_before=people_before,
        people_covered_after=people_after,
        burden_hours_before=hours_before,
        burden_hours_after=hours_after,
        greedy_sites=tuple(cand.site_id[int(idx[j])] for j in greedy.chosen),
        greedy_gap=gap,
    )
