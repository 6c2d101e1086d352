"""The manufacturer's order queue: orders awaiting confirmation, longest waiting first, with
confirm and propose-another-date actions, and how full the coming batches are.

Administrators see the queue read-only. A proposal is accepted by the centre's
coordinator on the order's page (`proposal.html`, posting to this module).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from rltnet.domain.errors import InvalidInput
from rltnet.service.deps import DbSession, PlatformDep
from rltnet.service.platform import Platform
from rltnet.service.routes import Offset
from rltnet.service.routes.orders import OrderId
from rltnet.service.schemas import ProposalCreate
from rltnet.service.security import Principal, Role
from rltnet.service.usecases import orders, proposals, supply
from rltnet.web import render
from rltnet.web.auth import only, posting

router = APIRouter()
QUEUE_PAGE = 200  # orders on one page of the queue; older pages by the links below it
BATCH_DAYS = 28  # how far ahead the batch loads reach: order windows open about two weeks out

Reader = Annotated[Principal, Depends(only(Role.MANUFACTURER, Role.ADMIN))]
Maker = Annotated[Principal, Depends(posting(Role.MANUFACTURER))]
Coordinator = Annotated[Principal, Depends(posting(Role.COORDINATOR))]


@router.get("/queue")
def queue(
    request: Request,
    who: Reader,
    session: DbSession,
    platform: PlatformDep,
    centre: Annotated[str, Query(max_length=64)] = "",
    product: Annotated[str, Query(max_length=64)] = "",
    offset: Offset = 0,
) -> Response:
    waiting = orders.listing(
        session,
        platform,
        who,
        status="requested",
        centre_id=centre or None,
        product_id=product or None,
        overdue=None,
        limit=QUEUE_PAGE,
        offset=offset,
    )
    today = platform.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return render.page(
        request,
        platform,
        who,
        "queue.html",
        title="Order queue",
        waiting=waiting,
        acts=who.role is Role.MANUFACTURER,
        batches=supply.batch_loads(session, who, today, BATCH_DAYS),
        batch_days=BATCH_DAYS,
        centres=platform.network.centres,
        zones=_zones(platform),
        brands={p.product_id: p.brand for p in platform.catalogue.therapies.values()},
        chosen={"centre": centre, "product": product},
        page_size=QUEUE_PAGE,
        a_minute=timedelta(minutes=1),  # a datetime-local's minute holds the window's opening second
    )


@router.post("/queue/{order_id}/confirm")
def confirm(order_id: OrderId, who: Maker, session: DbSession, platform: PlatformDep) -> Response:
    done = orders.confirm(session, platform, who, order_id)
    return render.redirect(
        "/queue", f"Order {done.id} (patient {done.patient_id}) confirmed; its centre sees it confirmed."
    )


@router.post("/queue/{order_id}/propose")
def propose(
    order_id: OrderId,
    who: Maker,
    session: DbSession,
    platform: PlatformDep,
    proposed_at: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The time is entered on the wall clock of the order's centre, as its coordinator reads it."""
    order = orders.get(session, platform, who, order_id)
    zone = render.zone_of(platform, order.centre_id)
    body = _proposal(proposed_at, note, zone)
    done = proposals.propose(session, platform, who, order_id, body)
    return render.redirect(
        "/queue",
        f"Proposed {render.when(done.proposed_at, zone)} for order {done.id}; it stays as it is until "
        f"the centre's coordinator accepts the new date.",
    )


@router.post("/orders/{order_id}/proposal/accept")
def accept(order_id: OrderId, who: Coordinator, session: DbSession, platform: PlatformDep) -> Response:
    done = proposals.accept(session, platform, who, order_id)
    zone = render.zone_of(platform, done.centre_id)
    placed = (
        "it is placed again and awaits the manufacturer's confirmation"
        if done.placement is not None
        else f"it could not be placed yet: {done.plan_note or 'no option'}"
    )
    return render.redirect(
        f"/orders/{done.id}",
        f"Accepted: order {done.id} moves to {render.when(done.preferred_at, zone)}; {placed}.",
    )


def _proposal(proposed_at: str, note: str, zone: ZoneInfo) -> ProposalCreate:
    """The form's fields as the API's body; what cannot be read is said as the API says it."""
    if not proposed_at:
        raise InvalidInput("enter the date and time to propose, then press 'Propose date'")
    try:
        at = render.from_input(proposed_at, zone)
    except (ValueError, OverflowError) as err:
        raise InvalidInput(
            f"{proposed_at!r} is not a date and time; enter one as YYYY-MM-DDTHH:MM, e.g. 2027-01-04T09:00"
        ) from err
    try:
        return ProposalCreate(proposed_at=at, note=note)
    except ValidationError as err:
        raise RequestValidationError(err.errors()) from err


def _zones(platform: Platform) -> dict[str, ZoneInfo]:
    """Each centre's zone: an order's times are shown on its centre's wall clock."""
    return {centre_id: c.calendar.time_zone for centre_id, c in platform.network.centres.items()}
