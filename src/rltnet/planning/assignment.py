"""Orders assigned to chairs, centre by centre: a lower bound and a guide for the fast planner.

With the batch, isotope and daily-activity limits relaxed, the orders of one centre
compete only for its chairs, and giving each order a session is a minimum-cost
assignment of orders to chair slots (`scipy.optimize.linear_sum_assignment`),
solved exactly. The sum of the centres' optimal costs is a lower bound on every
plan's objective, and the assignment tells the greedy placement which session each
order should try first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from rltnet.planning.candidates import Candidates
from rltnet.planning.problem import UNPLANNED_COST

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_NO_SLOT = 1e9


@dataclass
class _Centre:
    orders: IntArray  # order indices (rows)
    slots: IntArray  # column -> bucket-local index, a bucket repeated once per free chair
    n_buckets: int


class ChairAssignments:
    """Orders assigned to chairs centre by centre: a minimum-cost assignment for any option
    costs, exact where every appointment fills one chair bucket (one appointment length
    at the centre); elsewhere each order takes its cheapest option (chairs relaxed).

    With the batch and other limits relaxed this is a lower bound on any plan, and the
    assignment says which session each order should try first.
    """

    def __init__(self, candidates: Candidates, bucket_free: IntArray) -> None:
        self.c = candidates
        buckets = [s.buckets for s in candidates.sessions]
        single = np.array([len(b) == 1 for b in buckets], dtype=bool)
        first_bucket = np.array([b[0] if b else -1 for b in buckets], dtype=np.int64)
        option_bucket = first_bucket[candidates.option_session]
        option_single = single[candidates.option_session]
        centre_of_order = np.array([o.centre_id for o in candidates.orders])
        self.centres: list[tuple[_Centre, int]] = []
        self.cell = np.full(len(candidates.option_order), -1, dtype=np.int64)
        self.free_orders: list[int] = []
        base = 0
        for centre_id in sorted(set(centre_of_order.tolist())):
            orders = np.flatnonzero(centre_of_order == centre_id).astype(np.int64)
            options = np.concatenate([np.arange(*candidates.order_slices[i]) for i in orders])
            if options.size and not option_single[options].all():
                self.free_orders += orders.tolist()
                continue
            used = np.unique(option_bucket[options])
            local = np.searchsorted(used, option_bucket[options])
            row_of = np.full(len(candidates.orders), -1, dtype=np.int64)
            row_of[orders] = np.arange(orders.size)
            self.cell[options] = base + row_of[candidates.option_order[options]] * used.size + local
            slots = np.repeat(np.arange(used.size), np.maximum(bucket_free[used], 0)).astype(np.int64)
            self.centres.append((_Centre(orders, slots, int(used.size)), base))
            base += orders.size * used.size
        self.n_cells = base

    def solve(self, cost: FloatArray) -> tuple[float, IntArray]:
        """Minimum total cost and each order's option (-1: unplanned) at option costs `cost`."""
        c = self.c
        chosen = np.full(len(c.orders), -1, dtype=np.int64)
        total = 0.0
        cell_cost = np.full(self.n_cells, _NO_SLOT)
        cell_option = np.full(self.n_cells, -1, dtype=np.int64)
        placed = np.flatnonzero(self.cell >= 0)
        if placed.size:
            order = placed[np.lexsort((cost[placed], self.cell[placed]))]
            cells, first = np.unique(self.cell[order], return_index=True)
            cell_cost[cells] = cost[order[first]]
            cell_option[cells] = order[first]
        for centre, base in self.centres:
            rows = centre.orders.size
            block = cell_cost[base : base + rows * centre.n_buckets].reshape(rows, centre.n_buckets)
            matrix = np.hstack([block[:, centre.slots], np.full((rows, rows), UNPLANNED_COST)])
            r, k = linear_sum_assignment(matrix)
            values = matrix[r, k]
            total += float(np.minimum(values, UNPLANNED_COST).sum())
            takes = (k < centre.slots.size) & (values < _NO_SLOT)
            chosen[centre.orders[r[takes]]] = cell_option[
                base + r[takes] * centre.n_buckets + centre.slots[k[takes]]
            ]
        for index in self.free_orders:
            start, end = c.order_slices[index]
            best = start + int(np.argmin(cost[start:end])) if end > start else -1
            if best >= 0 and cost[best] < UNPLANNED_COST:
                chosen[index] = best
                total += float(cost[best])
            else:
                total += UNPLANNED_COST
        return total, chosen
