"""The audit trail: every write, who made it, when, and the record before and after.

Also logins, logouts and failed logins (never a password). The trail is append-only,
so it holds only JSON any reader can take back (`readable`): a value that could not be
read would break every later read of the trail.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from rltnet.service.security import Principal
from rltnet.store import tables
from rltnet.store.bulk import insert_rows


def record(
    session: Session,
    who: Principal,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    *,
    at: datetime,
) -> None:
    """Add an audit entry made `at` (the service clock's now) in the caller's transaction (it
    commits with the write it records)."""
    session.add(tables.AuditEntry(**entry(who, action, entity, entity_id, before, after, at=at)))


def record_login(
    session: Session,
    username: str,
    role: str,
    action: str,
    client: str,
    reason: str | None = None,
    *,
    at: datetime,
) -> None:
    """A login, failed login or refused login (`action`) by `username` from `client`, made `at`
    (the service clock's now); no password."""
    after = {"client": client} | ({"reason": reason} if reason else {})
    session.add(
        tables.AuditEntry(
            at=at,
            username=readable(username[:64]),
            role=role[:32],
            action=action,
            entity="user",
            entity_id=readable(username[:80]),
            before=None,
            after=after,
        )
    )


TRAIL: Table = tables.AuditEntry.__table__  # type: ignore[assignment]


def record_many(session: Session, entries: list[dict[str, Any]]) -> None:
    """Add many `entry` values at once, in the caller's transaction."""
    insert_rows(session, TRAIL, entries)


def entry(
    who: Principal,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    *,
    at: datetime,
) -> dict[str, Any]:
    """The values of one audit entry, made `at` (the service clock's now)."""
    return {
        "at": at,
        "username": who.username,
        "role": who.role.value,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "before": readable(before),
        "after": readable(after),
    }


MAX_DEPTH = 16
LEFT_OUT = "(nested deeper than 16: left out)"


def readable(value: Any, depth: int = 0) -> Any:
    """`value` as JSON every reader takes back: lone surrogates as U+FFFD, numbers that are not
    finite as null, nesting past `MAX_DEPTH` left out, keys as text.

    Requests are refused such values at the edge (`schemas.unreadable`); this keeps the trail
    sound whatever a caller records, and repairs, on the way out, entries written before.
    """
    if isinstance(value, str):
        return _paired(value) if _has_surrogate(value) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            return LEFT_OUT
        if isinstance(value, dict):
            return {readable(str(k)): readable(v, depth + 1) for k, v in value.items()}
        return [readable(v, depth + 1) for v in value]
    return value


def _paired(text: str) -> str:
    """Surrogate pairs joined, each lone one replaced by U+FFFD."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def snapshot(row: tables.Base, *, leave_out: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A record's columns as JSON-ready values, for the trail."""
    columns = row.__table__.columns
    return as_json({c.key: getattr(row, c.key) for c in columns if c.key not in leave_out})


def as_json(values: Mapping[str, Any]) -> dict[str, Any]:
    """Column values JSON-ready: dates and instants in ISO 8601."""
    return {key: v.isoformat() if hasattr(v, "isoformat") else v for key, v in values.items()}
