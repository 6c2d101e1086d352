"""Connecting to the database: the embedded SQLite file by default, PostgreSQL when named.

`connect(url)` gives an engine set up for the dialect: SQLite in WAL mode with
foreign keys on and a busy timeout (several server threads write to one file),
PostgreSQL through psycopg 3. A plain ``postgresql://`` URL is read as psycopg.
Nothing connects at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from rltnet.domain.errors import InvalidInput


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3; SQLite paths get their folder."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise InvalidInput(
            f"cannot read database URL {url!r}; write e.g. 'sqlite:///var/rltnet.sqlite' or "
            f"'postgresql://user@127.0.0.1:5432/rltnet'"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    if not parsed.drivername.startswith(("sqlite", "postgresql")):
        raise InvalidInput(f"database {parsed.drivername!r} is not supported; use SQLite or PostgreSQL")
    return parsed.render_as_string(hide_password=False)


def connect(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for `url`, configured for its dialect.

    A PostgreSQL pool holds up to 2 x `pool_size` connections per process: with the
    server's default of 100, four worker processes leave room for other clients.
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL lets readers work while one writer commits; NORMAL sync is durable when the
    # process dies (not when the machine loses power); a busy timeout queues writers.
    connection.isolation_level = None  # transactions are begun explicitly below
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock at the start of every transaction, so that a booking's read and
    # write see one consistent state (SQLite's equivalent of SELECT ... FOR UPDATE).
    connection.exec_driver_sql("BEGIN IMMEDIATE")
