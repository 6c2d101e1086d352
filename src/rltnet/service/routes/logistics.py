"""Doses, shipments and appointments: a centre sees its own; the manufacturer sees all."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from rltnet.service.deps import CurrentUser, DbSession
from rltnet.service.routes import Limit, Offset
from rltnet.service.schemas import (
    AppointmentPublic,
    DosePublic,
    Instant,
    OrderStatusName,
    Page,
    ShipmentPublic,
    ShipmentStatusName,
)
from rltnet.service.usecases import logistics
from rltnet.service.usecases.scope import centre_scope

router = APIRouter(tags=["logistics"])
CentreFilter = Annotated[str | None, Query(max_length=64, description="your own, for a centre's staff")]
OrderStatus = Annotated[
    OrderStatusName | None,
    Query(alias="status", description="the order's status, e.g. 'confirmed', 'administered'"),
]
From = Annotated[
    Instant | None, Query(alias="from", description="from this instant, inclusive (with a time zone)")
]
To = Annotated[Instant | None, Query(alias="to", description="up to this instant, exclusive")]
ERRORS: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 422: {}}


@router.get("/doses", responses=ERRORS)
def list_doses(
    who: CurrentUser,
    session: DbSession,
    centre_id: CentreFilter = None,
    status_: OrderStatus = None,
    batch_id: Annotated[str | None, Query(max_length=80)] = None,
    from_at: From = None,
    to_at: To = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[DosePublic]:
    """Doses by calibration time (`from`/`to` apply to it): batch, calibration, activity, expiry."""
    return logistics.doses(
        session,
        who,
        centre_id=centre_scope(who, centre_id),
        status=status_,
        batch_id=batch_id,
        from_at=from_at,
        to_at=to_at,
        limit=limit,
        offset=offset,
    )


@router.get("/shipments", responses=ERRORS)
def list_shipments(
    who: CurrentUser,
    session: DbSession,
    centre_id: CentreFilter = None,
    status_: Annotated[
        ShipmentStatusName | None,
        Query(alias="status", description="planned, in transit, delivered or missed"),
    ] = None,
    from_at: From = None,
    to_at: To = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ShipmentPublic]:
    """Shipments by expected arrival (`from`/`to` apply to it), with their status."""
    return logistics.shipments(
        session,
        who,
        centre_id=centre_scope(who, centre_id),
        status=status_,
        from_at=from_at,
        to_at=to_at,
        limit=limit,
        offset=offset,
    )


@router.get("/appointments", responses=ERRORS)
def list_appointments(
    who: CurrentUser,
    session: DbSession,
    centre_id: CentreFilter = None,
    status_: OrderStatus = None,
    from_at: From = None,
    to_at: To = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AppointmentPublic]:
    """Chair appointments by start (`from`/`to` apply to it), with the planned administration."""
    return logistics.appointments(
        session,
        who,
        centre_id=centre_scope(who, centre_id),
        status=status_,
        from_at=from_at,
        to_at=to_at,
        limit=limit,
        offset=offset,
    )
