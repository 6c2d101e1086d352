"""Administration and oversight: users, the audit trail, de-identified aggregates.

Users and the audit trail are for administrators only. The aggregates are for
analysts and administrators: counts and means over centres, products, stages,
statuses and months, with no patient or order id in them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from statistics import fmean
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from rltnet.domain import disclosure
from rltnet.domain.pathway import Move
from rltnet.service import audit
from rltnet.service.errors import Forbidden
from rltnet.service.platform import Platform
from rltnet.service.schemas import (
    AggregatesPublic,
    AuditPublic,
    CentreMonthCount,
    CentreStageCount,
    ConfirmationAggregate,
    Page,
    ProductStageCount,
    StatusCount,
    UserCreate,
    UserPublic,
)
from rltnet.service.security import Principal, Role
from rltnet.service.usecases import users
from rltnet.service.usecases.orders import confirmation_target
from rltnet.store import tables


def create_user(session: Session, platform: Platform, who: Principal, body: UserCreate) -> UserPublic:
    """A new user (administrators only); the creation is audited, without the password hash."""
    return users.create(session, platform, who, body)


def user_listing(
    session: Session,
    who: Principal,
    *,
    role: Role | None,
    centre_id: str | None,
    limit: int,
    offset: int,
) -> Page[UserPublic]:
    """Users by username (administrators only), filtered by role and centre."""
    found = users.listing(session, who)  # refuses anyone but an administrator
    if role:
        found = [u for u in found if u.role == role.value]
    if centre_id:
        found = [u for u in found if u.centre_id == centre_id]
    return Page(items=found[offset : offset + limit], total=len(found), limit=limit, offset=offset)


def audit_trail(
    session: Session,
    who: Principal,
    *,
    entity: str | None,
    entity_id: str | None,
    username: str | None,
    action: str | None,
    limit: int,
    offset: int,
) -> Page[AuditPublic]:
    """The audit trail, newest first (administrators only)."""
    if who.role is not Role.ADMIN:
        raise Forbidden("the audit trail is read by an administrator")
    query = select(tables.AuditEntry)
    if entity:
        query = query.where(tables.AuditEntry.entity == entity)
    if entity_id:
        query = query.where(tables.AuditEntry.entity_id == entity_id)
    if username:
        query = query.where(tables.AuditEntry.username == username)
    if action:
        query = query.where(tables.AuditEntry.action == action)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(tables.AuditEntry.at.desc(), tables.AuditEntry.id.desc()).limit(limit).offset(offset)
    )
    items = [
        AuditPublic(
            id=r.id,
            at=r.at,
            username=r.username,
            role=r.role,
            action=r.action,
            entity=r.entity,
            entity_id=r.entity_id,
            before=audit.readable(r.before),
            after=audit.readable(r.after),
        )
        for r in rows
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)


def aggregates(session: Session, platform: Platform, who: Principal) -> AggregatesPublic:
    """De-identified counts for the health system (analysts and administrators)."""
    if who.role not in (Role.ANALYST, Role.ADMIN):
        raise Forbidden("aggregates are for analysts and administrators")
    patient = tables.Patient
    by_centre = _counted(
        session.execute(
            select(patient.centre_id, patient.stage, func.count())
            .group_by(patient.centre_id, patient.stage)
            .order_by(patient.centre_id, patient.stage)
        )
    )
    by_product = _counted(
        session.execute(
            select(patient.product_id, patient.stage, func.count())
            .group_by(patient.product_id, patient.stage)
            .order_by(patient.product_id, patient.stage)
        )
    )
    by_status = _counted(
        session.execute(
            select(tables.Order.status, func.count())
            .group_by(tables.Order.status)
            .order_by(tables.Order.status)
        )
    )
    return AggregatesPublic(
        at=platform.clock.now(),
        suppression=disclosure.RULE,
        patients_by_centre_stage=[
            CentreStageCount(centre_id=c, stage=s, patients=n) for (c, s), n in by_centre.items()
        ],
        patients_by_product_stage=[
            ProductStageCount(product_id=p, stage=s, patients=n) for (p, s), n in by_product.items()
        ],
        orders_by_status=[StatusCount(status=s, orders=n) for (s,), n in by_status.items()],
        administered_by_centre_month=_administered_by_month(session),
        confirmation=_confirmation(session, platform),
    )


def _counted(rows: Iterable[Sequence[Any]]) -> dict[tuple[Any, ...], int | None]:
    """A grouped count's rows (the groups, then the count) with the small-number rule applied."""
    return disclosure.suppress({tuple(row[:-1]): int(row[-1]) for row in rows})


