"""Where to add capacity: maximal covering (MCLP) and p-median siting, exact on HiGHS, and greedy.

Areas i with demand d_i (people or expected patients), candidate sites j, travel
minutes t_ij; existing centres are always open; k new sites are chosen among the
candidates a dose can reach (the caller passes only those).

MCLP (Church and ReVelle 1974), with x_j = 1 when candidate j opens and y_i the
share of area i covered::

    max  Σ_i d_i y_i
    s.t. y_i ≤ Σ_{j : t_ij ≤ T} x_j        (an area is covered by an open site in reach)
         Σ_j x_j = k,  x binary, 0 ≤ y ≤ 1

Areas an existing centre already covers are counted as covered and left out.

p-median (Hakimi 1964), the least demand-weighted travel time::

    min  Σ_i Σ_j d_i t_ij z_ij + Σ_i d_i t_i0 z_i0
    s.t. Σ_j z_ij + z_i0 = 1               (each area goes to one open site)
         z_ij ≤ x_j,   Σ_j x_j = k,  x binary, z ≥ 0

where 0 stands for the area's nearest existing centre. Only candidates nearer than
that centre are offered to an area (no one travels past an open centre), which
keeps the model exact and small.

Capacitated variants add, per open site, Σ_i d_i z_ij ≤ c_j x_j (a site serves at
most its capacity: yearly infusions its chairs give), with demand split among
sites; existing centres keep their own capacity.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt
from scipy import sparse

from rltnet.domain.errors import InvalidInput

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class SitingResult:
    """Chosen candidate indices and what they achieve."""

    chosen: tuple[int, ...]
    objective: float  # covered demand (MCLP) or demand-weighted minutes (p-median)
    status: str
    method: str


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """HiGHS prints a banner on stdout when it starts; keep the command's output clean."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), fd)
    try:
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def _solve(
    cost: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    integer: BoolArray,
    matrix: sparse.csc_matrix,
    row_lower: FloatArray,
    row_upper: FloatArray,
    sense_max: bool,
    threads: int | None = None,
    time_limit: float | None = None,
) -> tuple[FloatArray, float, str]:
    with _quiet():
        highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    if threads is not None:
        # HiGHS keeps one thread pool per process: a count other than the pool's fails the run
        highspy.Highs.resetGlobalScheduler(True)
        highs.setOptionValue("threads", int(threads))
    highs.setOptionValue("mip_rel_gap", 0.0)
    if time_limit is not None:
        highs.setOptionValue("time_limit", float(time_limit))
    lp = highspy.HighsLp()
    lp.num_col_ = int(cost.size)
    lp.num_row_ = int(row_lower.size)
    lp.col_cost_ = cost
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.sense_ = highspy.ObjSense.kMaximize if sense_max else highspy.ObjSense.kMinimize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(np.float64)
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous for flag in integer
    ]
    highs.passModel(lp)
    if highs.run() == highspy.HighsStatus.kError:
        raise RuntimeError(
            f"HiGHS could not run the siting model ({highs.modelStatusToString(highs.getModelStatus())})"
        )
    status = highs.modelStatusToString(highs.getModelStatus())
    values = np.asarray(highs.getSolution().col_value, dtype=np.float64)
    return values, float(highs.getInfo().objective_function_value), status


def _check_k(k: int, candidates: int) -> None:
    if not 0 <= k <= candidates:
        raise InvalidInput(
            f"cannot open {k} new sites among {candidates} reachable candidates; ask for 0 to {candidates}"
        )


def existing_cover(existing_minutes: FloatArray, max_minutes: float) -> BoolArray:
    """Areas within `max_minutes` of some existing centre (areas x existing)."""
    if existing_minutes.shape[1] == 0:
        return np.zeros(existing_minutes.shape[0], dtype=np.bool_)
    return np.asarray((existing_minutes <= max_minutes).any(axis=1))


def coverage_of(
    demand: FloatArray,
    minutes: FloatArray,
    max_minutes: float,
    chosen: tuple[int, ...],
    already: BoolArray | None = None,
) -> float:
    """Demand within `max_minutes` of a chosen site or already covered, recomputed from the choice."""
    covered = np.zeros(len(demand), dtype=np.bool_) if already is None else already.copy()
    if chosen:
        covered |= (minutes[:, list(chosen)] <= max_minutes).any(axis=1)
    return float(demand[covered].sum())


