"""Many rows into one table at once: COPY on PostgreSQL, an executemany elsewhere.

The order intake writes each batch's orders, events, doses, shipments,
appointments and audit entries this way. Through SQLAlchemy, psycopg sends an
executemany as one INSERT per row, and each row costs 70-100 microseconds of
client CPU; psycopg's COPY costs about 25 (bench/RESULTS.md), and the server
runs one statement for them all.

The values go through the columns' own bind processing (`UtcDateTime`, JSON),
as an INSERT would, so the stored rows are the same either way. A table whose
omitted columns have Python-side defaults is written by the INSERT, which
applies them; COPY would store NULL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

import psycopg
from sqlalchemy import Dialect, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

Bind = Callable[[Any], Any] | None


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (each with the same keys) into `table` in the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    columns = tuple(rows[0])
    if connection.dialect.name != "postgresql" or _defaults_left_out(table, columns):
        connection.execute(table.insert(), list(rows))
        return
    statement, binds = _copy_of(table, columns, connection.dialect)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                values = map(row.__getitem__, columns)
                copy.write_row([v if b is None else b(v) for b, v in zip(binds, values, strict=True)])
    except psycopg.Error as failure:  # as SQLAlchemy raises it: IntegrityError, OperationalError...
        raise DBAPIError.instance(statement, None, failure, psycopg.Error) from failure
    finally:
        cursor.close()


@cache
def _copy_of(table: Table, columns: tuple[str, ...], dialect: Dialect) -> tuple[str, list[Bind]]:
    """The COPY statement for these columns, and each column's bind processing (or None)."""
    quote = dialect.identifier_preparer
    names = ", ".join(quote.quote(name) for name in columns)
    statement = f"COPY {quote.format_table(table)} ({names}) FROM STDIN"
    return statement, [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]


@cache
def _defaults_left_out(table: Table, columns: tuple[str, ...]) -> bool:
    return any(c.default is not None and c.key not in columns for c in table.columns)
