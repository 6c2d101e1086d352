"""The plan as the service holds it, re-optimised on demand and re-planned after disruptions.

The open orders (requested or confirmed) and their placements in the database make
a `planning.Plan`. `optimise` and `declare` run the planner over it
(`planning.replan`: in-flight doses stay, confirmed orders stay put unless they
cannot) and show the change list; with ``commit`` they write the new placements
and the counters of batches and centre-days in one transaction. Declared
disruptions are stored and apply to every later plan.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from rltnet.domain.errors import InvalidInput, UnknownName
from rltnet.domain.network import Network
from rltnet.domain.units import Activity
from rltnet.files.plan_file import events_json
from rltnet.planning.checker import PlanBreaksRules, check_plan
from rltnet.planning.exact import ExactPlanner
from rltnet.planning.plan import Placement, Plan, Unplanned
from rltnet.planning.replan import (
    BatchFailed,
    CentreClosed,
    Event,
    LaneCancelled,
    LaneDelayed,
    NoShow,
    OrderCancelled,
    ReactorOutage,
    Replan,
    disruptions_of,
    replan,
    with_outages,
)
from rltnet.planning.summary import summarise
from rltnet.service import audit
from rltnet.service.disruptions import stored_events
from rltnet.service.errors import Conflict, Forbidden
from rltnet.service.placement import serialise
from rltnet.service.platform import Platform
from rltnet.service.schemas import (
    ChangePublic,
    DisruptionPublic,
    Page,
    PlanEntryPublic,
    PlanPublic,
    ReplanPublic,
    SolverPublic,
    UnplannedPublic,
)
from rltnet.service.security import Principal, Role
from rltnet.service.usecases.orders import domain_order
from rltnet.service.usecases.scope import centre_scope
from rltnet.store import tables

OPEN = ("requested", "confirmed")
HELD_FOR = timedelta(days=1)  # a closed order's booking still counts this long after its appointment


def network_now(session: Session, platform: Platform) -> Network:
    """The network with the reactor outages declared so far."""
    return with_outages(platform.network, stored_events(session))


def _with_placements() -> Select[tables.Order, tables.Dose, tables.Shipment, tables.Appointment]:
    return (
        select(tables.Order, tables.Dose, tables.Shipment, tables.Appointment)
        .outerjoin(tables.Dose, tables.Dose.order_id == tables.Order.id)
        .outerjoin(tables.Shipment, tables.Shipment.order_id == tables.Order.id)
        .outerjoin(tables.Appointment, tables.Appointment.order_id == tables.Order.id)
        .order_by(tables.Order.id)
    )


def current(session: Session, platform: Platform, centre_id: str | None = None) -> Plan:
    """The open orders and their placements, as a plan."""
    query = _with_placements().where(tables.Order.status.in_(OPEN))
    if centre_id is not None:
        query = query.where(tables.Order.centre_id == centre_id)
    placements: list[Placement] = []
    unplanned: list[Unplanned] = []
    for order, dose, shipment, appointment in session.execute(query):
        if dose is None or shipment is None or appointment is None:
            unplanned.append(Unplanned(domain_order(order), order.plan_note or "not placed yet"))
        else:
            placements.append(_placement(order, dose, shipment, appointment))
    return Plan(tuple(placements), tuple(unplanned))


def held(session: Session, now: datetime) -> list[Placement]:
    """Placements of orders no longer open (given, missed, failed) whose appointment is not
    long over: they still hold chairs, the day's activity and isotope."""
    query = (
        _with_placements()
        .where(tables.Order.status.not_in(OPEN))
        .where(tables.Appointment.end_at > now - HELD_FOR)
        .where(tables.Dose.order_id.is_not(None))
        .where(tables.Shipment.order_id.is_not(None))
    )
    return [_placement(*row) for row in session.execute(query)]


def _placement(
    order: tables.Order, dose: tables.Dose, shipment: tables.Shipment, appointment: tables.Appointment
) -> Placement:
    return Placement(
        order=domain_order(order),
        site_id=dose.site_id,
        batch_id=dose.batch_id,
        batch_start_at=dose.calibration_at,
        released_at=dose.released_at,
        lane_id=shipment.lane_id,
        departs_at=shipment.departs_at,
        arrives_at=shipment.arrives_at,
        appointment_at=appointment.start_at,
        appointment_end_at=appointment.end_at,
        chair=appointment.chair,
        administration_at=appointment.administration_at,
        calibration_activity=Activity(dose.calibration_bq),
        delay_reason=appointment.delay_reason,
        dose_of=dose.dose_of,
    )


