"""Access measures over arrays: coverage, floating catchments, travel burden per course.

Travel times are minutes, populations people, capacities whatever the supply counts
(chairs, PET scanners). Every function is pure and vectorised.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rltnet.domain.errors import InvalidInput

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
WeightFn = Callable[[FloatArray], FloatArray]
THRESHOLDS_MIN = (30, 60, 90, 120)


def shares_within(
    minutes: FloatArray, people: FloatArray, thresholds: Sequence[float] = THRESHOLDS_MIN
) -> dict[float, float]:
    """Share of `people` whose travel time is at most each threshold.

    >>> shares_within(np.array([10.0, 45.0, 200.0]), np.array([1.0, 1.0, 2.0]), (30, 60))
    {30: 0.25, 60: 0.5}
    """
    total = float(people.sum())
    if total <= 0:
        return dict.fromkeys(thresholds, 0.0)
    return {t: float(people[minutes <= t].sum()) / total for t in thresholds}


def weighted_mean(values: FloatArray, weights: FloatArray) -> float:
    """Mean of the finite values weighted by `weights` (NaN when nothing is finite)."""
    finite = np.isfinite(values)
    w = weights[finite]
    return float((values[finite] * w).sum() / w.sum()) if w.sum() > 0 else float("nan")


def gaussian(sigma: float) -> WeightFn:
    """Gaussian distance decay exp(-t²/2 sigma²), 1 at 0 (as PySAL access's `weights.gaussian`).

    >>> gaussian(20.0)(np.array([0.0, 20.0])).round(6).tolist()
    [1.0, 0.606531]
    """
    if sigma <= 0:
        raise InvalidInput(f"a Gaussian decay needs sigma above 0 minutes, got {sigma}")
    return lambda t: np.exp(-t * t / (2.0 * sigma**2))


def stepwise(steps: Mapping[float, float]) -> WeightFn:
    """Stepwise decay: the weight of the first threshold at or above t, 0 beyond the last.

    As PySAL access's `weights.step_fn` (Luo and Qi 2009 used {10: 1, 20: 0.68, 30: 0.22}).

    >>> stepwise({10: 1.0, 20: 0.68, 30: 0.22})(np.array([0.0, 10.0, 15.0, 30.0, 31.0])).tolist()
    [1.0, 1.0, 0.68, 0.22, 0.0]
    """
    if any(w < 0 for w in steps.values()):
        raise InvalidInput("stepwise weights must be 0 or more")
    limits = np.array(sorted(steps), dtype=np.float64)
    weights = np.array([steps[k] for k in sorted(steps)] + [0.0], dtype=np.float64)
    return lambda t: weights[np.searchsorted(limits, t, side="left")]


def two_step_fca(
    demand: FloatArray,
    supply: FloatArray,
    origin: IntArray,
    destination: IntArray,
    minutes: FloatArray,
    max_minutes: float | None = None,
    weight: WeightFn | None = None,
) -> FloatArray:
    """Two-step floating catchment accessibility of each demand area (supply per person).

    Pairs (origin area, destination site, minutes) list the travel times; a pair
    counts when its time is at most `max_minutes`, weighted by `weight(minutes)`
    when given (enhanced 2SFCA). Step 1, each site's ratio
    R_j = S_j / Σ_i w_ij D_i; step 2, each area's access A_i = Σ_j w_ij R_j.
    Sites with no demand in reach add nothing; areas with no site in reach get 0.
    Same definition as PySAL access's `two_stage_fca` (Luo and Wang 2003; Luo and
    Qi 2009).

    >>> two_step_fca(np.array([100.0, 300.0]), np.array([4.0]), np.array([0, 1]),
    ...              np.array([0, 0]), np.array([10.0, 50.0]), max_minutes=60).tolist()
    [0.01, 0.01]
    """
    inside = np.ones(len(minutes), dtype=np.bool_) if max_minutes is None else minutes <= max_minutes
    o, d, t = origin[inside], destination[inside], minutes[inside]
    w = weight(t) if weight is not None else np.ones(len(t))
    reached = np.bincount(d, weights=w * demand[o], minlength=len(supply))
    ratio = np.divide(supply, reached, out=np.zeros(len(supply)), where=reached > 0)
    return np.bincount(o, weights=w * ratio[d], minlength=len(demand)).astype(np.float64)


def pairs_of(matrix: FloatArray, max_minutes: float | None = None) -> tuple[IntArray, IntArray, FloatArray]:
    """(origin, destination, minutes) of the finite cells of a dense matrix, within reach."""
    keep = np.isfinite(matrix) if max_minutes is None else matrix <= max_minutes
    origin, destination = np.nonzero(keep)
    return origin.astype(np.int64), destination.astype(np.int64), matrix[origin, destination]


@dataclass(frozen=True, slots=True)
class CourseVisits:
    """Journeys a patient makes for one whole course, each a round trip from home.

    PET: the eligibility scan (at the nearest matching PET). MDT: one clinic visit
    for the team's review and consent, ASSUMED (review can be remote). Infusions: one
    day per cycle, the label's cycles. Follow-ups: ASSUMED 2 clinic visits after the
    course (response assessment); the blood tests between cycles are taken locally.
    """

    pet: int = 1
    mdt: int = 1
    infusions: int = 4
    follow_ups: int = 2

    @property
    def at_centre(self) -> int:
        return self.mdt + self.infusions + self.follow_ups

    @property
    def total(self) -> int:
        return self.pet + self.at_centre


def course_burden_hours(
    visits: CourseVisits, centre_minutes: FloatArray, pet_minutes: FloatArray
) -> FloatArray:
    """Hours on the road for one whole course, per area (round trips, both ways).

    >>> course_burden_hours(CourseVisits(infusions=4), np.array([30.0]), np.array([60.0])).tolist()
    [9.0]
    """
    return (visits.at_centre * 2 * centre_minutes + visits.pet * 2 * pet_minutes) / 60.0


def course_burden_km(visits: CourseVisits, centre_road_km: FloatArray, pet_road_km: FloatArray) -> FloatArray:
    """Road km for one whole course, per area (round trips)."""
    return visits.at_centre * 2 * centre_road_km + visits.pet * 2 * pet_road_km
