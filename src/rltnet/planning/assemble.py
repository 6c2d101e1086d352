"""From chosen options to a `Plan`: chairs, placements, reasons and the objective."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime

from rltnet.domain.units import Activity
from rltnet.planning.candidates import Candidates
from rltnet.planning.capacity import CapacityState
from rltnet.planning.explain import why_delayed, why_unplanned
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


def build_plan(
    candidates: Candidates,
    chosen: Mapping[int, int],
    report: SolverReport,
    kept: tuple[Placement, ...] = (),
) -> Plan:
    """The plan of `chosen` (order index -> option), with chairs assigned and each
    unplanned or delayed order's reason. `kept` placements stay as they are."""
    state = CapacityState(candidates)
    for taken in chosen.values():
        state.take(taken)
    chairs = _assign_chairs(candidates, chosen, kept)
    placements = list(kept)
    unplanned = []
    for index, order in enumerate(candidates.orders):
        option = chosen.get(index)
        if option is None:
            unplanned.append(Unplanned(order, why_unplanned(candidates, index, state)))
            continue
        chair = chairs.get(index)
        if chair is None:
            unplanned.append(Unplanned(order, "no chair free for the appointment"))
            continue
        placements.append(
            _placement(candidates, index, option, chair, why_delayed(candidates, index, option, state))
        )
    placements.sort(key=lambda p: (p.administration_at, p.order.order_id))
    unplanned.sort(key=lambda u: u.order.order_id)
    return Plan(tuple(placements), tuple(unplanned), report)


def _placement(
    candidates: Candidates, index: int, option: int, chair: int, delay_reason: str | None
) -> Placement:
    order = candidates.orders[index]
    session = candidates.sessions[int(candidates.option_session[option])]
    supply = candidates.supplies[int(candidates.option_supply[option])]
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
        calibration_activity=Activity(float(candidates.option_made_bq[option])),
        delay_reason=delay_reason,
    )


def _assign_chairs(
    candidates: Candidates, chosen: Mapping[int, int], kept: tuple[Placement, ...]
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
    sessions = {index: candidates.sessions[int(candidates.option_session[o])] for index, o in chosen.items()}
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
