"""Siting: MCLP and p-median optima equal spopt's; capacitated checked by brute force; greedy gap."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import highspy
import numpy as np
import pytest
from scipy.optimize import linprog

from rltnet.access import siting

pulp = pytest.importorskip("pulp")
spopt_locate = pytest.importorskip("spopt.locate")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pulp")


@pytest.fixture(autouse=True)
def _fresh_highs_threads() -> Iterator[None]:
    """spopt's HiGHS run sets the process's HiGHS thread pool; leave it as the next test expects."""
    yield
    highspy.Highs.resetGlobalScheduler(True)


def _instance(seed: int, n: int = 60, m: int = 12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    areas = rng.uniform(0, 100, (n, 2))
    sites = rng.uniform(0, 100, (m, 2))
    minutes = np.linalg.norm(areas[:, None, :] - sites[None, :, :], axis=2)
    return rng.integers(1, 100, n).astype(float), minutes


def _spopt_solver() -> object:
    return pulp.HiGHS(msg=False)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mclp_covers_as_much_demand_as_spopt(seed: int) -> None:
    demand, minutes = _instance(seed)
    ours = siting.mclp(demand, minutes, 25.0, 3)
    theirs = spopt_locate.MCLP.from_cost_matrix(minutes, demand, service_radius=25.0, p_facilities=3)
    theirs = theirs.solve(_spopt_solver())
    chosen = tuple(int(j) for j in np.flatnonzero([v.value() > 0.5 for v in theirs.fac_vars]))
    # spopt's own perc_cov is not used: its coverage is recomputed from the sites it chose
    assert ours.objective == pytest.approx(siting.coverage_of(demand, minutes, 25.0, chosen), rel=1e-9)
    assert siting.coverage_of(demand, minutes, 25.0, ours.chosen) == pytest.approx(ours.objective)


@pytest.mark.parametrize("seed", [4, 5])
def test_p_median_with_existing_centres_equals_spopt_with_predefined_facilities(seed: int) -> None:
    demand, minutes = _instance(seed)
    existing = minutes[:, :2]  # the first two sites are open already
    ours = siting.p_median(demand, minutes[:, 2:], 2, existing)
    predefined = np.array([1, 1] + [0] * (minutes.shape[1] - 2))
    theirs = spopt_locate.PMedian.from_cost_matrix(
        minutes, demand, p_facilities=4, predefined_facilities_arr=predefined
    ).solve(_spopt_solver())
    assert ours.objective == pytest.approx(float(pulp.value(theirs.problem.objective)), rel=1e-9)
    assert ours.objective == pytest.approx(
        siting.weighted_minutes(demand, minutes[:, 2:], ours.chosen, existing)
    )


def _best_split(demand: np.ndarray, minutes: np.ndarray, capacity: np.ndarray) -> float:
    """Least demand-weighted minutes sending each area's demand to the open sites within capacity."""
    n, m = minutes.shape
    cost = (demand[:, None] * minutes).ravel()
    each_once = np.kron(np.eye(n), np.ones(m))
    site_rows = np.zeros((m, n * m))
    for j in range(m):
        site_rows[j, j::m] = demand
    result = linprog(cost, A_ub=site_rows, b_ub=capacity, A_eq=each_once, b_eq=np.ones(n), bounds=(0, 1))
    return float(result.fun) if result.status == 0 else float("inf")


def test_the_capacitated_p_median_is_the_best_of_every_choice() -> None:
    demand, minutes = _instance(7, n=10, m=5)
    existing = minutes[:, :1]
    candidates = minutes[:, 1:]
    capacity = np.array([150.0, 200.0, 120.0, 260.0])
    existing_capacity = np.array([180.0])
    ours = siting.p_median(demand, candidates, 2, existing, capacity, existing_capacity)
    best = min(
        _best_split(
            demand,
            np.column_stack([existing, candidates[:, list(pick)]]),
            np.concatenate([existing_capacity, capacity[list(pick)]]),
        )
        for pick in itertools.combinations(range(4), 2)
    )
    assert ours.status == "Optimal"
    assert ours.objective == pytest.approx(best, rel=1e-7)
    uncapacitated = siting.p_median(demand, candidates, 2, existing)
    assert ours.objective >= uncapacitated.objective - 1e-6


def test_greedy_is_never_better_than_the_exact_answer_and_its_gap_says_by_how_much() -> None:
    for seed in range(6):
        demand, minutes = _instance(seed, n=80, m=15)
        exact = siting.mclp(demand, minutes, 20.0, 3)
        greedy = siting.mclp_greedy(demand, minutes, 20.0, 3)
        assert greedy.objective <= exact.objective + 1e-9
        assert siting.gap(exact.objective, greedy.objective, maximise=True) >= 0
        existing = minutes[:, :1] + 30
        exact_pm = siting.p_median(demand, minutes, 3, existing)
        greedy_pm = siting.p_median_greedy(demand, minutes, 3, existing)
        assert greedy_pm.objective >= exact_pm.objective - 1e-6


def test_areas_already_covered_by_existing_centres_count_once() -> None:
    demand, minutes = _instance(9)
    already = siting.existing_cover(minutes[:, :1], 25.0)
    result = siting.mclp(demand, minutes[:, 1:], 25.0, 2, already)
    assert result.objective == pytest.approx(
        siting.coverage_of(demand, minutes[:, 1:], 25.0, result.chosen, already)
    )
    assert result.objective >= float(demand[already].sum())
