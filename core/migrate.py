"""Bring a database to the current schema, taking a backup first when there is data to lose.

Called on every start (TUI and CLI). Alembic is imported only here, and only when the
database is not already at head, so a normal start does not pay for it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import inspect, text

from core.db import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _alembic_config(db: Database, connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """Read the head revision from the version files without importing Alembic."""
    revisions: dict[str, str | None] = {}
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        rev = down = None
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("revision = "):
                rev = line.split("=", 1)[1].strip().strip("'\"")
            elif line.startswith("down_revision = "):
                value = line.split("=", 1)[1].strip()
                down = None if value == "None" else value.strip("'\"")
        if rev:
            revisions[rev] = down
    parents = {d for d in revisions.values() if d}
    heads = [r for r in revisions if r not in parents]
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads: {heads}")
    return heads[0]


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def has_data(db: Database) -> bool:
    with db.engine.connect() as conn:
        return bool(inspect(conn).get_table_names())


def upgrade(db: Database, *, backup_dir: Path | None = None, keep_backups: int = 10) -> Path | None:
    """Migrate to head. Returns the backup file written first, if any."""
    if current_revision(db) == head_revision():
        return None
    backup = None
    if backup_dir is not None and db.is_sqlite and has_data(db):
        from core.backup import backup_sqlite

        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        backup = backup_sqlite(db, backup_dir / f"pre-migrate-{stamp}.sqlite3")
        _prune(backup_dir, keep_backups)
    from alembic import command

    with db.engine.begin() as conn:
        command.upgrade(_alembic_config(db, conn), "head")
    return backup


def _prune(backup_dir: Path, keep: int) -> None:
    files = sorted(backup_dir.glob("pre-migrate-*.sqlite3"))
    for old in files[:-keep] if keep else []:
        old.unlink(missing_ok=True)
