"""Run a structured query read-only, with a row cap and a time limit, and shape the rows.

SQLite: a dedicated connection (never one from the app's pool) with ``PRAGMA query_only=1``
and an authorizer (:meth:`sqlite3.Connection.set_authorizer`) that allows only SELECT,
reading the whitelisted tables and columns (:data:`core.query.schema.READABLE`) and a short
list of functions; everything else (another table, a write, a PRAGMA, ATTACH) is denied by
SQLite itself. A progress handler stops a query that runs too long.
PostgreSQL: a transaction opened with ``SET TRANSACTION READ ONLY`` and a ``statement_timeout``,
always rolled back. The whitelist in :mod:`core.query.schema` decides what the SQL can name.

Rows come back as JSON-ready dicts: money as decimal strings ("1250.00"), dates and times in
ISO form, tags as a sorted list.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from core.db import Database
from core.errors import DomainError
from core.money import cents_to_decimal
from core.query.compiler import DECIMAL, OutputColumn, compile_query
from core.query.schema import BOOLEAN, DATE, DATETIME, MONEY, READABLE, TAGS
from core.query.validator import Query, validate_query

QUERY_TIMEOUT_SECONDS = 10.0

# SQL functions the compiler uses (LIKE and its escape run as the function "like")
_SQLITE_FUNCTIONS = frozenset({
    "count", "sum", "min", "max", "coalesce", "lower", "like", "date", "strftime",
    "julianday", "group_concat",
})


class QueryRefused(DomainError):
    """The database refused a query (outside what queries may read, or too slow)."""


@dataclass(frozen=True)
class QueryResult:
    query: dict[str, Any]  # the normalised query that ran
    columns: tuple[OutputColumn, ...]
    rows: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False  # more rows matched than the limit

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.rows, ensure_ascii=False, indent=indent)

    def table(self) -> tuple[list[str], list[list[str]]]:
        """Headers and cells as plain strings, for a table on screen (render them as text,
        never as markup)."""
        headers = [c.name for c in self.columns]
        return headers, [[display(row.get(c.name)) for c in self.columns] for row in self.rows]


def display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def run_query(db: Database, query: str | dict[str, Any] | Query, *,
              today: dt.date | None = None) -> QueryResult:
    """Validate (unless given a checked :class:`Query`), compile and run a query."""
    if not isinstance(query, Query):
        query = validate_query(query, today=today or dt.date.today())
    compiled = compile_query(query, db.dialect)
    with read_only_connection(db) as conn:
        try:
            raw_rows = conn.execute(compiled.statement).fetchall()
        except OperationalError as exc:
            raise _refusal(exc) from None
        except DBAPIError as exc:
            if db.is_sqlite and isinstance(exc.orig, sqlite3.DatabaseError):
                raise _refusal(exc) from None
            raise
    truncated = len(raw_rows) > compiled.limit
    rows = [_row(compiled.columns, r) for r in raw_rows[: compiled.limit]]
    return QueryResult(query.as_dict(), compiled.columns, rows, truncated)


def _refusal(exc: DBAPIError) -> QueryRefused:
    text = str(exc.orig).lower()
    if "interrupted" in text or "statement timeout" in text or "canceling statement" in text:
        return QueryRefused(f"The query ran longer than {QUERY_TIMEOUT_SECONDS:g} s and was "
                            "stopped; narrow it (a where on a date, a smaller limit).")
    if "not authorized" in text or "prohibited" in text or "read-only" in text:
        return QueryRefused("The query tried to reach data queries may not read, or to change "
                            "something; it was refused and nothing was read.")
    return QueryRefused(f"The database could not run the query ({str(exc.orig).splitlines()[0]})")


# --------------------------------------------------------------------------- read-only


def _authorize(action: int, arg1: str | None, arg2: str | None, _db: str | None,
               _source: str | None) -> int:
    if action == sqlite3.SQLITE_SELECT:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_READ:
        if arg1 not in READABLE:
            return sqlite3.SQLITE_DENY
        allowed = READABLE[arg1]
        # count(*) reads a table with an empty column name
        if allowed is None or arg2 == "" or arg2 in allowed:
            return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_OK if arg2 in _SQLITE_FUNCTIONS else sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_DENY


_ENGINES: dict[str, Engine] = {}


def _sqlite_engine(db: Database) -> Engine:
    """An engine of our own for the file, without a pool: each query gets a fresh connection
    that nothing else ever uses, so the authorizer never leaks into the app's connections."""
    engine = _ENGINES.get(db.url)
    if engine is None:
        engine = _ENGINES[db.url] = create_engine(
            db.url, poolclass=NullPool, connect_args={"check_same_thread": False, "timeout": 30})
    return engine


@contextmanager
def read_only_connection(db: Database, *,
                         timeout: float = QUERY_TIMEOUT_SECONDS) -> Iterator[Connection]:
    """A connection that can only read what queries may read (see the module docstring)."""
    if db.is_sqlite:
        if db.path is None:
            raise DomainError("Queries need a database file.")
        with _sqlite_engine(db).connect() as conn:
            raw = conn.connection.dbapi_connection
            assert isinstance(raw, sqlite3.Connection)
            raw.execute("PRAGMA query_only=1")
            raw.set_authorizer(_authorize)
            deadline = time.monotonic() + timeout
            raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
            try:
                yield conn
            finally:
                raw.set_authorizer(None)
                raw.set_progress_handler(None, 0)
                conn.rollback()
        return
    with db.engine.connect() as conn:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout * 1000)}")
        try:
            yield conn
        finally:
            conn.rollback()


# --------------------------------------------------------------------------- rows


def _row(columns: tuple[OutputColumn, ...], raw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    i = 0
    for column in columns:
        if column.average:
            total, count = raw[i], raw[i + 1]
            i += 2
            out[column.name] = _average(column, total, count)
            continue
        out[column.name] = _value(column.type, raw[i])
        i += 1
    return out


def _average(column: OutputColumn, total: Any, count: Any) -> str | None:
    if not count or total is None:
        return None
    mean = Decimal(int(total)) / Decimal(int(count))
    if column.type == MONEY:
        cents = int(mean.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        return str(cents_to_decimal(cents))
    return str(mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == MONEY:
        return str(cents_to_decimal(int(value)))
    if kind == BOOLEAN:
        return bool(value)
    if kind == TAGS:
        return sorted(str(value).split("\x1f"))
    if kind == DATE:
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if kind == DATETIME:
        if isinstance(value, str):  # an aggregate over a text-stored time on SQLite
            value = dt.datetime.fromisoformat(value)
        return value.isoformat(timespec="seconds")
    if kind == DECIMAL:
        return str(value)
    if isinstance(value, Decimal):  # PostgreSQL's sum of integers
        return int(value)
    return value
