"""Connecting to the database: the embedded SQLite file by default, PostgreSQL when named.

`connect(url)` gives an engine set up for the dialect: SQLite in WAL mode with
foreign keys on and a busy timeout (several server threads write to one file),
PostgreSQL through psycopg 3. A plain ``postgresql://`` URL is read as psycopg.
Nothing connects at import time.

On SQLite a transaction takes the file's one write lock from its start (BEGIN
IMMEDIATE), so that what a booking reads is what it writes against. A read does
not need it: a session from `reading(engine)` begins its transactions deferred (a
snapshot of the last commit, taken without waiting for any writer, in WAL mode),
and refuses to write, since a deferred transaction that tried would fail at once
whenever another writer had committed since its read (SQLite does not wait there).
A read that must also write (recording a read) calls `writing(session)` first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from rltnet.domain.errors import InvalidInput, RltnetError

READ_ONLY = "rltnet_read_only"  # the execution option that marks a reading engine's connections
POOL_SIZE = 10  # connections kept per process on PostgreSQL; as many again may be opened
POOL_TIMEOUT_S = 30  # the longest a request waits for a connection (PostgreSQL) or the lock (SQLite)


class WriteInRead(RltnetError):
    """A session made for reading tried to write: a programming error, not the caller's."""


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
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise InvalidInput(
                f"cannot make the SQLite file's folder {str(folder)!r} ({err.strerror}); give a path you "
                f"may write, e.g. 'sqlite:///var/rltnet.sqlite'"
            ) from None
    if not parsed.drivername.startswith(("sqlite", "postgresql")):
        raise InvalidInput(f"database {parsed.drivername!r} is not supported; use SQLite or PostgreSQL")
    return parsed.render_as_string(hide_password=False)


def unreachable(url: str, err: BaseException) -> InvalidInput:
    """The error for a database that cannot be reached or opened: where, why, what to do.
    The URL is shown without its password."""
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        shown = "the database URL"
    reason = str(getattr(err, "orig", None) or err).strip().splitlines()
    why = reason[0] if reason else type(err).__name__
    return InvalidInput(
        f"cannot open the database {shown} ({why}); check RLTNET_DATABASE_URL or --database-url: the "
        f"server's host, port, user and database name (createdb NAME makes one), or the SQLite path"
    )


def connect(url: str, *, pool_size: int = POOL_SIZE) -> Engine:
    """An engine for `url`, configured for its dialect.

    A PostgreSQL pool holds up to 2 x `pool_size` connections per process: with the
    server's default of 100, four worker processes leave room for other clients. The
    service admits fewer requests at once per process than that (`service.admission`),
    so a request never waits for a connection held by one that waits for a thread.
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": POOL_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "before_cursor_execute", _sqlite_refuse_writes_in_reads)
        return engine
    return create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_timeout=POOL_TIMEOUT_S, pool_pre_ping=True
    )


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def reading(engine: Engine) -> Engine:
    """The engine, for sessions that only read: on SQLite they take no write lock."""
    return engine.execution_options(**{READ_ONLY: True})


def writing(session: Session, engine: Engine) -> None:
    """Let a session made for reading write from its next transaction on: its read is ended
    (it has written nothing), and it is bound to the writing `engine`."""
    if session.new or session.dirty or session.deleted:
        raise WriteInRead("a reading session was changed before `writing`; call it before any change")
    session.rollback()
    session.bind = engine


def _is_read(connection: Connection) -> bool:
    return bool(connection.get_execution_options().get(READ_ONLY, False))


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


def _sqlite_begin(connection: Connection) -> None:
    # A writer takes the write lock at the start of its transaction, so that a booking's
    # read and write see one consistent state (SQLite's SELECT ... FOR UPDATE); a reader
    # takes a snapshot and no lock.
    connection.exec_driver_sql("BEGIN" if _is_read(connection) else "BEGIN IMMEDIATE")


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")


def _sqlite_refuse_writes_in_reads(connection: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    if _is_read(connection) and statement.lstrip()[:7].upper().startswith(_WRITES):
        raise WriteInRead(
            "a read request tried to write; call rltnet.store.db.writing(session, engine) before it"
        )
