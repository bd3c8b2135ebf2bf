"""Backups and restores of the embedded SQLite database.

A backup is a consistent copy taken with SQLite's online backup API (safe while the app is
running), checked with ``integrity_check`` and written with mode 0600. A restore first backs
up the current database, so a restore can itself be undone.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

from core.db import Database
from core.errors import DomainError


def backup_sqlite(db: Database, dest: Path) -> Path:
    src = db.path
    if src is None:
        raise DomainError(
            "Backups are built in for the embedded SQLite database; for PostgreSQL use pg_dump."
        )
    return copy_sqlite_file(src, dest)


def copy_sqlite_file(src: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = dest.with_name(dest.name + ".part")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    target = sqlite3.connect(tmp)
    try:
        source.backup(target)
        ok = target.execute("PRAGMA integrity_check").fetchone()[0]
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()
        source.close()
    if ok != "ok":
        tmp.unlink(missing_ok=True)
        raise DomainError(f"The backup failed its integrity check ({ok}); nothing was written.")
    os.chmod(tmp, 0o600)
    os.replace(tmp, dest)
    return dest


def default_backup_name(backup_dir: Path) -> Path:
    return backup_dir / f"crm-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.sqlite3"


def restore_sqlite(db_path: Path, source: Path, backup_dir: Path) -> Path | None:
    """Replace the database at ``db_path`` with ``source``; returns the safety backup made."""
    if not source.exists():
        raise DomainError(f"{source}: no such backup file")
    conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
        has_schema = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'"
        ).fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise DomainError(f"{source}: not a TSSG CRM backup ({exc})") from None
    finally:
        conn.close()
    if ok != "ok" or not has_schema:
        raise DomainError(f"{source}: not a usable TSSG CRM backup (integrity: {ok})")
    safety = None
    if db_path.exists():
        safety = copy_sqlite_file(db_path, backup_dir / f"pre-restore-{dt.datetime.now():%Y%m%d-%H%M%S}.sqlite3")
    for suffix in ("-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    copy_sqlite_file(source, db_path)
    return safety
