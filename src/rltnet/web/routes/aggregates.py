"""De-identified aggregates for the health system's analysts (and administrators): counts by
centre, product, stage, status and month, and how long confirmation takes. No patient or
order id is in them (`usecases.admin.aggregates`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from rltnet.service.deps import DbSession, PlatformDep
from rltnet.service.security import Principal, Role
from rltnet.service.usecases import admin
from rltnet.web import render
from rltnet.web.auth import only

router = APIRouter()

Reader = Annotated[Principal, Depends(only(Role.ANALYST, Role.ADMIN))]


@router.get("/aggregates")
def aggregates(request: Request, who: Reader, session: DbSession, platform: PlatformDep) -> Response:
    figures = admin.aggregates(session, platform, who)
    return render.page(
        request,
        platform,
        who,
        "aggregates.html",
        title="Aggregates",
        figures=figures,
        centres={c.centre_id: c.name for c in platform.network.centres.values()},
        brands={p.product_id: p.brand for p in platform.catalogue.therapies.values()},
    )
