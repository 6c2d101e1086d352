"""Who read which patient's identifying details or notes, and when: for administrators.

The entries are the audit trail's `read_identity` and `read_notes` (`usecases.patients`);
the page names patients by pseudonym only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from rltnet.service.deps import DbSession, PlatformDep
from rltnet.service.security import Principal, Role
from rltnet.service.usecases import admin
from rltnet.service.usecases.patients import READ_IDENTITY, READ_NOTES
from rltnet.web import render
from rltnet.web.auth import only

router = APIRouter()

Administrator = Annotated[Principal, Depends(only(Role.ADMIN))]
SHOWN = 200  # the newest reads of each kind on the page; the API pages through all


@router.get("/reads")
def reads(
    request: Request,
    who: Administrator,
    session: DbSession,
    platform: PlatformDep,
    patient: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """The newest reads of identity and notes, optionally of one patient."""
    entries = [
        entry
        for action in (READ_IDENTITY, READ_NOTES)
        for entry in admin.audit_trail(
            session,
            who,
            entity="patient",
            entity_id=patient or None,
            username=None,
            action=action,
            limit=SHOWN,
            offset=0,
        ).items
    ]
    entries.sort(key=lambda e: (e.at, e.id), reverse=True)
    return render.page(
        request, platform, who, "reads.html", title="Reads of patient data", entries=entries, patient=patient
    )
