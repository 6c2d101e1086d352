"""Dose orders: submit with an idempotency key, confirm, adjust, cancel, follow the dose."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from rltnet.service.deps import BearerToken, CurrentUser, DbSession, PlatformDep
from rltnet.service.intake import IntakeDep
from rltnet.service.routes import Limit, Offset, idempotency_key_header
from rltnet.service.schemas import (
    CancellationPreviewPublic,
    CancellationPublic,
    OrderAdjust,
    OrderCancel,
    OrderCreate,
    OrderPublic,
    OrderStatusName,
    Page,
    ProgressCreate,
    ProposalCreate,
)
from rltnet.service.usecases import orders, proposals
from rltnet.service.usecases.scope import centre_scope, therapy_id

router = APIRouter(prefix="/orders", tags=["orders"])
OrderId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^O-[0-9A-F]{1,30}$")]
ERRORS: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 404: {}, 409: {}, 422: {}}
IdempotencyKey = Annotated[
    str,
    idempotency_key_header(
        "a unique key per order (e.g. a UUID); resending it returns the order already taken"
    ),
]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderPublic,
    responses={
        **ERRORS,
        200: {"model": OrderPublic, "description": "the order already taken under this key"},
    },
)
async def submit(
    body: OrderCreate, idempotency_key: IdempotencyKey, token: BearerToken, intake: IntakeDep
) -> Response:
    """Order the patient's next dose; it is placed at once where capacity allows."""
    # async, and the token checked by the worker's writer with the others of its batch: the
    # order waits on the event loop, not on a pool thread (group commit, service.intake)
    order, created = await intake.submit(token, body, idempotency_key)
    # serialised once: returned as a model, FastAPI would validate it again before dumping it
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Response(order.model_dump_json(), code, media_type="application/json")


@router.get("", responses=ERRORS)
def list_orders(
    who: CurrentUser,
    session: DbSession,
    platform: PlatformDep,
    status_: Annotated[OrderStatusName | None, Query(alias="status")] = None,
    centre_id: Annotated[
        str | None, Query(max_length=64, description="your own, for a centre's staff")
    ] = None,
    product_id: Annotated[str | None, Query(max_length=64, description="catalogue id or brand")] = None,
    overdue: Annotated[bool | None, Query(description="awaiting confirmation for over 24 h")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[OrderPublic]:
    """Orders, oldest first, with their waiting time (a centre sees its own)."""
    return orders.listing(
        session,
        platform,
        who,
        status=status_,
        centre_id=centre_scope(who, centre_id),
        product_id=therapy_id(platform.catalogue, product_id),
        overdue=overdue,
        limit=limit,
        offset=offset,
    )


@router.get("/{order_id}", responses=ERRORS)
def get_order(order_id: OrderId, who: CurrentUser, session: DbSession, platform: PlatformDep) -> OrderPublic:
    return orders.get(session, platform, who, order_id)


@router.post("/{order_id}/confirmation", responses=ERRORS)
def confirm(order_id: OrderId, who: CurrentUser, session: DbSession, platform: PlatformDep) -> OrderPublic:
    """The manufacturer confirms the order (target: within 24 h of ordering)."""
    return orders.confirm(session, platform, who, order_id)


@router.post("/{order_id}/adjustment", responses=ERRORS)
def adjust(
    order_id: OrderId, body: OrderAdjust, who: CurrentUser, session: DbSession, platform: PlatformDep
) -> OrderPublic:
    """A new preferred time; the dose is placed again and needs confirming again."""
    return orders.adjust(session, platform, who, order_id, body)


@router.post("/{order_id}/proposal", responses=ERRORS)
def propose(
    order_id: OrderId, body: ProposalCreate, who: CurrentUser, session: DbSession, platform: PlatformDep
) -> OrderPublic:
    """The manufacturer proposes another time inside the order's window; nothing moves until the
    centre accepts it."""
    return proposals.propose(session, platform, who, order_id, body)


@router.post("/{order_id}/proposal/acceptance", responses=ERRORS)
def accept_proposal(
    order_id: OrderId, who: CurrentUser, session: DbSession, platform: PlatformDep
) -> OrderPublic:
    """The centre's coordinator accepts the proposed time: the order is adjusted to it (placed
    again, to be confirmed again)."""
    return proposals.accept(session, platform, who, order_id)


@router.get("/{order_id}/cancellation", responses=ERRORS)
def cancellation_preview(
    order_id: OrderId, who: CurrentUser, session: DbSession, platform: PlatformDep
) -> CancellationPreviewPublic:
    """What cancelling now would cost, in the terms of the centre's country; nothing changes."""
    return orders.cancellation_preview(session, platform, who, order_id)


@router.post("/{order_id}/cancellation", responses=ERRORS)
def cancel(
    order_id: OrderId, body: OrderCancel, who: CurrentUser, session: DbSession, platform: PlatformDep
) -> CancellationPublic:
    """Cancel the order; the product's cancellation fee, if one applies, is shown."""
    return orders.cancel(session, platform, who, order_id, body)


@router.post("/{order_id}/progress", responses=ERRORS)
def progress(
    order_id: OrderId, body: ProgressCreate, who: CurrentUser, session: DbSession, platform: PlatformDep
) -> OrderPublic:
    """The dose's journey: production, QC, shipment, delivery; or a missed dose."""
    return orders.progress(session, platform, who, order_id, body)
