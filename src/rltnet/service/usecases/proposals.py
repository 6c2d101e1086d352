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
from rltnet.domain.orders import OrderChange, next_status
from rltnet.domain.units import format_instant
from rltnet.service import audit
from rltnet.service.errors import Conflict, Forbidden
from rltnet.service.platform import Platform
from rltnet.service.schemas import OrderAdjust, OrderPublic, ProposalCreate
from rltnet.service.security import Principal, Role
from rltnet.service.usecases import orders
from rltnet.store import tables


def propose(
    session: Session, platform: Platform, who: Principal, order_id: str, body: ProposalCreate
) -> OrderPublic:
    """The manufacturer's proposal of another time, inside the order's window, in the future."""
    if who.role is not Role.MANUFACTURER:
        raise Forbidden("another date is proposed by the manufacturer; a centre adjusts its own order")
    row = orders.changing(session, who, order_id)
    next_status(order_id, row.status, OrderChange.PROPOSE)
    orders.check_movable(session, row, platform.clock.now())
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
    row = orders.changing(session, who, order_id)
    next_status(order_id, row.status, OrderChange.ACCEPT_PROPOSAL)
    proposed = row.proposed_at
    if proposed is None:
        raise Conflict(
            f"order {order_id} has no proposed date to accept; adjust the order to change its time"
        )
    orders.check_movable(session, row, platform.clock.now())
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


def _check_time(row: tables.Order, at: datetime, now: datetime) -> None:
    """Inside the order's window (the label's interval for the cycle), and not already past."""
    if not row.earliest_at <= at <= row.latest_at:
        raise InvalidInput(
            f"the proposed time {format_instant(at)} is outside the window of order {row.id}: "
            f"{format_instant(row.earliest_at)} to {format_instant(row.latest_at)}; propose a time inside it"
        )
    if at <= now:
        raise InvalidInput(f"the proposed time {format_instant(at)} has passed; propose a later time")