def view(session: Session, platform: Platform, who: Principal, centre_id: str | None) -> PlanPublic:
    """The manufacturer's whole plan, or a centre's part of it, with its summary."""
    if who.role is Role.ANALYST:
        raise Forbidden("analysts see de-identified aggregates only: GET /api/v1/aggregates")
    centre_id = centre_scope(who, centre_id)
    plan = current(session, platform, centre_id)
    summary = summarise(plan, network_now(session, platform), platform.catalogue).to_json()
    if centre_id is not None:  # one centre's part: no other centre's figures
        chairs = summary["chair_utilisation"]
        chairs["per_centre"] = {c: u for c, u in chairs["per_centre"].items() if c == centre_id}
        chairs["mean"] = chairs["per_centre"].get(centre_id, 0.0)
    return PlanPublic(
        summary=summary,
        placements=[_placement_public(p) for p in plan.placements],
        unplanned=[UnplannedPublic(order_id=u.order.order_id, reason=u.reason) for u in plan.unplanned],
    )


def optimise(session: Session, platform: Platform, who: Principal, *, commit: bool) -> ReplanPublic:
    """Re-run the exact planner over the open orders; show (and with `commit`, apply) the changes."""
    return _replan(session, platform, who, [], platform.clock.now(), commit=commit, action="optimise")


def declare(
    session: Session,
    platform: Platform,
    who: Principal,
    events: list[Event],
    now: datetime | None,
    *,
    commit: bool,
) -> ReplanPublic:
    """Re-plan around failures; with `commit`, store them (they apply to every later plan)."""
    for event in events:
        if isinstance(event, OrderCancelled | NoShow):
            raise InvalidInput(
                f"order {event.order_id}: a cancellation or a no-show is recorded on the order itself "
                "(POST /api/v1/orders/{id}/cancellation or /progress), not declared as a disruption"
            )
        _check_names(platform.network, event)
    return _replan(
        session, platform, who, events, now or platform.clock.now(), commit=commit, action="disruption"
    )


def _check_names(network: Network, event: Event) -> None:
    """A disruption of a reactor, lane or centre the network lacks would be stored and change
    nothing: refuse it, naming the known ones."""
    if isinstance(event, ReactorOutage) and event.reactor_id not in network.reactors:
        raise UnknownName("reactor", event.reactor_id, network.reactors)
    if isinstance(event, LaneCancelled | LaneDelayed) and event.lane_id not in network.lanes:
        raise UnknownName("lane", event.lane_id, network.lanes)
    if isinstance(event, CentreClosed) and event.centre_id not in network.centres:
        raise UnknownName("centre", event.centre_id, network.centres)


def _replan(
    session: Session,
    platform: Platform,
    who: Principal,
    events: list[Event],
    now: datetime,
    *,
    commit: bool,
    action: str,
) -> ReplanPublic:
    if who.role not in (Role.MANUFACTURER, Role.ADMIN):
        raise Forbidden(
            "the plan is re-optimised and disruptions declared by the manufacturer or an administrator"
        )
    if commit:  # before the read: the plan it changes is the one it read (usecases.orders.changing)
        serialise(session)
    old = current(session, platform)
    earlier = stored_events(session)
    booked = held(session, now)
    result = replan(
        old, platform.network, platform.catalogue, [*earlier, *events], now, ExactPlanner(), held=booked
    )
    _require_valid(result, booked, [*earlier, *events], now, platform)
    changes = [
        ChangePublic(order_id=c.order_id, kind=c.kind, before=c.before, after=c.after, reason=c.reason)
        for c in result.changes
    ]
    if commit:
        _apply(session, platform, old, result)
        if events:
            session.add(
                tables.Disruption(
                    declared_at=now,
                    declared_by=who.username,
                    events=events_json(events),
                    changes=[c.model_dump() for c in changes],
                )
            )
            failed = [e.batch_id for e in events if isinstance(e, BatchFailed)]
            if failed:  # under the placement lock, as every write that placement reads
                serialise(session)
                session.execute(update(tables.Batch).where(tables.Batch.id.in_(failed)).values(failed=True))
        audit.record(
            session,
            who,
            action,
            "plan",
            now.isoformat(),
            after={"events": events_json(events), "changes": len(changes)},
            at=platform.clock.now(),
        )
        audit.record_many(session, _changes_audited(who, action, old, result, platform.clock.now()))
        session.commit()
    report = result.plan.report
    solver = (
        None
        if report is None
        else SolverPublic(
            objective=report.objective, bound=report.bound, gap=report.gap, status=report.status
        )
    )
    return ReplanPublic(committed=commit, events=events_json(events), changes=changes, solver=solver)


