"""The audit trail: every write, who made it, when, and the record before and after."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
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
) -> None:
    """Add an audit entry in the caller's transaction (it commits with the write it records)."""
    session.add(tables.AuditEntry(**entry(who, action, entity, entity_id, before, after)))


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
) -> dict[str, Any]:
    """The values of one audit entry, made now."""
    return {
        "at": datetime.now(UTC),
        "username": who.username,
        "role": who.role.value,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "before": before,
        "after": after,
    }


def snapshot(row: tables.Base, *, leave_out: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A record's columns as JSON-ready values, for the trail."""
    columns = row.__table__.columns
    return as_json({c.key: getattr(row, c.key) for c in columns if c.key not in leave_out})


def as_json(values: Mapping[str, Any]) -> dict[str, Any]:
    """Column values JSON-ready: dates and instants in ISO 8601."""
    return {key: v.isoformat() if hasattr(v, "isoformat") else v for key, v in values.items()}
