"""Users and the audit trail (administrators); de-identified aggregates (analysts too)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from rltnet.service.deps import CurrentUser, DbSession, PlatformDep
from rltnet.service.routes import Limit, Offset
from rltnet.service.schemas import AggregatesPublic, AuditPublic, Page, UserCreate, UserPublic
from rltnet.service.security import Role
from rltnet.service.usecases import admin

router = APIRouter(tags=["admin"])
ERRORS: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 422: {}}


@router.post("/users", status_code=status.HTTP_201_CREATED, responses={**ERRORS, 409: {}})
def create_user(body: UserCreate, who: CurrentUser, session: DbSession, platform: PlatformDep) -> UserPublic:
    """Create a user (administrator); a coordinator or physician needs a centre, others none."""
    return admin.create_user(session, platform, who, body)


@router.get("/users", responses=ERRORS)
def list_users(
    who: CurrentUser,
    session: DbSession,
    role: Role | None = None,
    centre_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[UserPublic]:
    """Users by username (administrator)."""
    return admin.user_listing(session, who, role=role, centre_id=centre_id, limit=limit, offset=offset)


@router.get("/audit", responses=ERRORS)
def list_audit(
    who: CurrentUser,
    session: DbSession,
    entity: Annotated[str | None, Query(max_length=40, description="e.g. 'patient', 'order', 'user'")] = None,
    entity_id: Annotated[str | None, Query(max_length=80)] = None,
    username: Annotated[str | None, Query(max_length=64, description="who made the write")] = None,
    action: Annotated[str | None, Query(max_length=64, description="e.g. 'refer', 'confirm'")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AuditPublic]:
    """The append-only audit trail, newest first: who, when, what, the record before and after."""
    return admin.audit_trail(
        session,
        who,
        entity=entity,
        entity_id=entity_id,
        username=username,
        action=action,
        limit=limit,
        offset=offset,
    )


@router.get("/aggregates", responses=ERRORS)
def get_aggregates(who: CurrentUser, session: DbSession, platform: PlatformDep) -> AggregatesPublic:
    """De-identified counts (analyst, administrator): patients by centre, product and stage;
    orders by status; doses given by centre and month; confirmation waiting times."""
    return admin.aggregates(session, platform, who)