def mclp(
    demand: FloatArray,
    minutes: FloatArray,
    max_minutes: float,
    k: int,
    already: BoolArray | None = None,
    threads: int | None = None,
) -> SitingResult:
    """Exact maximal covering: k candidates (columns of `minutes`) covering the most demand."""
    n, m = minutes.shape
    _check_k(k, m)
    open_areas = np.ones(n, dtype=np.bool_) if already is None else ~already
    reach = sparse.csr_matrix(
        (minutes <= max_minutes) & open_areas[:, None] & (demand > 0)[:, None], dtype=np.float64
    )
    rows = np.flatnonzero(np.diff(reach.indptr) > 0)  # areas some candidate could cover
    reach = reach[rows]
    r = len(rows)
    base = float(demand[~open_areas].sum()) if already is not None else 0.0
    if k == 0 or r == 0:
        return SitingResult((), base, "Optimal", "exact")
    # columns: x_0..x_{m-1}, y_0..y_{r-1}; rows: y_i - Σ x_j ≤ 0, Σ x = k
    cover = sparse.hstack([-reach, sparse.identity(r, format="csr")])
    budget = sparse.hstack([sparse.csr_matrix(np.ones((1, m))), sparse.csr_matrix((1, r))])
    matrix = sparse.vstack([cover, budget]).tocsc()
    cost = np.concatenate([np.zeros(m), demand[rows]])
    values, value, status = _solve(
        cost,
        np.zeros(m + r),
        np.ones(m + r),
        np.concatenate([np.ones(m, dtype=np.bool_), np.zeros(r, dtype=np.bool_)]),
        matrix,
        np.concatenate([np.full(r, -np.inf), [k]]),
        np.concatenate([np.zeros(r), [k]]),
        sense_max=True,
        threads=threads,
    )
    chosen = tuple(int(j) for j in np.flatnonzero(values[:m] > 0.5))
    return SitingResult(chosen, base + value, status, "exact")


def mclp_greedy(
    demand: FloatArray, minutes: FloatArray, max_minutes: float, k: int, already: BoolArray | None = None
) -> SitingResult:
    """Greedy maximal covering: each step opens the candidate adding the most uncovered demand."""
    m = minutes.shape[1]
    _check_k(k, m)
    reach = sparse.csc_matrix(minutes <= max_minutes, dtype=np.float64)
    uncovered = demand.copy() if already is None else np.where(already, 0.0, demand)
    chosen: list[int] = []
    for _ in range(k):
        gains = reach.T @ uncovered
        gains[chosen] = -1.0
        best = int(np.argmax(gains))
        chosen.append(best)
        uncovered[reach[:, best].toarray().ravel() > 0] = 0.0
    return SitingResult(
        tuple(sorted(chosen)),
        coverage_of(demand, minutes, max_minutes, tuple(chosen), already),
        "heuristic",
        "greedy",
    )


def nearest_existing(existing_minutes: FloatArray) -> FloatArray:
    if existing_minutes.shape[1] == 0:
        return np.full(existing_minutes.shape[0], np.inf)
    return np.asarray(existing_minutes.min(axis=1), dtype=np.float64)


def weighted_minutes(
    demand: FloatArray, minutes: FloatArray, chosen: tuple[int, ...], existing_minutes: FloatArray
) -> float:
    """Σ_i d_i x minutes to the nearest open site (existing or chosen)."""
    best = nearest_existing(existing_minutes)
    if chosen:
        best = np.minimum(best, minutes[:, list(chosen)].min(axis=1))
    return float((demand * best).sum())


