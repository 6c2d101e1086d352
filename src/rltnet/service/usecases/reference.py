"""The network's reference data: centres, and their staff with licences and expiry.

Not patient data: anyone logged in may read it. The rows come from the network
file, written to the database at start (`store.sync`).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rltnet.service.errors import NotFound
from rltnet.service.platform import Platform
from rltnet.service.schemas import CentrePublic, LicencePublic, Page, StaffPublic
from rltnet.service.security import Principal
from rltnet.store import tables

EXPIRING_SOON = timedelta(days=90)  # a licence this close to its expiry (or past it) needs renewing


def today(platform: Platform) -> date:
    """Today's date in UTC on the service clock (licences expire on dates)."""
    return platform.clock.now().date()


def centres(
    session: Session,
    platform: Platform,
    who: Principal,
    *,
    region: str | None,
    product: str | None,
    limit: int,
    offset: int,
) -> Page[CentrePublic]:
    """Centres by id; `region` matches exactly, `product` is a catalogue id or brand.

    The product filter runs over the region's rows in Python: the products are a
    JSON list, and a network has tens of centres, not thousands.
    """
    query = select(tables.Centre).order_by(tables.Centre.id)
    if region:
        query = query.where(tables.Centre.region == region)
    rows = list(session.scalars(query))
    if product:
        product_id = platform.catalogue.therapy(product).product_id  # unknown: UnknownName, 422
        rows = [r for r in rows if product_id in r.products]
    return Page(
        items=[_centre(r) for r in rows[offset : offset + limit]], total=len(rows), limit=limit, offset=offset
    )


def centre(session: Session, who: Principal, centre_id: str) -> CentrePublic:
    row = session.get(tables.Centre, centre_id)
    if row is None:
        raise NotFound("centre", centre_id)
    return _centre(row)


def _centre(row: tables.Centre) -> CentrePublic:
    return CentrePublic(
        id=row.id,
        name=row.name,
        region=row.region,
        chairs=row.chairs,
        products=list(row.products),
        time_zone=row.time_zone,
        latitude=row.latitude,
        longitude=row.longitude,
        mdt_weekday=row.mdt_weekday,
        daily_activity_limit_gbq=row.daily_activity_limit_bq / 1e9,
    )


def staff(
    session: Session,
    platform: Platform,
    who: Principal,
    *,
    centre_id: str | None,
    role: str | None,
    licence_expiring_within_days: int | None,
    limit: int,
    offset: int,
) -> Page[StaffPublic]:
    """Staff by centre and id; `licence_expiring_within_days` keeps those with a licence
    that expires within that many days of today (or has expired already)."""
    query = select(tables.StaffMember)
    if centre_id:
        query = query.where(tables.StaffMember.centre_id == centre_id)
    if role:
        query = query.where(tables.StaffMember.role == role)
    if licence_expiring_within_days is not None:
        horizon = today(platform) + timedelta(days=licence_expiring_within_days)
        query = query.where(tables.StaffMember.first_licence_expiry <= horizon)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(tables.StaffMember.centre_id, tables.StaffMember.id).limit(limit).offset(offset)
    )
    on = today(platform)
    return Page(items=[_member(r, on) for r in rows], total=total, limit=limit, offset=offset)


def _member(row: tables.StaffMember, on: date) -> StaffPublic:
    licences = []
    for licence in row.licences:
        expires_on = date.fromisoformat(licence["expires_on"])
        licences.append(
            LicencePublic(
                kind=licence["kind"],
                covers=list(licence["covers"]),
                expires_on=expires_on,
                expiring_soon=expires_on <= on + EXPIRING_SOON,
            )
        )
    return StaffPublic(
        id=row.id, centre_id=row.centre_id, role=row.role, weekdays=list(row.weekdays), licences=licences
    )
