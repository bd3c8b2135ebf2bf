"""Database engine and transactions, the same code on SQLite (embedded) and PostgreSQL.

SQLite: every connection gets WAL, synchronous=NORMAL, foreign keys, a busy timeout, and
write transactions start with ``BEGIN IMMEDIATE`` (deferred BEGIN gave thousands of
"database is locked" errors under four writers; IMMEDIATE none). Reads use a plain BEGIN so
they never wait for a writer. The file is created with mode 0600 before SQLite touches it
(SQLite gives its -wal/-shm files the database file's mode).

Use :meth:`Database.write` for a unit of work (one transaction, committed on success) and
:meth:`Database.read` for queries (:meth:`Database.read_row`: one precompiled SELECT on the
driver's cursor, for the hottest read path).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from core.errors import StaleRecord


def normalise_url(url_or_path: str) -> str:
    """Accept a SQLAlchemy URL, ``postgresql://...``, or a plain file path."""
    if "://" not in url_or_path:
        # URL.create keeps '?', '%' and '#' in a file name literal
        path = str(Path(url_or_path).expanduser().resolve())
        return URL.create("sqlite", database=path).render_as_string(hide_password=False)
    url = make_url(url_or_path)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _create_private_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    os.chmod(path, 0o600)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    url = normalise_url(url)
    path = sqlite_path(url)
    if path is not None:
        _create_private_file(path)
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every test
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            if conn.get_execution_options().get("tssg_read"):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


class Database:
    """An engine plus the two ways to use it: :meth:`write` and :meth:`read`."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, echo=echo)
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        self._read = sessionmaker(
            self.engine.execution_options(tssg_read=True), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def path(self) -> Path | None:
        return sqlite_path(self.url)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        try:
            with self._write() as session, session.begin():
                yield session
        except StaleDataError:
            # two writers saved the same row at once: the later one matched no version
            raise StaleRecord("record") from None

    @contextmanager
    def read(self) -> Iterator[Session]:
        # close() ends the transaction and detaches the objects without expiring them, so
        # what was loaded stays readable after the block.
        with self._read() as session:
            yield session

    def read_row(
        self, sql: str, parameters: Sequence[Any] | Mapping[str, Any]
    ) -> Sequence[Any] | None:
        """The first row of one SELECT, given as SQL text and driver parameters for this
        backend (see core.overview), run on the driver's cursor of a pooled connection.

        For hot read paths only: it skips SQLAlchemy's per-execute work (statement cache,
        events, ``BEGIN``, result set-up), which costs more than a small indexed SELECT. One
        statement is its own consistent snapshot on both backends. On SQLite the connection
        is in autocommit mode (see make_engine), so the SELECT never takes the write lock;
        going back to the pool rolls back the transaction PostgreSQL opened. Driver errors
        are raised as SQLAlchemy's (``OperationalError`` and so on), as from :meth:`read`.
        """
        rows = self._raw_select(sql, parameters, one=True)
        return rows[0] if rows else None

    def read_rows(
        self, sql: str, parameters: Sequence[Any] | Mapping[str, Any]
    ) -> list[Sequence[Any]]:
        """Every row of one SELECT, as :meth:`read_row` runs it (search as you type)."""
        return self._raw_select(sql, parameters, one=False)

    def _raw_select(
        self, sql: str, parameters: Sequence[Any] | Mapping[str, Any], *, one: bool
    ) -> list[Sequence[Any]]:
        dialect = self.engine.dialect
        conn = self.engine.raw_connection()
        try:
            cursor = conn.cursor()
            try:
                cursor.execute(sql, parameters)
                if one:
                    row = cursor.fetchone()
                    return [] if row is None else [row]
                return list(cursor.fetchall())
            finally:
                cursor.close()
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, conn.dbapi_connection, None):
                conn.invalidate(exc)
            raise DBAPIError.instance(
                sql, parameters, exc, dialect.loaded_dbapi.Error, hide_parameters=True,
                dialect=dialect,
            ) from exc
        finally:
            conn.close()

    def dispose(self) -> None:
        self.engine.dispose()
