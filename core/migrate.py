"""Bring a database to the current schema, taking a backup first when there is data to lose.

Called on every start (TUI and CLI). Alembic is imported only here, and only when the
database is not already at head, so a normal start does not pay for it.

The backup: SQLite is copied with its backup API; PostgreSQL is dumped with ``pg_dump
--format=custom`` (:func:`core.backup.dump_postgres`). Without pg_dump, or when it fails, a
PostgreSQL database is not migrated (the app does not start) unless
``TSSG_CRM_MIGRATE_WITHOUT_BACKUP=1`` says the owner has taken a dump another way.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

from core.db import Database
from core.errors import DomainError
from core.revisions import MIGRATIONS_DIR, head_revision, known_revisions

if TYPE_CHECKING:
    from pathlib import Path

WITHOUT_BACKUP_ENV = "TSSG_CRM_MIGRATE_WITHOUT_BACKUP"


def _alembic_config(db: Database, connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def revision_of(conn: Connection) -> str | None:
    """The schema revision recorded in a database (None: never migrated)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return revision_of(conn)


def has_data(db: Database) -> bool:
    with db.engine.connect() as conn:
        return bool(inspect(conn).get_table_names())


def upgrade(db: Database, *, backup_dir: Path | None = None, keep_backups: int = 10) -> Path | None:
    """Migrate to head. Returns the backup file written first, if any."""
    current, head = current_revision(db), head_revision()
    if current == head:
        return None
    if current is not None and current not in known_revisions():
        raise DomainError(
            f"This database has schema {current}, made by a newer version of TSSG CRM than this "
            f"one (which knows up to {head}); update tssg-crm to open it. Nothing was changed."
        )
    backup = None
    if backup_dir is not None and has_data(db):
        backup = _backup(db, backup_dir, current, head)
        if backup is not None:
            _prune(backup_dir, keep_backups)
    from alembic import command

    with db.engine.begin() as conn:
        command.upgrade(_alembic_config(db, conn), "head")
    return backup


def _backup(db: Database, backup_dir: Path, current: str | None, head: str) -> Path | None:
    from core import backup

    if db.is_sqlite:
        return backup.backup_sqlite(db, backup.timestamped_path(backup_dir, "pre-migrate"))
    if os.environ.get(WITHOUT_BACKUP_ENV) == "1":
        return None  # the owner took a dump another way and said so
    step = f"from schema {current or 'none'} to {head}"
    pg_dump = backup.find_pg_dump()
    if pg_dump is None:
        raise DomainError(
            f"This PostgreSQL database needs migrating ({step}), and TSSG CRM backs it up with "
            "pg_dump first, but pg_dump was not found (on PATH or in /usr/lib/postgresql/*/bin). "
            "Install the PostgreSQL client tools (e.g. apt-get install postgresql-client), or "
            f"take a dump yourself and start again with {WITHOUT_BACKUP_ENV}=1. "
            "Nothing was changed."
        )
    dest = backup.timestamped_path(backup_dir, "pre-migrate", backup.PG_DUMP_SUFFIX)
    try:
        return backup.dump_postgres(db.url, dest, pg_dump)
    except (DomainError, OSError) as exc:
        raise DomainError(
            f"This PostgreSQL database needs migrating ({step}) and the backup before it "
            f"failed, so it was not migrated. {str(exc).rstrip('.')}. Fix that, or take a dump yourself and "
            f"start again with {WITHOUT_BACKUP_ENV}=1. Nothing was changed."
        ) from None


def _prune(backup_dir: Path, keep: int) -> None:
    for suffix in (".sqlite3", ".dump"):  # SQLite copies and PostgreSQL dumps, kept apart
        files = sorted(backup_dir.glob(f"pre-migrate-*{suffix}"))
        for old in files[:-keep] if keep else []:
            old.unlink(missing_ok=True)
