"""The network's reference data: centres, and staff with their licences (anyone logged in)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from rltnet.domain.network import StaffRole
from rltnet.service.deps import CurrentUser, DbSession, PlatformDep
from rltnet.service.routes import Limit, Offset
from rltnet.service.schemas import CentrePublic, Page, StaffPublic
from rltnet.service.usecases import reference

router = APIRouter(tags=["network"])
CentreId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
ERRORS: dict[int | str, dict[str, Any]] = {401: {}, 422: {}}


@router.get("/centres", responses=ERRORS)
def list_centres(
    who: CurrentUser,
    session: DbSession,
    platform: PlatformDep,
    region: Annotated[str | None, Query(max_length=100, description="e.g. 'London'")] = None,
    product: Annotated[
        str | None, Query(max_length=64, description="centres giving this therapy: catalogue id or brand")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[CentrePublic]:
    """Treatment centres of the network, by id; an unknown product is a 422 naming the known ones."""
    return reference.centres(
        session, platform, who, region=region, product=product, limit=limit, offset=offset
    )


@router.get("/centres/{centre_id}", responses={**ERRORS, 404: {}})
def get_centre(centre_id: CentreId, who: CurrentUser, session: DbSession) -> CentrePublic:
    """One treatment centre: chairs, therapies given, time zone, MDT day, daily activity limit."""
    return reference.centre(session, who, centre_id)


@router.get("/staff", responses=ERRORS)
def list_staff(
    who: CurrentUser,
    session: DbSession,
    platform: PlatformDep,
    centre_id: Annotated[str | None, Query(max_length=64)] = None,
    role: Annotated[
        StaffRole | None, Query(description="e.g. 'authorised_practitioner', 'technologist'")
    ] = None,
    licence_expiring_within_days: Annotated[
        int | None,
        Query(
            ge=0, le=3650, description="only staff with a licence expiring within this many days, or expired"
        ),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[StaffPublic]:
    """Staff by centre, with their licences; a licence within 90 days of expiry is `expiring_soon`."""
    return reference.staff(
        session,
        platform,
        who,
        centre_id=centre_id,
        role=role.value if role else None,
        licence_expiring_within_days=licence_expiring_within_days,
        limit=limit,
        offset=offset,
    )
