"""Date proposals: the manufacturer offers another administration time, the centre accepts it.

The usual practice when a dose cannot be made for the time a centre asked for: the
manufacturer proposes another date inside the order's window; the centre's
coordinator, who knows the patient, accepts it (or not, and adjusts or cancels the
order as before). A proposal changes no placement; accepting it adjusts the order
(`orders.adjust`: placed again, confirmed again) and clears it. One proposal at a
time: a new one replaces the last.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from rltnet.domain.errors import InvalidInput
from rltnet.domain.pathway import Stage
from rltnet.domain.units import format_instant
from rltnet.service import audit
from rltnet.service.errors import Conflict, Forbidden, NotFound
from rltnet.service.platform import Platform
from rltnet.service.schemas import OrderAdjust, OrderPublic, ProposalCreate
from rltnet.service.security import Principal, Role
from rltnet.service.usecases import orders
from rltnet.store import tables

OPEN = ("requested", "confirmed")  # orders whose dose may still be made for another date


def propose(
    session: Session, platform: Platform, who: Principal, order_id: str, body: ProposalCreate
) -> OrderPublic:
    """The manufacturer's proposal of another time, inside the order's window, in the future."""
    if who.role is not Role.MANUFACTURER:
        raise Forbidden("another date is proposed by the manufacturer; a centre adjusts its own order")
    row = _open_order(session, who, order_id)
    _check_movable(session, row, platform.clock.now())
    _check_time(row, body.proposed_at, platform.clock.now())
    before = audit.snapshot(row)
    row.proposed_at, row.proposal_note = body.proposed_at, body.note or None
    audit.record(
        session, who, "propose", "order", order_id, before, audit.snapshot(row), at=platform.clock.now()
    )
    answer = orders.public(session, row, platform)
    session.commit()
    return answer


def accept(session: Session, platform: Platform, who: Principal, order_id: str) -> OrderPublic:
    """The centre's coordinator accepts the proposal: the order moves to the proposed time.

    The acceptance and the adjustment are written together: `orders.adjust` commits the
    session, which holds the cleared proposal and its audit entry too.
    """
    if who.role is not Role.COORDINATOR:
        raise Forbidden("a proposed date is accepted by a coordinator of the patient's centre")
    row = _open_order(session, who, order_id)
    proposed = row.proposed_at
    if proposed is None:
        raise Conflict(
            f"order {order_id} has no proposed date to accept; adjust the order to change its time"
        )
    _check_movable(session, row, platform.clock.now())
    _check_time(row, proposed, platform.clock.now())
    before = audit.snapshot(row)
    row.proposed_at, row.proposal_note = None, None
    audit.record(
        session,
        who,
        "accept_proposal",
        "order",
        order_id,
        before,
        audit.snapshot(row),
        at=platform.clock.now(),
    )
    return orders.adjust(session, platform, who, order_id, OrderAdjust(preferred_at=proposed))


def _open_order(session: Session, who: Principal, order_id: str) -> tables.Order:
    """The order, if the caller may see it (another centre's is not found) and it is still open."""
    row = session.get(tables.Order, order_id)
    if row is None or not who.sees_centre(row.centre_id):
        raise NotFound("order", order_id)
    if row.status not in OPEN:
        raise Conflict(
            f"order {order_id} is {row.status}; another date can be proposed or accepted only while "
            f"it is requested or confirmed"
        )
    return row


def _check_movable(session: Session, row: tables.Order, now: datetime) -> None:
    """Not once its dose is being made: production recorded, or its batch's start passed."""
    patient = session.get(tables.Patient, row.patient_id)
    dose = session.get(tables.Dose, row.id)
    started = dose is not None and dose.calibration_at <= now
    if started or (patient is not None and patient.stage not in (Stage.ORDERED, Stage.CONFIRMED)):
        raise Conflict(f"the dose of order {row.id} is already in production; it cannot be moved")


def _check_time(row: tables.Order, at: datetime, now: datetime) -> None:
    """Inside the order's window (the label's interval for the cycle), and not already past."""
    if not row.earliest_at <= at <= row.latest_at:
        raise InvalidInput(
            f"the proposed time {format_instant(at)} is outside the window of order {row.id}: "
            f"{format_instant(row.earliest_at)} to {format_instant(row.latest_at)}; propose a time inside it"
        )
    if at <= now:
        raise InvalidInput(f"the proposed time {format_instant(at)} has passed; propose a later time")
