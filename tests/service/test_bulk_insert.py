"""`store.bulk.insert_rows` stores what SQLAlchemy's INSERT stores, on SQLite and PostgreSQL
(where it writes by COPY), and fails as an INSERT would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, Table, func, select, text
from sqlalchemy.exc import IntegrityError

from rltnet.store import db, tables
from rltnet.store.bulk import insert_rows
from rltnet.store.migrate import upgrade

AUDIT: Table = tables.AuditEntry.__table__  # type: ignore[assignment]
BATCHES: Table = tables.Batch.__table__  # type: ignore[assignment]


@pytest.fixture
def engine(fresh_database_url: str) -> Iterator[Engine]:
    engine = db.connect(fresh_database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _audit_rows(marker: str) -> list[dict[str, Any]]:
    """Entries with what the trail holds: JSON null and SQL null, nesting, quotes, tabs and
    newlines (COPY's own escapes), non-ASCII, and instants in another zone."""
    paris = timezone(timedelta(hours=1))
    return [
        {
            "at": datetime(2026, 3, 29, 1, 30, tzinfo=paris),
            "username": "coord-leeds",
            "role": "coordinator",
            "action": "order",
            "entity": "order",
            "entity_id": f"{marker}-1",
            "before": None,
            "after": {"note": 'tab\there, "quoted", back\\slash\nnew line', "gbq": 7.4, "n": [1, None]},
        },
        {
            "at": datetime(2026, 12, 2, 23, 59, 59, 999999, tzinfo=UTC),
            "username": "médecin",
            "role": "physician",
            "action": "adjust",
            "entity": "order",
            "entity_id": f"{marker}-2",
            "before": {"status": "requested"},
            "after": {},
        },
    ]


def _stored(engine: Engine, marker: str) -> list[tuple[Any, ...]]:
    """The rows as the database holds them, JSON as its text and whether it is SQL NULL."""
    query = text(
        "SELECT at, username, role, action, entity, entity_id, before IS NULL, after IS NULL, "
        "before, after FROM audit WHERE entity_id LIKE :marker ORDER BY entity_id"
    )
    with engine.connect() as connection:
        rows = connection.execute(query, {"marker": f"{marker}-%"}).all()
    return [(*row[:8], _json(row[8]), _json(row[9])) for row in rows]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def test_rows_stored_by_insert_rows_read_back_as_an_insert_s(engine: Engine) -> None:
    with db.sessions(engine)() as session:
        insert_rows(session, AUDIT, _audit_rows("bulk"))
        session.execute(AUDIT.insert(), _audit_rows("insert"))
        session.commit()
    bulk, inserted = _stored(engine, "bulk"), _stored(engine, "insert")
    assert len(bulk) == 2
    strip = [(row[:5] + row[6:]) for row in bulk]  # all but the entity_id, which differs by marker
    assert strip == [(row[:5] + row[6:]) for row in inserted]
    with db.sessions(engine)() as session:
        first = session.scalars(select(tables.AuditEntry).filter_by(entity_id="bulk-1")).one()
    assert first.at == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the same instant, read in UTC
    assert first.after is not None and first.after["note"].startswith("tab\there")


def test_a_duplicate_key_fails_as_an_integrity_error_and_stores_nothing(engine: Engine) -> None:
    at = datetime.now(UTC)
    row = {"id": "B-1", "site_id": "s", "start_at": at, "capacity": 3, "booked": 0, "failed": False}
    with db.sessions(engine)() as session:
        insert_rows(session, BATCHES, [row])
        session.commit()
        with pytest.raises(IntegrityError):
            insert_rows(session, BATCHES, [{**row, "id": "B-2"}, row])
        session.rollback()
        assert session.scalar(select(func.count()).select_from(BATCHES)) == 1


def test_columns_left_out_get_their_python_defaults(engine: Engine) -> None:
    """`booked` and `failed` have defaults in the model only: the rows are written by INSERT."""
    rows = [{"id": f"B-{n}", "site_id": "s", "start_at": datetime.now(UTC), "capacity": 3} for n in range(2)]
    with db.sessions(engine)() as session:
        insert_rows(session, BATCHES, rows)
        session.commit()
        stored = session.execute(select(BATCHES.c.booked, BATCHES.c.failed)).all()
    assert [tuple(r) for r in stored] == [(0, False), (0, False)]