def _changes_audited(
    who: Principal, action: str, old: Plan, result: Replan, at: datetime
) -> list[dict[str, Any]]:
    """One audit entry per order the re-plan changed: its placement before and after, and why."""
    before = {p.order.order_id: p for p in old.placements}
    after = {p.order.order_id: p for p in result.plan.placements}
    return [
        audit.entry(
            who,
            action,
            "order",
            change.order_id,
            before=_placement_audited(before.get(change.order_id)),
            after=(_placement_audited(after.get(change.order_id)) or {})
            | {"change": change.kind, "reason": change.reason},
            at=at,
        )
        for change in result.changes
    ]


def _placement_audited(placement: Placement | None) -> dict[str, Any] | None:
    if placement is None:
        return None
    return audit.as_json(
        {
            "batch_id": placement.batch_id,
            "lane_id": placement.lane_id,
            "departs_at": placement.departs_at,
            "arrives_at": placement.arrives_at,
            "chair": placement.chair,
            "appointment_at": placement.appointment_at,
            "administration_at": placement.administration_at,
            "calibration_gbq": placement.calibration_activity.gbq,
        }
    )


def _require_valid(
    result: Replan, booked: list[Placement], events: list[Event], now: datetime, platform: Platform
) -> None:
    """Refuse (409) a re-plan that breaks a rule of the plan checker, with the bookings still
    held counted in: it is neither shown as a preview nor written."""
    whole = dataclasses.replace(result.plan, placements=(*result.plan.placements, *booked))
    kept_ids = {p.order.order_id for p in booked}
    violations = [
        v
        for v in check_plan(
            whole, result.network, platform.catalogue, disruptions=disruptions_of(events), now=now
        )
        if v.order_id not in kept_ids
    ]
    if violations:
        raise Conflict(str(PlanBreaksRules(violations, "the re-plan")))


def _apply(session: Session, platform: Platform, old: Plan, result: Replan) -> None:
    """Write the placements that changed; recount the batches and centre-days they touch.

    Every changed placement is released before any is booked, so an order may take
    the chair another order has just left.
    """
    before = {p.order.order_id: p for p in old.placements}
    after = {p.order.order_id: p for p in result.plan.placements}
    changed = [p for i, p in after.items() if i not in before or not _same(before[i], p)]
    for order_id, previous in before.items():
        if order_id not in after or not _same(previous, after[order_id]):
            platform.placer.release(session, order_id, previous.order.prescribed.bq)
    for placement in changed:
        site = platform.network.sites[placement.site_id]
        platform.placer.book(session, placement, site.doses_per_batch)
        row = session.get(tables.Order, placement.order.order_id)
        if row is not None:
            row.plan_note = None
    for unplanned in result.plan.unplanned:
        row = session.get(tables.Order, unplanned.order.order_id)
        if row is not None:
            row.plan_note = unplanned.reason


def _same(a: Placement, b: Placement) -> bool:
    keys = (
        "batch_id",
        "lane_id",
        "departs_at",
        "arrives_at",
        "appointment_at",
        "chair",
        "calibration_activity",
    )
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def _placement_public(p: Placement) -> PlanEntryPublic:
    return PlanEntryPublic(
        **{
            "order_id": p.order.order_id,
            "patient_id": p.order.patient_id,
            "product_id": p.order.product_id,
            "centre_id": p.centre_id,
            "site_id": p.site_id,
            "batch_id": p.batch_id,
            "batch_start_at": p.batch_start_at,
            "lane_id": p.lane_id,
            "departs_at": p.departs_at,
            "arrives_at": p.arrives_at,
            "chair": p.chair,
            "appointment_at": p.appointment_at,
            "administration_at": p.administration_at,
            "calibration_gbq": p.calibration_activity.gbq,
            "delay_reason": p.delay_reason,
        }
    )


def disruptions(session: Session, who: Principal, limit: int, offset: int) -> Page[DisruptionPublic]:
    """The disruptions declared so far, newest first (network events: every staff role sees them)."""
    if who.role is Role.ANALYST:
        raise Forbidden("analysts see de-identified aggregates only: GET /api/v1/aggregates")
    total = session.scalar(select(func.count()).select_from(tables.Disruption)) or 0
    rows = session.scalars(
        select(tables.Disruption).order_by(tables.Disruption.id.desc()).limit(limit).offset(offset)
    )
    items = [
        DisruptionPublic(
            id=row.id,
            declared_at=row.declared_at,
            declared_by=row.declared_by,
            events=row.events,
            changed_orders=len({c["order_id"] for c in row.changes}),
        )
        for row in rows
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)


__all__ = ["current", "declare", "disruptions", "network_now", "optimise", "view"]
