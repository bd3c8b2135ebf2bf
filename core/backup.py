"""Backups and restores of the embedded SQLite database, and the pg_dump taken before a
PostgreSQL database is migrated.

A backup is a consistent copy taken with SQLite's online backup API (safe while the app is
running), checked with ``integrity_check`` and written with mode 0600. A restore first checks
that the file is an intact TSSG CRM database this version can open, backs up the current
database, copies the backup in, migrates it to head and records an audit event, so a restore
can itself be undone.

Decisions: the restore writes *through* SQLite's backup API into the live file rather than
swapping files, so a connection another process holds sees a consistent database instead of
a deleted inode with a stale WAL; only a current file SQLite cannot read at all is replaced
as a file. Timestamped names never overwrite an earlier backup taken in the same second.

PostgreSQL: :func:`dump_postgres` runs ``pg_dump --format=custom`` (``pg_restore`` reads it)
into a 0600 file. The password goes to pg_dump in ``PGPASSWORD``, never on its command line
(which other users of the machine can read in ``ps``); ``--no-password`` stops it from ever
waiting for a prompt. pg_dump is looked for on PATH, then in ``/usr/lib/postgresql/N/bin``
(where Debian and Ubuntu's postgresql-client put it), the newest version first: pg_dump
refuses a server newer than itself.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from core.db import Database
from core.errors import DomainError, ValidationError
from core.first_look import is_sqlite_file


def sqlite_uri(path: Path, mode: str = "ro") -> str:
    """A ``file:`` URI for ``path``; quoting keeps ``?``, ``#`` and ``%`` in names working."""
    return f"file:{quote(str(path))}?mode={mode}"


def backup_sqlite(db: Database, dest: Path) -> Path:
    src = db.path
    if src is None:
        raise DomainError(
            "Backups are built in for the embedded SQLite database; for PostgreSQL use pg_dump."
        )
    return copy_sqlite_file(src, dest)


def copy_sqlite_file(src: Path, dest: Path) -> Path:
    """Copy a live SQLite database to ``dest`` (mode 0600), checked before it replaces ``dest``."""
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = dest.with_name(dest.name + ".part")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    try:
        source = sqlite3.connect(sqlite_uri(src), uri=True)
        target = sqlite3.connect(tmp)
        try:
            source.backup(target)
            ok = target.execute("PRAGMA integrity_check").fetchone()[0]
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
            source.close()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if ok != "ok":
        tmp.unlink(missing_ok=True)
        raise DomainError(f"The backup failed its integrity check ({ok}); nothing was written.")
    os.chmod(tmp, 0o600)
    os.replace(tmp, dest)
    return dest


def timestamped_path(directory: Path, prefix: str, suffix: str = ".sqlite3") -> Path:
    """``directory/prefix-YYYYmmdd-HHMMSS.sqlite3``, suffixed ``-2``, ``-3``... if taken."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = directory / f"{prefix}-{stamp}{suffix}"
    n = 2
    while path.exists():
        path = directory / f"{prefix}-{stamp}-{n}{suffix}"
        n += 1
    return path


# where Debian/Ubuntu's postgresql-client installs pg_dump, off PATH (N = major version)
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
PG_DUMP_SUFFIX = ".dump"


def find_pg_dump() -> str | None:
    """The pg_dump to use: the one on PATH, else the newest in :data:`PG_BIN_GLOB`."""
    found = shutil.which("pg_dump")
    if found:
        return found

    def major(directory: str) -> tuple[int, str]:
        name = Path(directory).parent.name
        return (int(name) if name.isdigit() else 0, name)

    for directory in sorted(glob.glob(PG_BIN_GLOB), key=major, reverse=True):
        found = shutil.which("pg_dump", path=directory)
        if found:
            return found
    return None


def pg_dump_command(pg_dump: str, url: str, dest: Path) -> tuple[list[str], dict[str, str]]:
    """pg_dump's arguments and environment for the database at ``url``: the password only in
    the environment (``PGPASSWORD``), the rest as a libpq URL (host, port, user, options)."""
    from sqlalchemy.engine import URL, make_url

    parsed = make_url(url)
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    target = URL.create("postgresql", username=parsed.username, host=parsed.host,
                        port=parsed.port, database=parsed.database, query=parsed.query
                        ).render_as_string(hide_password=False)  # no password in it
    return ([pg_dump, "--format=custom", "--no-password", f"--file={dest}",
             f"--dbname={target}"], env)


def dump_postgres(url: str, dest: Path, pg_dump: str) -> Path:
    """Dump the PostgreSQL database at ``url`` to ``dest`` (mode 0600) with ``pg_dump``; a
    failed dump leaves nothing behind and raises :class:`DomainError` with pg_dump's reason."""
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = dest.with_name(dest.name + ".part")
    tmp.unlink(missing_ok=True)
    os.close(os.open(tmp, os.O_CREAT | os.O_WRONLY, 0o600))  # pg_dump keeps the mode
    args, env = pg_dump_command(pg_dump, url, tmp)
    try:
        done = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, capture_output=True,  # noqa: S603 - our arguments, no shell
                              text=True, check=False)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        reason = " ".join((done.stderr or done.stdout or "").split()) or f"exit code {done.returncode}"
        raise DomainError(f"pg_dump could not back up the database: {reason[:300]}")
    os.chmod(tmp, 0o600)
    os.replace(tmp, dest)
    return dest


def default_backup_name(backup_dir: Path) -> Path:
    return timestamped_path(backup_dir, "crm")


