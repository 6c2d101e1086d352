"""The plan in force, its re-optimisation, and disruptions the manufacturer declares."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from rltnet.service.deps import CurrentUser, DbSession, PlatformDep
from rltnet.service.routes import Limit, Offset
from rltnet.service.schemas import (
    DisruptionCreate,
    DisruptionPublic,
    OptimiseCreate,
    Page,
    PlanPublic,
    ReplanPublic,
)
from rltnet.service.usecases import plan

router = APIRouter(tags=["plan"])
ERRORS: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 422: {}}


@router.get("/plan", responses=ERRORS)
def get_plan(
    who: CurrentUser,
    session: DbSession,
    platform: PlatformDep,
    centre_id: Annotated[str | None, Query(max_length=64, description="one centre's part")] = None,
) -> PlanPublic:
    """The open orders' placements and what could not be placed (a centre sees its own part)."""
    return plan.view(session, platform, who, centre_id)


@router.post("/plan/optimise", responses=ERRORS)
def optimise(
    body: OptimiseCreate, who: CurrentUser, session: DbSession, platform: PlatformDep
) -> ReplanPublic:
    """Re-run the exact planner over every open order; confirmed orders stay put unless they cannot."""
    return plan.optimise(session, platform, who, commit=body.commit)


@router.post("/disruptions", responses=ERRORS)
def declare(
    body: DisruptionCreate, who: CurrentUser, session: DbSession, platform: PlatformDep
) -> ReplanPublic:
    """Declare what failed (reactor outage, failed batch, cancelled or late lane, closed centre):
    the plan is re-made around it and the changes listed; `commit` stores both."""
    events = [item.to_event() for item in body.events]
    return plan.declare(session, platform, who, events, body.now, commit=body.commit)


@router.get("/disruptions", responses=ERRORS)
def list_disruptions(
    who: CurrentUser,
    session: DbSession,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[DisruptionPublic]:
    return plan.disruptions(session, who, limit, offset)
