"""The database's last guard on the counters (migration 0006), on SQLite and PostgreSQL: a
batch booked below 0 or over its capacity, or a centre-day's activity below 0, is refused;
counters a race corrupted before are repaired by the migration."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, insert, text, update
from sqlalchemy.exc import IntegrityError

from rltnet.store import db, tables
from rltnet.store.migrate import upgrade


@pytest.fixture
def before_checks(fresh_database_url: str) -> Iterator[Engine]:
    engine = db.connect(fresh_database_url)
    upgrade(engine, "0005")
    yield engine
    engine.dispose()


def _corrupt(engine: Engine) -> None:
    """What issue 15 saw: a batch's booked count driven below 0, a centre-day's activity too."""
    with engine.begin() as connection:
        connection.execute(
            insert(tables.Centre),
            [
                {
                    "id": "c1",
                    "name": "Test centre",
                    "region": "North",
                    "chairs": 4,
                    "products": [],
                    "time_zone": "Europe/London",
                    "latitude": 53.8,
                    "longitude": -1.55,
                    "mdt_weekday": "wed",
                    "daily_activity_limit_bq": 2e12,
                },
            ],
        )
        connection.execute(
            insert(tables.Batch),
            [
                {
                    "id": "s1-a",
                    "site_id": "s1",
                    "start_at": datetime(2026, 12, 17, 6, tzinfo=UTC),
                    "capacity": 6,
                    "booked": -3,
                    "failed": False,
                },
                {
                    "id": "s1-b",
                    "site_id": "s1",
                    "start_at": datetime(2026, 12, 18, 6, tzinfo=UTC),
                    "capacity": 6,
                    "booked": 0,
                    "failed": False,
                },
            ],
        )
        connection.execute(
            insert(tables.CentreDay),
            [{"centre_id": "c1", "day": date(2026, 12, 17), "activity_bq": -14.8e9}],
        )


def test_the_migration_repairs_corrupted_counters_and_then_guards_them(before_checks: Engine) -> None:
    _corrupt(before_checks)
    upgrade(before_checks)
    with before_checks.connect() as connection:
        booked = {row.id: row.booked for row in connection.execute(text("SELECT id, booked FROM batches"))}
        activity = connection.execute(text("SELECT activity_bq FROM centre_days")).scalar_one()
    assert booked == {"s1-a": 0, "s1-b": 0}, "recounted from the doses (none)"
    assert activity == 0
    batches, days = tables.Batch, tables.CentreDay
    for change in (
        update(batches).where(batches.id == "s1-a").values(booked=batches.booked - 1),
        update(batches).where(batches.id == "s1-b").values(booked=7),
        update(days).where(days.centre_id == "c1").values(activity_bq=-7.4e9),
    ):
        with pytest.raises(IntegrityError), before_checks.begin() as connection:
            connection.execute(change)
    with before_checks.begin() as connection:
        connection.execute(update(batches).where(batches.id == "s1-b").values(booked=6))  # full is fine