def _month(session: Session, instant: InstrumentedAttribute[datetime]) -> ColumnElement[Any]:
    """The instant's calendar month in UTC, as 'YYYY-MM', in the database's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", instant), "YYYY-MM")
    return func.strftime("%Y-%m", instant)  # SQLite holds instants as naive UTC


def _administered_by_month(session: Session) -> list[CentreMonthCount]:
    """Doses given, by the patient's centre and the month of the recorded administration."""
    event = tables.PathwayEventRow
    month = _month(session, event.at).label("month")
    rows = session.execute(
        select(tables.Patient.centre_id, month, func.count())
        .join(tables.Patient, tables.Patient.id == event.patient_id)
        .where(event.move == Move.ADMINISTER.value)
        .group_by(tables.Patient.centre_id, month)
        .order_by(tables.Patient.centre_id, month)
    )
    given = {(c, str(m)): int(n) for c, m, n in rows}
    for key in _voided_administrations(session):  # a voided entry was never a dose given
        given[key] -= 1
    counted = disclosure.suppress({key: n for key, n in given.items() if n > 0})
    return [CentreMonthCount(centre_id=c, month=str(m), doses=n) for (c, m), n in counted.items()]


def _voided_administrations(session: Session) -> list[tuple[str, str]]:
    """The centre and month of each administration entry a later VOID undid."""
    event = tables.PathwayEventRow
    voids = session.execute(select(event.patient_id, event.data).where(event.move == Move.VOID.value))
    targets = {(pid, (data or {}).get("corrects")) for pid, data in voids}
    if not targets:
        return []
    month = _month(session, event.at).label("month")
    given = session.execute(
        select(event.patient_id, event.seq, tables.Patient.centre_id, month)
        .join(tables.Patient, tables.Patient.id == event.patient_id)
        .where(event.move == Move.ADMINISTER.value)
        .where(event.patient_id.in_({pid for pid, _ in targets}))
    )
    return [(centre, str(m)) for pid, seq, centre, m in given if (pid, seq) in targets]


def _confirmation(session: Session, platform: Platform) -> ConfirmationAggregate:
    """Orders awaiting confirmation now, overdue against their product's target, and the
    mean time to confirmation of those confirmed."""
    at = platform.clock.now()
    waiting = session.execute(
        select(tables.Order.product_id, tables.Order.placed_at).where(tables.Order.status == "requested")
    )
    hours: list[float] = []
    overdue = 0
    for product_id, placed_at in waiting:
        waited = at - placed_at
        hours.append(waited.total_seconds() / 3600)
        target = confirmation_target(platform.catalogue.therapy(product_id))
        overdue += waited > target
    confirmed, placed = tables.Order.confirmed_at, tables.Order.placed_at
    seconds: ColumnElement[Any]
    if session.get_bind().dialect.name == "postgresql":
        seconds = func.extract("epoch", confirmed - placed)
    else:
        seconds = (func.julianday(confirmed) - func.julianday(placed)) * 86400
    mean_seconds = session.scalar(select(func.avg(seconds)).where(confirmed.is_not(None)))
    shown = disclosure.suppress({("awaiting",): len(hours), ("overdue",): overdue})
    too_few = shown[("awaiting",)] is None  # a mean of one to four waits is close to each of them
    return ConfirmationAggregate(
        awaiting=shown[("awaiting",)],
        mean_waiting_hours=round(fmean(hours), 1) if hours and not too_few else None,
        overdue=shown[("overdue",)],
        mean_hours_to_confirmation=None if mean_seconds is None else round(float(mean_seconds) / 3600, 2),
    )
