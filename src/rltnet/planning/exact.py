"""The exact planner: a mixed-integer programme over every order's options, on HiGHS.

Formulation (all sums over options o; x_o = 1 when option o is used):

    minimise    sum_o cost_o x_o + UNPLANNED_COST sum_i u_i
    subject to  sum_{o of order i} x_o + u_i = 1                  each order i
                sum_{o covering bucket b} x_o <= chairs free at b   each chair bucket
                sum_{o from batch k} x_o <= doses left in k         each batch
                sum_{o at centre-day d} prescribed_o x_o <= limit_d  each centre-day
                s_{l,t} = f_l s_{l,t-1} + supply_{l,t} - sum_{o drawn on t} made_o x_o,
                s_{l,t} >= 0                                      each site ledger l, day t
                x binary, 0 <= u <= 1

`cost_o` carries the objective's levels (see `problem`); isotope is in GBq.

The linear relaxation is solved first (dual simplex). On these assignment models
it is nearly always integral at its optimal vertex, which proves the plan optimal
at once. When it is not, it is rounded into a plan, the fast planner's plan is
made too, the better warm-starts HiGHS's branch and bound, and the bound is the
better of the relaxation's value and HiGHS's dual bound: the gap is proven over
these options. If HiGHS finds nothing better in the time limit, the warm start
is returned.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt
from scipy import sparse

from rltnet.planning.assemble import build_plan, lower_bound, objective
from rltnet.planning.candidates import Candidates
from rltnet.planning.capacity import CapacityState
from rltnet.planning.greedy import FastPlanner, place_in_turn
from rltnet.planning.plan import Plan, SolverReport
from rltnet.planning.problem import UNPLANNED_COST, PlanningProblem

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
GBQ = 1e9
DEFAULT_GAP = 1e-3


@dataclass
class _Model:
    """The programme as arrays; columns are options, then unplanned, then isotope stock."""

    cost: FloatArray
    lower: FloatArray
    upper: FloatArray
    integer: npt.NDArray[np.bool_]
    matrix: sparse.csc_matrix
    row_lower: FloatArray
    row_upper: FloatArray
    options: int
    orders: int
    stock_columns: list[IntArray]  # per ledger, its stock column per day


class ExactPlanner:
    """Optimal (or within `gap`) over the candidate options, with a proven bound."""

    name = "exact"

    def __init__(self, gap: float = DEFAULT_GAP, threads: int = 2) -> None:
        self.gap = gap
        self.threads = threads

    def plan(self, problem: PlanningProblem) -> Plan:
        started = time.perf_counter()
        candidates = Candidates(problem)
        model = _build(candidates)
        chosen, status, bound = self._solve_relaxation(candidates, model, problem, started)
        report = SolverReport(
            planner=self.name,
            objective=objective(candidates, chosen),
            bound=max(bound, lower_bound(candidates)) if bound is not None else lower_bound(candidates),
            wall_s=time.perf_counter() - started,
            status=status,
            seed=problem.seed,
        )
        return build_plan(candidates, chosen, report, problem.kept)

    def _solve_relaxation(
        self, candidates: Candidates, model: _Model, problem: PlanningProblem, started: float
    ) -> tuple[dict[int, int], str, float | None]:
        """The linear relaxation first: these assignment models are nearly always integral
        at a simplex vertex, which proves the plan optimal. Otherwise round it into a warm
        start (with the fast planner's plan, whichever is better) and branch."""
        remaining = max(0.5, problem.time_limit_s - (time.perf_counter() - started))
        values, lp_bound = _solve_lp(model, remaining, self.threads)
        if values is not None and _integral(values[: model.options]):
            picked = np.flatnonzero(values[: model.options] > 0.5)
            return (
                {int(candidates.option_order[o]): int(o) for o in picked},
                "optimal (integral LP relaxation)",
                lp_bound,
            )
        if values is not None and lp_bound is not None:
            rounded = _round(candidates, values[: model.options])
            value = objective(candidates, rounded)
            if value - lp_bound <= self.gap * abs(value):
                return rounded, f"within {self.gap:.1%} of the LP bound (rounded LP)", lp_bound
        rest = max(0.5, problem.time_limit_s - (time.perf_counter() - started))
        warm = FastPlanner(time_limit_s=max(0.5, rest / 5)).solve(candidates).chosen
        if values is not None and objective(candidates, rounded) < objective(candidates, warm):
            warm = rounded
        rest = max(0.5, problem.time_limit_s - (time.perf_counter() - started))
        chosen, status, milp_bound = self._solve(candidates, model, warm, rest, problem.seed)
        if objective(candidates, warm) < objective(candidates, chosen):
            chosen = warm
        bounds = [b for b in (lp_bound, milp_bound) if b is not None]
        return chosen, status, max(bounds) if bounds else None

    def _solve(
        self,
        candidates: Candidates,
        model: _Model,
        warm: dict[int, int],
        time_limit: float,
        seed: int,
    ) -> tuple[dict[int, int], str, float | None]:
        with _quiet_stdout():  # HiGHS prints a banner on stdout when it starts
            highs = highspy.Highs()  # type: ignore[no-untyped-call]
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("time_limit", float(time_limit))
        highs.setOptionValue("mip_rel_gap", float(self.gap))
        highs.setOptionValue("threads", int(self.threads))
        highs.setOptionValue("random_seed", int(seed))
        _pass(highs, model)
        _warm_start(highs, candidates, model, warm)
        highs.run()
        status = highs.modelStatusToString(highs.getModelStatus())
        info = highs.getInfo()
        values = np.asarray(highs.getSolution().col_value)
        if values.size < model.options or info.primal_solution_status == 0:
            return warm, f"{status} (no solution; warm start kept)", _bound(info)
        picked = np.flatnonzero(values[: model.options] > 0.5)
        chosen = {int(candidates.option_order[o]): int(o) for o in picked}
        return chosen, status, _bound(info)


def _solve_lp(model: _Model, time_limit: float, threads: int) -> tuple[FloatArray | None, float | None]:
    """The linear relaxation by dual simplex: its solution and value (None if unfinished)."""
    relaxed = _Model(**{**model.__dict__, "integer": np.zeros_like(model.integer)})
    with _quiet_stdout():
        highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", float(time_limit))
    highs.setOptionValue("threads", int(threads))
    highs.setOptionValue("solver", "simplex")
    _pass(highs, relaxed)
    highs.run()
    if highs.modelStatusToString(highs.getModelStatus()) != "Optimal":
        return None, None
    return np.asarray(highs.getSolution().col_value), float(highs.getInfo().objective_function_value)


def _integral(values: FloatArray) -> bool:
    return bool(np.all((values < 1e-6) | (values > 1 - 1e-6)))


def _round(candidates: Candidates, values: FloatArray) -> dict[int, int]:
    """A plan from a fractional solution: orders most decided first, each trying its options
    by falling share in the relaxation, then by cost."""
    state = CapacityState(candidates)
    share = [
        float(values[slice(*candidates.order_slices[i])].max(initial=0.0))
        for i in range(len(candidates.orders))
    ]
    sequence = sorted(range(len(candidates.orders)), key=lambda i: (-share[i], candidates.orders[i].order_id))

    def options(index: int) -> list[int]:
        start, end = candidates.order_slices[index]
        return sorted(range(start, end), key=lambda o: (-values[o], candidates.option_cost[o]))

    return place_in_turn(candidates, state, sequence, options)


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Send what C code writes to stdout to /dev/null, so `--json` output stays clean."""
    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _bound(info: highspy.HighsInfo) -> float | None:
    bound = float(info.mip_dual_bound)
    return bound if np.isfinite(bound) else None


def _build(c: Candidates) -> _Model:
    n_opt, n_ord = len(c.option_order), len(c.orders)
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []
    row_lower: list[FloatArray] = []
    row_upper: list[FloatArray] = []
    next_row = 0

    def add(r: IntArray, k: IntArray, v: FloatArray) -> None:
        rows.append(r.astype(np.int64))
        cols.append(k.astype(np.int64))
        vals.append(v.astype(np.float64))

    options = np.arange(n_opt, dtype=np.int64)
    # each order: its options and "unplanned" add up to one
    add(c.option_order, options, np.ones(n_opt))
    add(np.arange(n_ord), n_opt + np.arange(n_ord), np.ones(n_ord))
    row_lower.append(np.ones(n_ord))
    row_upper.append(np.ones(n_ord))
    next_row = n_ord

    state_free = _free_capacity(c)
    # chairs: options covering a bucket, at most the chairs free there
    bucket_of_session = [np.array(s.buckets, dtype=np.int64) for s in c.sessions]
    counts = np.array([b.size for b in bucket_of_session], dtype=np.int64)[c.option_session]
    flat = np.concatenate(bucket_of_session) if bucket_of_session else np.zeros(0, np.int64)
    offsets = np.concatenate([[0], np.cumsum([b.size for b in bucket_of_session])])[:-1].astype(np.int64)
    option_cols = np.repeat(options, counts)
    within = np.arange(option_cols.size) - np.repeat(np.cumsum(counts) - counts, counts)
    buckets = flat[np.repeat(offsets[c.option_session], counts) + within] if flat.size else flat
    next_row = _capacity_rows(
        add,
        row_lower,
        row_upper,
        next_row,
        buckets,
        option_cols,
        np.ones(option_cols.size),
        state_free["bucket"],
    )
    # batches: at most the doses a batch can fill
    next_row = _capacity_rows(
        add,
        row_lower,
        row_upper,
        next_row,
        c.option_batch,
        options,
        np.ones(n_opt),
        state_free["batch"],
    )
    # centre-days: at most the site permit's daily activity (GBq)
    activity_day = np.array([s.activity_day for s in c.sessions], dtype=np.int64)[c.option_session]
    prescribed = np.array([o.prescribed.bq for o in c.orders])[c.option_order] / GBQ
    next_row = _capacity_rows(
        add,
        row_lower,
        row_upper,
        next_row,
        activity_day,
        options,
        prescribed,
        state_free["activity"] / GBQ,
    )
    # isotope: stock balance per ledger and day
    stock_columns = []
    n_col = n_opt + n_ord
    batch_ledger = np.array([b.ledger for b in c.batches], dtype=np.int64)
    batch_day = np.array([b.ledger_day for b in c.batches], dtype=np.int64)
    for ledger_index, ledger in enumerate(c.ledgers):
        days = ledger.supply_bq.size
        stock = n_col + np.arange(days, dtype=np.int64)
        stock_columns.append(stock)
        n_col += days
        day_rows = next_row + np.arange(days, dtype=np.int64)
        add(day_rows, stock, np.ones(days))
        add(day_rows[1:], stock[:-1], np.full(days - 1, -ledger.daily_factor))
        drawing = np.flatnonzero(batch_ledger[c.option_batch] == ledger_index)
        add(day_rows[batch_day[c.option_batch[drawing]]], drawing, c.option_made_bq[drawing] / GBQ)
        supply = (ledger.supply_bq - state_free["kept_draws"][ledger_index]) / GBQ
        row_lower.append(supply)
        row_upper.append(supply)
        next_row += days
    matrix = sparse.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(next_row, n_col),
    )
    n_stock = n_col - n_opt - n_ord
    return _Model(
        cost=np.concatenate([c.option_cost, np.full(n_ord, UNPLANNED_COST), np.zeros(n_stock)]),
        lower=np.zeros(n_col),
        upper=np.concatenate([np.ones(n_opt + n_ord), np.full(n_stock, np.inf)]),
        integer=np.concatenate([np.ones(n_opt, bool), np.zeros(n_ord + n_stock, bool)]),
        matrix=matrix,
        row_lower=np.concatenate(row_lower),
        row_upper=np.concatenate(row_upper),
        options=n_opt,
        orders=n_ord,
        stock_columns=stock_columns,
    )


def _capacity_rows(
    add: object,
    row_lower: list[FloatArray],
    row_upper: list[FloatArray],
    next_row: int,
    keys: IntArray,
    columns: IntArray,
    coefficients: FloatArray,
    free: FloatArray,
) -> int:
    """One `<= free[key]` row per key some option uses."""
    used, row_of = np.unique(keys, return_inverse=True)
    add(next_row + row_of, columns, coefficients)  # type: ignore[operator]
    row_lower.append(np.full(used.size, -np.inf))
    row_upper.append(free[used].astype(np.float64))
    return next_row + int(used.size)


def _free_capacity(c: Candidates) -> dict[str, FloatArray]:
    """Capacities left once kept placements hold theirs."""
    bucket = np.array(c.bucket_capacity, dtype=np.float64)
    activity = np.array(c.activity_limit_bq, dtype=np.float64)
    kept_draws = [np.zeros(ledger.supply_bq.size) for ledger in c.ledgers]
    buckets, days, draws = c.kept_use()
    for b in buckets:
        bucket[b] -= 1
    for d, bq in days:
        activity[d] -= bq
    for ledger, day, bq in draws:
        kept_draws[ledger][day] += bq
    return {
        "bucket": bucket,
        "batch": np.array([b.capacity for b in c.batches], dtype=np.float64),
        "activity": activity,
        "kept_draws": kept_draws,  # type: ignore[dict-item]
    }


def _pass(highs: highspy.Highs, model: _Model) -> None:
    lp = highspy.HighsLp()
    lp.num_col_ = int(model.cost.size)
    lp.num_row_ = int(model.row_lower.size)
    lp.col_cost_ = model.cost
    lp.col_lower_ = model.lower
    lp.col_upper_ = model.upper
    lp.row_lower_ = model.row_lower
    lp.row_upper_ = model.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = model.matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = model.matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = model.matrix.data
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous for flag in model.integer
    ]
    highs.passModel(lp)


def _warm_start(highs: highspy.Highs, c: Candidates, model: _Model, chosen: dict[int, int]) -> None:
    values = np.zeros(model.cost.size)
    values[list(chosen.values())] = 1.0
    unplanned = [i for i in range(model.orders) if i not in chosen]
    values[model.options + np.array(unplanned, dtype=np.int64)] = 1.0
    kept = _free_capacity(c)["kept_draws"]
    for ledger_index, ledger in enumerate(c.ledgers):
        draws = np.zeros(ledger.supply_bq.size)
        for option in chosen.values():
            batch = c.batches[int(c.option_batch[option])]
            if batch.ledger == ledger_index:
                draws[batch.ledger_day] += c.option_made_bq[option]
        stock, level = [], 0.0
        for day in range(ledger.supply_bq.size):
            level = (
                level * ledger.daily_factor
                + (ledger.supply_bq[day] - kept[ledger_index][day] - draws[day]) / GBQ
            )
            stock.append(max(level, 0.0))
        values[model.stock_columns[ledger_index]] = stock
    solution = highspy.HighsSolution()
    solution.col_value = list(values)
    solution.value_valid = True
    highs.setSolution(solution)
