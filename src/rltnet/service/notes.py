"""Free-text clinical notes: sealed like the identity, opened only for the patient's own centre.

A referral reason, a PET report, an MDT reason, a cancellation or discontinuation note
and every other text written on a pathway event may name or describe the patient, so it
is identifiable data: stored sealed (Fernet, under the same key as the identity), and
shown only to the staff of the patient's centre. Everyone else (manufacturer,
administrator, analyst, other centres) gets the event without its note.

Sessions carry the sealer in ``session.info`` (`Platform.start` puts it there), so the
code that writes events seals them where they are written, and no caller can forget.
Text stored before sealing (no prefix) is read as it is, and shown by the same rule.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from rltnet.service.security import Principal, Sealer

SEALED = "sealed:"  # stored notes begin with it; the rest is the Fernet token
SEALER = "sealer"  # the session.info key


def sealer_of(session: Session) -> Sealer:
    found = session.info.get(SEALER)
    if not isinstance(found, Sealer):
        raise RuntimeError("this session has no sealer: make sessions with Platform.sessions")
    return found


def seal(session: Session, note: str) -> str:
    """The stored form of `note`: empty stays empty (nothing to hide, nothing to decrypt)."""
    if not note:
        return ""
    return SEALED + sealer_of(session).seal({"note": note}).decode("ascii")


def opened(session: Session, stored: str) -> str:
    if not stored.startswith(SEALED):
        return stored
    note: Any = sealer_of(session).open(stored.removeprefix(SEALED).encode("ascii")).get("note", "")
    return str(note)


def for_viewer(session: Session, who: Principal, centre_id: str, stored: str) -> str:
    """The note as `who` may read it: the text for the patient's own centre, nothing for others."""
    return opened(session, stored) if who.sees_identity(centre_id) else ""


def seal_data(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    """Free-form clinical data (a follow-up's values) sealed whole: ``{"sealed": token}``."""
    if not data:
        return {}
    return {"sealed": seal(session, _json(data))}


def _json(data: dict[str, Any]) -> str:
    import json

    return json.dumps(data, sort_keys=True)
