"""The manufacturer's reads of supply: how full the coming batches are, and whom a change touches.

Batches appear in the database when a first dose is booked on them (`service.placement`),
so the loads are of batches with at least one booking, or a failure declared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rltnet.service.errors import Forbidden
from rltnet.service.security import Principal, Role
from rltnet.store import tables

SUPPLY_ROLES = (Role.MANUFACTURER, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class BatchLoad:
    batch_id: str
    site_id: str
    start_at: datetime  # the calibration time of its doses
    booked: int
    capacity: int
    failed: bool

    @property
    def full(self) -> bool:
        return self.booked >= self.capacity


@dataclass(frozen=True, slots=True)
class Touched:
    """An order a re-plan changes: whose it is (pseudonym) and where it is given."""

    order_id: str
    patient_id: str
    centre_id: str
    status: str


def _may_read(who: Principal) -> None:
    if who.role not in SUPPLY_ROLES:
        raise Forbidden("batch loads and re-plans are for the manufacturer and administrators")


def batch_loads(session: Session, who: Principal, start: datetime, days: int) -> list[BatchLoad]:
    """The batches starting in `days` days from `start`, by start time and site."""
    _may_read(who)
    batch = tables.Batch
    rows = session.scalars(
        select(batch)
        .where(batch.start_at >= start, batch.start_at < start + timedelta(days=days))
        .order_by(batch.start_at, batch.site_id, batch.id)
    )
    loads = [BatchLoad(r.id, r.site_id, r.start_at, r.booked, r.capacity, r.failed) for r in rows]
    session.rollback()  # end the read: no connection is held past it
    return loads


def touched(session: Session, who: Principal, order_ids: Iterable[str]) -> dict[str, Touched]:
    """The orders of a change list, by id, in one read (a re-plan may change hundreds)."""
    _may_read(who)
    wanted = sorted(set(order_ids))
    if not wanted:
        return {}
    order = tables.Order
    rows = session.execute(
        select(order.id, order.patient_id, order.centre_id, order.status).where(order.id.in_(wanted))
    )
    found = {r.id: Touched(r.id, r.patient_id, r.centre_id, r.status) for r in rows}
    session.rollback()
    return found
