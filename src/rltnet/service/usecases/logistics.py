"""Doses, shipments and appointments: what instant placement and the planner booked.

Each is one row per placed order, joined with its order for the centre, patient
pseudonym and product. A centre's coordinator and physician see their own centre
only; the manufacturer and administrators see every centre (pseudonyms only);
analysts see none (they have the aggregates). Time filters are half-open:
``from <= instant < to``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from rltnet.service.errors import Forbidden
from rltnet.service.schemas import AppointmentPublic, DosePublic, Page, ShipmentPublic
from rltnet.service.security import CENTRE_ROLES, Principal, Role
from rltnet.store import tables

Row = TypeVarTuple("Row")


def _may_list(who: Principal) -> None:
    if who.role is Role.ANALYST:
        raise Forbidden("analysts see de-identified aggregates only: GET /api/v1/aggregates")


def _filtered(
    query: Select[*Row],
    who: Principal,
    centre: InstrumentedAttribute[str],
    centre_id: str | None,
    instant: InstrumentedAttribute[datetime],
    from_at: datetime | None,
    to_at: datetime | None,
) -> Select[*Row]:
    """The caller's centre (for centre roles), then the centre and time filters."""
    if who.role in CENTRE_ROLES:
        query = query.where(centre == who.centre_id)
    if centre_id:
        query = query.where(centre == centre_id)
    if from_at is not None:
        query = query.where(instant >= from_at)
    if to_at is not None:
        query = query.where(instant < to_at)
    return query


def _total(session: Session, query: Select[*tuple[Any, ...]]) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def doses(
    session: Session,
    who: Principal,
    *,
    centre_id: str | None,
    status: str | None,
    batch_id: str | None,
    from_at: datetime | None,
    to_at: datetime | None,
    limit: int,
    offset: int,
) -> Page[DosePublic]:
    """Doses by calibration time; `status` is the order's (requested, confirmed, administered...)."""
    _may_list(who)
    query = select(tables.Dose, tables.Order).join(tables.Order, tables.Order.id == tables.Dose.order_id)
    query = _filtered(
        query, who, tables.Order.centre_id, centre_id, tables.Dose.calibration_at, from_at, to_at
    )
    if status:
        query = query.where(tables.Order.status == status)
    if batch_id:
        query = query.where(tables.Dose.batch_id == batch_id)
    total = _total(session, query)
    rows = session.execute(
        query.order_by(tables.Dose.calibration_at, tables.Dose.order_id).limit(limit).offset(offset)
    )
    items = [
        DosePublic(
            order_id=order.id,
            patient_id=order.patient_id,
            centre_id=order.centre_id,
            product_id=order.product_id,
            cycle=order.cycle,
            order_status=order.status,
            site_id=dose.site_id,
            batch_id=dose.batch_id,
            calibration_at=dose.calibration_at,
            calibration_gbq=dose.calibration_bq / 1e9,
            prescribed_gbq=order.prescribed_bq / 1e9,
            released_at=dose.released_at,
            expiry_at=dose.expiry_at,
            dose_of=dose.dose_of,
        )
        for dose, order in rows
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)


def shipments(
    session: Session,
    who: Principal,
    *,
    centre_id: str | None,
    status: str | None,
    from_at: datetime | None,
    to_at: datetime | None,
    limit: int,
    offset: int,
) -> Page[ShipmentPublic]:
    """Shipments by expected arrival; `status` is the shipment's (planned, in transit,
    delivered, missed); the time filters apply to the expected arrival."""
    _may_list(who)
    query = (
        select(tables.Shipment, tables.Order, tables.Dose.site_id)
        .join(tables.Order, tables.Order.id == tables.Shipment.order_id)
        .outerjoin(tables.Dose, tables.Dose.order_id == tables.Shipment.order_id)
    )
    query = _filtered(
        query, who, tables.Order.centre_id, centre_id, tables.Shipment.arrives_at, from_at, to_at
    )
    if status:
        query = query.where(tables.Shipment.status == status)
    total = _total(session, query)
    rows = session.execute(
        query.order_by(tables.Shipment.arrives_at, tables.Shipment.order_id).limit(limit).offset(offset)
    )
    items = [
        ShipmentPublic(
            order_id=order.id,
            patient_id=order.patient_id,
            centre_id=order.centre_id,
            product_id=order.product_id,
            site_id=site_id,
            lane_id=shipment.lane_id,
            departs_at=shipment.departs_at,
            eta_at=shipment.arrives_at,
            status=shipment.status,
        )
        for shipment, order, site_id in rows
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)


def appointments(
    session: Session,
    who: Principal,
    *,
    centre_id: str | None,
    status: str | None,
    from_at: datetime | None,
    to_at: datetime | None,
    limit: int,
    offset: int,
) -> Page[AppointmentPublic]:
    """Appointments by start time; `status` is the order's; the time filters apply to the start."""
    _may_list(who)
    query = select(tables.Appointment, tables.Order).join(
        tables.Order, tables.Order.id == tables.Appointment.order_id
    )
    query = _filtered(
        query, who, tables.Appointment.centre_id, centre_id, tables.Appointment.start_at, from_at, to_at
    )
    if status:
        query = query.where(tables.Order.status == status)
    total = _total(session, query)
    rows = session.execute(
        query.order_by(tables.Appointment.start_at, tables.Appointment.order_id).limit(limit).offset(offset)
    )
    items = [
        AppointmentPublic(
            order_id=order.id,
            patient_id=order.patient_id,
            centre_id=appointment.centre_id,
            product_id=order.product_id,
            order_status=order.status,
            chair=appointment.chair,
            start_at=appointment.start_at,
            end_at=appointment.end_at,
            administration_at=appointment.administration_at,
            delay_reason=appointment.delay_reason,
        )
        for appointment, order in rows
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)