def p_median(
    demand: FloatArray,
    minutes: FloatArray,
    k: int,
    existing_minutes: FloatArray,
    capacity: FloatArray | None = None,
    existing_capacity: FloatArray | None = None,
    threads: int | None = None,
    nearest_candidates: int | None = None,
    time_limit: float | None = None,
) -> SitingResult:
    """Exact p-median with existing centres kept open; capacitated when `capacity` is given.

    Capacitated, an area may go to any existing centre and any candidate, or, with
    `nearest_candidates`, to its nearest few candidates and to those nearer than its
    nearest existing centre (exact over those pairs; keeps large instances small).
    """
    n, m = minutes.shape
    _check_k(k, m)
    e = existing_minutes.shape[1]
    if e == 0 and k == 0:
        raise InvalidInput("no existing centre and no new site: nobody can be served")
    capacitated = capacity is not None
    if capacitated:
        # every existing centre is its own column: capacity is per centre
        offer_e = np.ones((n, e), dtype=np.bool_)
        offer_c = np.isfinite(minutes)
        if nearest_candidates is not None and nearest_candidates < m:
            near = np.argpartition(minutes, nearest_candidates - 1, axis=1)[:, :nearest_candidates]
            few = np.zeros((n, m), dtype=np.bool_)
            few[np.arange(n)[:, None], near] = True
            offer_c &= few | (minutes < nearest_existing(existing_minutes)[:, None])
    else:
        base = nearest_existing(existing_minutes)
        offer_e = np.zeros((n, e), dtype=np.bool_)
        if e:
            offer_e[np.arange(n), np.argmin(existing_minutes, axis=1)] = True
        offer_c = minutes < base[:, None]
    ai, aj = np.nonzero(offer_c)
    bi, bj = np.nonzero(offer_e)
    za = len(ai)
    zb = len(bi)
    # columns: x (m), z to candidates (za), z to existing (zb)
    cols = m + za + zb
    cost = np.concatenate([np.zeros(m), demand[ai] * minutes[ai, aj], demand[bi] * existing_minutes[bi, bj]])
    rows_data: list[sparse.spmatrix] = []
    lo: list[FloatArray] = []
    hi: list[FloatArray] = []
    # each area assigned once
    assign = sparse.csr_matrix(
        (np.ones(za + zb), (np.concatenate([ai, bi]), m + np.arange(za + zb))), shape=(n, cols)
    )
    rows_data.append(assign)
    lo.append(np.ones(n))
    hi.append(np.ones(n))
    # z_ij ≤ x_j  (candidates only)
    link = sparse.csr_matrix(
        (
            np.concatenate([np.ones(za), -np.ones(za)]),
            (np.concatenate([np.arange(za), np.arange(za)]), np.concatenate([m + np.arange(za), aj])),
        ),
        shape=(za, cols),
    )
    rows_data.append(link)
    lo.append(np.full(za, -np.inf))
    hi.append(np.zeros(za))
    budget = sparse.csr_matrix((np.ones(m), (np.zeros(m, dtype=np.int64), np.arange(m))), shape=(1, cols))
    rows_data.append(budget)
    lo.append(np.array([float(k)]))
    hi.append(np.array([float(k)]))
    if capacitated:
        assert capacity is not None
        cap_e = existing_capacity if existing_capacity is not None else np.full(e, np.inf)
        # Σ_i d_i z_ij - c_j x_j ≤ 0 for candidates; Σ_i d_i z_i,e ≤ c_e for existing
        cand = sparse.csr_matrix(
            (
                np.concatenate([demand[ai], -capacity]),
                (np.concatenate([aj, np.arange(m)]), np.concatenate([m + np.arange(za), np.arange(m)])),
            ),
            shape=(m, cols),
        )
        rows_data.append(cand)
        lo.append(np.full(m, -np.inf))
        hi.append(np.zeros(m))
        if e:
            exist = sparse.csr_matrix((demand[bi], (bj, m + za + np.arange(zb))), shape=(e, cols))
            rows_data.append(exist)
            lo.append(np.full(e, -np.inf))
            hi.append(np.asarray(cap_e, dtype=np.float64))
    matrix = sparse.vstack(rows_data).tocsc()
    values, value, status = _solve(
        cost,
        np.zeros(cols),
        np.ones(cols),
        np.concatenate([np.ones(m, dtype=np.bool_), np.zeros(za + zb, dtype=np.bool_)]),
        matrix,
        np.concatenate(lo),
        np.concatenate(hi),
        sense_max=False,
        threads=threads,
        time_limit=time_limit,
    )
    if status != "Optimal" and not (values.size >= m and np.isfinite(value) and value > 0):
        return SitingResult((), float("nan"), status, "exact")
    chosen = tuple(int(j) for j in np.flatnonzero(values[:m] > 0.5))
    return SitingResult(chosen, value, status, "exact")


def p_median_greedy(
    demand: FloatArray, minutes: FloatArray, k: int, existing_minutes: FloatArray
) -> SitingResult:
    """Greedy p-median: each step opens the candidate that saves the most demand-weighted minutes."""
    m = minutes.shape[1]
    _check_k(k, m)
    best = nearest_existing(existing_minutes)
    chosen: list[int] = []
    for _ in range(k):
        current = np.where(np.isfinite(best), best, 1e9)
        saving = (demand[:, None] * np.clip(current[:, None] - minutes, 0.0, None)).sum(axis=0)
        saving[chosen] = -1.0
        pick = int(np.argmax(saving))
        chosen.append(pick)
        best = np.minimum(best, minutes[:, pick])
    picked = tuple(sorted(chosen))
    return SitingResult(
        picked, weighted_minutes(demand, minutes, picked, existing_minutes), "heuristic", "greedy"
    )


def gap(exact: float, heuristic: float, maximise: bool) -> float:
    """Relative gap of a heuristic's objective to the exact optimum (0 = optimal).

    >>> gap(100.0, 96.6, maximise=True)
    0.034
    """
    if exact == 0:
        return 0.0
    return round((exact - heuristic) / exact if maximise else (heuristic - exact) / exact, 12)