def verify_backup(source: Path) -> str:
    """Check that ``source`` is an intact TSSG CRM database this build can open.

    Returns its schema revision. Raises :class:`ValidationError` naming the file otherwise.
    """
    from core import migrate

    where = str(source)
    if not source.exists():
        raise ValidationError(where, "no such backup file")
    if not source.is_file():
        raise ValidationError(where, "is not a file")
    if not is_sqlite_file(source):
        raise ValidationError(where, "is not a SQLite database, so not a TSSG CRM backup")
    try:
        conn = sqlite3.connect(sqlite_uri(source), uri=True)
        try:
            problems = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            has_version = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()[0]
            revision = (
                conn.execute("SELECT version_num FROM alembic_version").fetchone()
                if has_version
                else None
            )
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise ValidationError(where, f"cannot be read as a database ({exc})") from None
    if problems != ["ok"]:
        raise ValidationError(where, f"is damaged (integrity check: {problems[0]})")
    if revision is None:
        raise ValidationError(where, "is a SQLite database but not a TSSG CRM one")
    if revision[0] not in migrate.known_revisions():
        raise ValidationError(
            where,
            f"was made by a newer version of TSSG CRM (schema {revision[0]}); "
            "update tssg-crm before restoring it",
        )
    return str(revision[0])


def _safety_copy(db_path: Path, backup_dir: Path) -> Path:
    dest = timestamped_path(backup_dir, "pre-restore")
    try:
        return copy_sqlite_file(db_path, dest)
    except (sqlite3.Error, DomainError):
        # The current file is damaged (often the reason for restoring): keep its bytes anyway.
        dest = timestamped_path(backup_dir, "pre-restore-damaged")
        dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(dest, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out, open(db_path, "rb") as src:
            shutil.copyfileobj(src, out)
        return dest


def _copy_into_live(source: Path, db_path: Path) -> None:
    dest = sqlite3.connect(db_path, timeout=30)
    resized: Path | None = None
    try:
        dest_page = dest.execute("PRAGMA page_size").fetchone()[0]
        src = sqlite3.connect(sqlite_uri(source), uri=True)
        try:
            src_page = src.execute("PRAGMA page_size").fetchone()[0]
        finally:
            src.close()
        if src_page != dest_page:
            # SQLite cannot back up into a WAL database with another page size, and leaving
            # WAL needs every other connection closed: resize a private copy instead.
            resized = copy_sqlite_file(source, db_path.with_name(db_path.name + ".resize"))
            conn = sqlite3.connect(resized)
            try:
                conn.execute(f"PRAGMA page_size = {int(dest_page)}")
                conn.execute("VACUUM")
            finally:
                conn.close()
            source = resized
        src = sqlite3.connect(sqlite_uri(source), uri=True)
        try:
            src.backup(dest)
        finally:
            src.close()
    finally:
        dest.close()
        if resized is not None:
            resized.unlink(missing_ok=True)


def _replace_file(source: Path, db_path: Path) -> None:
    tmp = db_path.with_name(db_path.name + ".restore")
    copy_sqlite_file(source, tmp)
    for suffix in ("-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    os.replace(tmp, db_path)


def restore_sqlite(db_path: Path, source: Path, backup_dir: Path) -> Path | None:
    """Replace the database at ``db_path`` with ``source``; returns the safety backup made.

    The database is not migrated here: see :func:`restore_database`.
    """
    verify_backup(source)
    return _restore_verified(db_path, source, backup_dir)


def _restore_verified(db_path: Path, source: Path, backup_dir: Path) -> Path | None:
    if db_path.exists() and db_path.samefile(source):
        raise ValidationError(str(source), "is the current database itself")
    safety = None
    if db_path.exists() and db_path.stat().st_size > 0:
        safety = _safety_copy(db_path, backup_dir)
    if db_path.exists() and is_sqlite_file(db_path):
        try:
            _copy_into_live(source, db_path)
        except sqlite3.OperationalError:
            raise  # locked or busy: replacing the file under other connections would be worse
        except sqlite3.DatabaseError:  # corrupt: nothing to preserve, replace the file itself
            _replace_file(source, db_path)
    else:
        _replace_file(source, db_path)
    os.chmod(db_path, 0o600)
    return safety


@dataclass(frozen=True)
class RestoreResult:
    database: Path
    safety_backup: Path | None  # the database as it was before the restore
    restored_revision: str  # schema of the backup file
    revision: str  # schema after migrating


def restore_database(
    db_path: Path, source: Path, backup_dir: Path, *, actor: str = "owner"
) -> RestoreResult:
    """Restore ``source`` over the SQLite database at ``db_path`` and migrate it to head.

    The current database is copied to ``backup_dir`` first; the restore is recorded as an
    audit event in the restored database.
    """
    from core import audit, migrate

    restored_revision = verify_backup(source)
    safety = _restore_verified(db_path, source, backup_dir)
    db = Database(str(db_path))
    try:
        # the backup file itself is the pre-migration copy: no second backup needed
        migrate.upgrade(db)
        summary = f"Restored the database from {source.name}"
        if safety is not None:
            summary += f"; the previous one was saved as {safety.name}"
        with db.write() as s:
            audit.record(s, actor, "database.restore", "database", None, summary)
        revision = migrate.current_revision(db) or ""
    finally:
        db.dispose()
    return RestoreResult(
        database=db_path,
        safety_backup=safety,
        restored_revision=restored_revision,
        revision=revision,
    )
