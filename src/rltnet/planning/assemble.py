"""From chosen options to a `Plan`: chairs, placements, reasons and the objective."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import NamedTuple

import numpy as np

from rltnet.domain.units import Activity
from rltnet.planning.candidates import Candidates
from rltnet.planning.capacity import CapacityState
from rltnet.planning.explain import why_delayed, why_delayed_pick, why_unplanned
from rltnet.planning.plan import Placement, Plan, SolverReport, Unplanned
from rltnet.planning.problem import UNPLANNED_COST


def objective(candidates: Candidates, chosen: Mapping[int, int]) -> float:
    """The plan's cost: each chosen option's cost (change costs included when re-planning)
    and `UNPLANNED_COST` per order without one."""
    placed = sum(float(candidates.option_cost[o]) for o in chosen.values())
    return placed + UNPLANNED_COST * (len(candidates.orders) - len(chosen))


def lower_bound(candidates: Candidates) -> float:
    """Each order at its cheapest option, capacities ignored: a bound no plan can beat."""
    total = 0.0
    for start, end in candidates.order_slices:
        total += float(candidates.option_cost[start:end].min()) if end > start else UNPLANNED_COST
    return total


class Pick(NamedTuple):
    """A session and a supply for one order, the activity made for it and its cost."""

    session: int
    supply: int
    made_bq: float
    cost: float


def build_plan(
    candidates: Candidates,
    chosen: Mapping[int, int],
    report: SolverReport,
    kept: tuple[Placement, ...] = (),
) -> Plan:
    """The plan of `chosen` (order index -> option), with chairs assigned and each
    unplanned or delayed order's reason. `kept` placements stay as they are.

    An order left unplanned is first given any session and supply of its table that
    still fits, the ones past `supplies_per_session` included (`fill_unplanned`): an
    order reported as "every option is taken" has none that fits without moving another.
    """
    state = CapacityState(candidates)
    for taken in chosen.values():
        state.take(taken)
    picks = {index: _pick(candidates, option) for index, option in chosen.items()}
    filled = fill_unplanned(candidates, picks, state)
    if filled:
        gained = sum(UNPLANNED_COST - pick.cost - candidates.change_cost(i) for i, pick in filled.items())
        report = dataclasses.replace(report, objective=report.objective - gained)
    picks.update(filled)
    chairs = _assign_chairs(candidates, picks, kept)
    placements = list(kept)
    unplanned = []
    for index, order in enumerate(candidates.orders):
        pick = picks.get(index)
        if pick is None:
            unplanned.append(Unplanned(order, why_unplanned(candidates, index, state)))
            continue
        chair = chairs.get(index)
        if chair is None:
            unplanned.append(Unplanned(order, "no chair free for the appointment"))
            continue
        option = chosen.get(index)
        delay = (
            why_delayed(candidates, index, option, state)
            if option is not None
            else why_delayed_pick(candidates, index, pick.session, state)
        )
        placements.append(_placement(candidates, index, pick, chair, delay))
    placements.sort(key=lambda p: (p.administration_at, p.order.order_id))
    unplanned.sort(key=lambda u: u.order.order_id)
    return Plan(tuple(placements), tuple(unplanned), report)


def fill_unplanned(
    candidates: Candidates, picks: Mapping[int, Pick], state: CapacityState
) -> dict[int, Pick]:
    """For each order without a pick (most urgent first), the cheapest row of its table that
    fits what is left; taken from `state`."""
    filled: dict[int, Pick] = {}
    waiting = [i for i in range(len(candidates.orders)) if i not in picks and candidates.options_of(i)]
    waiting.sort(key=lambda i: (candidates.orders[i].latest_at, candidates.orders[i].order_id))
    for index in waiting:
        sessions, supplies, costs, made = candidates.order_rows(candidates.orders[index], None)
        for row in np.argsort(costs, kind="stable"):
            session, supply = int(sessions[row]), int(supplies[row])
            batch = candidates.supplies[supply].batch
            if state.blocked_by_row(session, batch, index, float(made[row])) is None:
                state.take_row(session, batch, index, float(made[row]))
                filled[index] = Pick(session, supply, float(made[row]), float(costs[row]))
                break
    return filled


def _pick(candidates: Candidates, option: int) -> Pick:
    return Pick(
        int(candidates.option_session[option]),
        int(candidates.option_supply[option]),
        float(candidates.option_made_bq[option]),
        float(candidates.option_cost[option]),
    )


def _placement(
    candidates: Candidates, index: int, pick: Pick, chair: int, delay_reason: str | None
) -> Placement:
    order = candidates.orders[index]
    session = candidates.sessions[pick.session]
    supply = candidates.supplies[pick.supply]
    batch = candidates.batches[supply.batch]
    return Placement(
        order=order,
        site_id=batch.site_id,
        batch_id=batch.batch_id,
        batch_start_at=batch.start_at,
        released_at=batch.released_at,
        lane_id=supply.lane_id,
        departs_at=supply.departs_at,
        arrives_at=supply.arrives_at,
        appointment_at=session.start_at,
        appointment_end_at=session.end_at,
        chair=chair,
        administration_at=session.administration_at,
        calibration_activity=Activity(pick.made_bq),
        delay_reason=delay_reason,
    )


def _assign_chairs(
    candidates: Candidates, picks: Mapping[int, Pick], kept: tuple[Placement, ...]
) -> dict[int, int]:
    """Chairs by start time, lowest free chair first (kept appointments keep theirs).

    The chair buckets hold appointments at each start to the number of chairs, so
    this interval colouring finds a chair for each.
    """
    busy: defaultdict[tuple[str, int], list[tuple[datetime, datetime]]] = defaultdict(list)
    for placement in kept:
        busy[(placement.centre_id, placement.chair)].append(
            (placement.appointment_at, placement.appointment_end_at)
        )
    sessions = {index: candidates.sessions[pick.session] for index, pick in picks.items()}
    chairs: dict[int, int] = {}
    for index in sorted(sessions, key=lambda i: (sessions[i].start_at, candidates.orders[i].order_id)):
        session = sessions[index]
        capacity = candidates.network.centres[session.centre_id].chairs
        for chair in range(1, capacity + 1):
            taken = busy[(session.centre_id, chair)]
            if all(session.end_at <= s or e <= session.start_at for s, e in taken):
                taken.append((session.start_at, session.end_at))
                chairs[index] = chair
                break
    return chairs
