"""The pathway board: a centre's patients by pathway state, who owns the next step, how long
they have waited there."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from rltnet.domain.pathway import Stage
from rltnet.service.deps import DbSession, PlatformDep
from rltnet.service.schemas import PatientPublic
from rltnet.service.security import Principal, Role
from rltnet.service.usecases import patients
from rltnet.web import render
from rltnet.web.auth import only

router = APIRouter()
ENDED = (Stage.MDT_DECLINED, Stage.COMPLETED, Stage.DISCONTINUED)
BOARD_LIMIT = 5000  # patients a centre follows at once, far above any centre's load


@router.get("/board")
def board(
    request: Request,
    who: Annotated[Principal, Depends(only(Role.COORDINATOR, Role.PHYSICIAN))],
    session: DbSession,
    platform: PlatformDep,
) -> Response:
    listed = patients.listing(
        session, platform, who, centre_id=None, stage=None, product_id=None, limit=BOARD_LIMIT, offset=0
    )
    by_stage: dict[str, list[PatientPublic]] = defaultdict(list)
    for patient in sorted(listed.items, key=lambda p: -p.waiting_hours):
        by_stage[patient.stage].append(patient)
    open_stages = [(s, by_stage.get(s.value, [])) for s in Stage if s not in ENDED]
    ended = [(s, by_stage.get(s.value, [])) for s in ENDED]
    centre = platform.network.centres[who.centre_id] if who.centre_id else None
    brands = {p.product_id: p.brand for p in platform.catalogue.therapies.values()}
    return render.page(
        request,
        platform,
        who,
        "board.html",
        title="Pathway board",
        centre=centre,
        stages=open_stages,
        ended=ended,
        total=listed.total,
        brands=brands,
        mine=_owner_word(who.role),
    )


def _owner_word(role: Role) -> str:
    """The owner prefix of `pathways.NEXT_STEP_OWNER` that means 'this viewer'."""
    return {Role.COORDINATOR: "coordinator", Role.PHYSICIAN: "physician"}.get(role, "")
