"""The audit trail: every write, who made it, when, and the record before and after."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from rltnet.service.security import Principal
from rltnet.store import tables


def record(
    session: Session,
    who: Principal,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add an audit entry in the caller's transaction (it commits with the write it records)."""
    session.add(
        tables.AuditEntry(
            at=datetime.now(UTC),
            username=who.username,
            role=who.role.value,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
        )
    )


def snapshot(row: tables.Base, *, leave_out: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A record's columns as JSON-ready values, for the trail."""
    values: dict[str, Any] = {}
    for column in row.__table__.columns:
        if column.key in leave_out:
            continue
        value = getattr(row, column.key)
        values[column.key] = value.isoformat() if hasattr(value, "isoformat") else value
    return values
