"""Bring a database to the current schema, taking a backup first when there is data to lose.

Called on every start (TUI and CLI). Alembic is imported only here, and only when the
database is not already at head, so a normal start does not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

from core.db import Database
from core.errors import DomainError
from core.revisions import MIGRATIONS_DIR, head_revision, known_revisions

if TYPE_CHECKING:
    from pathlib import Path


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
    if backup_dir is not None and db.is_sqlite and has_data(db):
        from core.backup import backup_sqlite, timestamped_path

        backup = backup_sqlite(db, timestamped_path(backup_dir, "pre-migrate"))
        _prune(backup_dir, keep_backups)
    from alembic import command

    with db.engine.begin() as conn:
        command.upgrade(_alembic_config(db, conn), "head")
    return backup


def _prune(backup_dir: Path, keep: int) -> None:
    files = sorted(backup_dir.glob("pre-migrate-*.sqlite3"))
    for old in files[:-keep] if keep else []:
        old.unlink(missing_ok=True)
