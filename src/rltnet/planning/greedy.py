"""Constructive planners: earliest deadline first, first come first served, and the fast
planner (guided by a Lagrangian relaxation, then local improvement).

All place orders one at a time on the shared `Candidates`, taking the first
option that still fits the capacities; they differ in the order orders are taken
and options tried:

- `FirstComeFirstServed` — what a manual process does: orders in the order they
  were placed, each at the first session on or after its preferred time.
- `EarliestDeadlineFirst` — orders by the end of their window (the most urgent
  first), each at its cheapest option (least delay, then least isotope).
- `FastPlanner` — each order is first given a session by centre-by-centre
  minimum-cost assignments of orders to chairs (`assignment`), which also prove
  a lower bound; orders are then placed most urgent first at that session, and
  improved by moves that lower the objective: re-placing an order at a cheaper
  option that has become free, and ejecting the holder of a cheaper option to its
  next best when the pair gains.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from rltnet.planning.assemble import build_plan, lower_bound, objective
from rltnet.planning.assignment import ChairAssignments
from rltnet.planning.candidates import Candidates
from rltnet.planning.capacity import BATCH, CHAIRS, CapacityState
from rltnet.planning.plan import Plan, SolverReport
from rltnet.planning.problem import UNPLANNED_COST, PlanningProblem


class Planner(Protocol):
    """Anything that turns a planning problem into a plan."""

    name: str

    def plan(self, problem: PlanningProblem) -> Plan: ...


def place_in_turn(
    candidates: Candidates,
    state: CapacityState,
    sequence: Iterable[int],
    options_in_preference: Callable[[int], Iterable[int]],
) -> dict[int, int]:
    """Give each order in `sequence` the first of its options that fits."""
    chosen: dict[int, int] = {}
    for index in sequence:
        for option in options_in_preference(index):
            if state.fits(option):
                state.take(option)
                chosen[index] = option
                break
    return chosen


def cheapest_first(candidates: Candidates) -> Callable[[int], Iterable[int]]:
    def options(index: int) -> Iterable[int]:
        start, end = candidates.order_slices[index]
        return (start + int(k) for k in np.argsort(candidates.option_cost[start:end], kind="stable"))

    return options


def deadline_order(candidates: Candidates) -> list[int]:
    """Most urgent first: end of window, then fewest options, then id."""

    def key(index: int) -> tuple[float, int, str]:
        order = candidates.orders[index]
        start, end = candidates.order_slices[index]
        return (order.latest_at.timestamp(), end - start, order.order_id)

    kept_first = candidates.previously_placed()
    rest = sorted((i for i in range(len(candidates.orders)) if i not in kept_first), key=key)
    return sorted(kept_first, key=key) + rest


class EarliestDeadlineFirst:
    """The most urgent order first, each at its cheapest option that fits."""

    name = "edf"

    def plan(self, problem: PlanningProblem) -> Plan:
        started = time.perf_counter()
        candidates = Candidates(problem)
        state = CapacityState(candidates)
        chosen = place_in_turn(candidates, state, deadline_order(candidates), cheapest_first(candidates))
        return _finish(self.name, problem, candidates, chosen, started)


class FirstComeFirstServed:
    """Orders as they came, each at the first session on or after its preferred time."""

    name = "fcfs"

    def plan(self, problem: PlanningProblem) -> Plan:
        started = time.perf_counter()
        candidates = Candidates(problem)
        state = CapacityState(candidates)
        sequence = sorted(
            range(len(candidates.orders)),
            key=lambda i: (candidates.orders[i].placed_at, candidates.orders[i].order_id),
        )
        chosen = place_in_turn(candidates, state, sequence, self._by_time(candidates))
        return _finish(self.name, problem, candidates, chosen, started)

    @staticmethod
    def _by_time(candidates: Candidates) -> Callable[[int], Iterable[int]]:
        def options(index: int) -> Iterable[int]:
            preferred = candidates.orders[index].preferred_at
            start, end = candidates.order_slices[index]
            admin = [
                candidates.sessions[int(s)].administration_at for s in candidates.option_session[start:end]
            ]
            later = [k for k in range(end - start) if admin[k] >= preferred]
            earlier = [k for k in range(end - start) if admin[k] < preferred]
            ordered = sorted(later, key=lambda k: admin[k]) + sorted(
                earlier, key=lambda k: admin[k], reverse=True
            )
            return (start + k for k in ordered)

        return options


class FastPlanner:
    """Chairs assigned centre by centre as a minimum-cost assignment, supplies taken most
    urgent first, then local improvement until nothing gains or time is up."""

    name = "fast"

    def __init__(
        self, max_passes: int = 4, time_limit_s: float | None = None, relaxation_share: float = 0.3
    ) -> None:
        self.max_passes = max_passes
        self.time_limit_s = time_limit_s
        self.relaxation_share = relaxation_share

    def plan(self, problem: PlanningProblem) -> Plan:
        started = time.perf_counter()
        candidates = Candidates(problem)
        solution = self.solve(candidates, started)
        status = "heuristic" if solution.complete else "heuristic (time limit reached during improvement)"
        return _finish(self.name, problem, candidates, solution.chosen, started, solution.bound, status)

    def solve(self, candidates: Candidates, started: float | None = None) -> FastSolution:
        """Each placed order's option, a lower bound (the centres' optimal chair
        assignments), and whether local improvement ran to its end."""
        started = time.perf_counter() if started is None else started
        limit = self.time_limit_s if self.time_limit_s is not None else candidates.problem.time_limit_s
        fresh = CapacityState(candidates)
        bound, guide = ChairAssignments(candidates, fresh.bucket_free).solve(candidates.option_cost)
        for index, option in candidates.previous_option.items():
            guide[index] = option  # when re-planning, each order first tries to stay put
        state = CapacityState(candidates)
        chosen = place_in_turn(candidates, state, deadline_order(candidates), _guided(candidates, guide))
        improver = _Improver(candidates, state, chosen, deadline=started + limit)
        for _ in range(self.max_passes):
            regret = sorted(
                range(len(candidates.orders)), key=lambda i: _cheapest(candidates, i) - improver.cost(i)
            )
            if not improver.improve_pass(regret):
                break
        return FastSolution(chosen, max(bound, lower_bound(candidates)), not improver.out_of_time)


@dataclass(frozen=True)
class FastSolution:
    """The fast planner's choice per order, its lower bound, and whether local improvement
    finished (a run cut short by the time limit may differ from run to run)."""

    chosen: dict[int, int]
    bound: float
    complete: bool


def _cheapest(candidates: Candidates, index: int) -> float:
    start, end = candidates.order_slices[index]
    return float(candidates.option_cost[start:end].min()) if end > start else UNPLANNED_COST


def _guided(candidates: Candidates, guide: npt.NDArray[np.int64]) -> Callable[[int], Iterable[int]]:
    """The guided option first, then the others of its session, then all, cheapest first."""
    cheapest = cheapest_first(candidates)

    def options(index: int) -> Iterable[int]:
        ordered = list(cheapest(index))
        first = int(guide[index])
        if first < 0:
            return ordered
        session = int(candidates.option_session[first])
        same = [o for o in ordered if int(candidates.option_session[o]) == session and o != first]
        return [first, *same, *(o for o in ordered if int(candidates.option_session[o]) != session)]

    return options


class _Improver:
    """Moves that lower the objective, on a plan and its capacity state.

    - re-insert: an order takes a cheaper option that has become free;
    - eject: an order takes a cheaper option whose chair (same session) or batch is
      held by another order, which moves to its own best alternative, when the two
      together gain.
    """

    def __init__(
        self, candidates: Candidates, state: CapacityState, chosen: dict[int, int], deadline: float
    ) -> None:
        self.c = candidates
        self.state = state
        self.chosen = chosen
        self.deadline = deadline
        self.out_of_time = False
        self.preference = cheapest_first(candidates)
        self.by_session: defaultdict[int, set[int]] = defaultdict(set)
        self.by_batch: defaultdict[int, set[int]] = defaultdict(set)
        for index, option in chosen.items():
            self._hold(index, option, add=True)

    def improve_pass(self, orders: Iterable[int]) -> bool:
        """Re-insert every order, then try ejections for `orders`; False when nothing gained
        (or the deadline has passed)."""
        gained = False
        for index in range(len(self.c.orders)):
            gained |= self._reinsert(index)
        for index in orders:
            if time.perf_counter() > self.deadline:
                self.out_of_time = True
                return False
            gained |= self._eject_for(index)
        return gained

    def cost(self, index: int) -> float:
        option = self.chosen.get(index)
        return float(self.c.option_cost[option]) if option is not None else UNPLANNED_COST

    def _cost_of(self, option: int) -> float:
        return float(self.c.option_cost[option])

    def _hold(self, index: int, option: int, *, add: bool) -> None:
        session = self.by_session[int(self.c.option_session[option])]
        batch = self.by_batch[int(self.c.option_batch[option])]
        if add:
            session.add(index)
            batch.add(index)
        else:
            session.discard(index)
            batch.discard(index)

    def _move(self, index: int, option: int | None) -> None:
        """Book `option` for the order (None: unplan it), updating capacities and holders."""
        current = self.chosen.pop(index, None)
        if current is not None:
            self.state.release(current)
            self._hold(index, current, add=False)
        if option is not None:
            self.state.take(option)
            self.chosen[index] = option
            self._hold(index, option, add=True)

    def _reinsert(self, index: int) -> bool:
        """Take the order's cheapest option that fits once its own is given back."""
        current = self.chosen.get(index)
        if current is not None:
            self.state.release(current)
        for option in self.preference(index):
            if self._cost_of(option) >= self.cost(index):
                break
            if self.state.fits(option):
                if current is not None:
                    self.state.take(current)
                self._move(index, option)
                return True
        if current is not None:
            self.state.take(current)
        return False

    def _eject_for(self, index: int) -> bool:
        start, end = self.c.order_slices[index]
        if end == start or self.cost(index) <= self.c.option_cost[start:end].min() + 1e-9:
            return False
        current = self.chosen.get(index)
        for option in self.preference(index):
            if self._cost_of(option) >= self.cost(index):
                break
            if current is not None:
                self.state.release(current)
            blocked = self.state.blocked_by(option)
            if current is not None:
                self.state.take(current)
            if blocked == CHAIRS:
                rivals = self.by_session[int(self.c.option_session[option])]
            elif blocked == BATCH:
                rivals = self.by_batch[int(self.c.option_batch[option])]
            else:
                continue
            for rival in sorted(rivals - {index})[:_MOST_RIVALS]:
                if self._swap_gains(index, option, rival):
                    return True
        return False

    def _swap_gains(self, index: int, option: int, rival: int) -> bool:
        before = self.cost(index) + self.cost(rival)
        rival_option = self.chosen[rival]
        mine = self.chosen.get(index)
        self._move(rival, None)
        self._move(index, None)
        if self.state.fits(option):
            self.state.take(option)
            for alternative in self.preference(rival):
                after = self._cost_of(option) + self._cost_of(alternative)
                if after >= before - 1e-9:
                    break
                if alternative != rival_option and self.state.fits(alternative):
                    self.state.release(option)
                    self._move(index, option)
                    self._move(rival, alternative)
                    return True
            self.state.release(option)
        self._move(index, mine)
        self._move(rival, rival_option)
        return False


_MOST_RIVALS = 40  # rivals tried for one blocked option: a bound on the work of one move


def _finish(
    name: str,
    problem: PlanningProblem,
    candidates: Candidates,
    chosen: dict[int, int],
    started: float,
    bound: float = 0.0,
    status: str = "heuristic",
) -> Plan:
    report = SolverReport(
        planner=name,
        objective=objective(candidates, chosen),
        bound=max(bound, lower_bound(candidates)),
        wall_s=time.perf_counter() - started,
        status=status,
        seed=problem.seed,
    )
    return build_plan(candidates, chosen, report, problem.kept)
