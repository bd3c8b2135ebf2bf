"""``tssg-crm backup`` and ``tssg-crm restore``: what a shop owner relies on when a disk dies."""

from __future__ import annotations

import io
import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

from core import migrate, search
from core.db import Database
from core.models import AuditEvent
from tests.cli.support import (
    add_client,
    assert_usage_error,
    client_names,
    mode,
    sqlite_client_names,
)


def _integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def _backup(cli, db: Database, *extra: str) -> Path:
    result = cli("--db", str(db.path), "backup", *extra)
    assert result.code == 0, result
    assert result.err == ""
    path = Path(result.out.strip())
    assert result.out == f"{path}\n"  # the path alone: scripts capture it
    return path


# --------------------------------------------------------------------------- backup


def test_backup_to_the_backups_folder_is_private_intact_and_complete(cli, sqlite_db, _isolated_home):
    add_client(sqlite_db, "Acme Lawn Care")
    path = _backup(cli, sqlite_db)
    assert path.parent == _isolated_home / "data" / "backups"
    assert path.name.startswith("crm-") and path.suffix == ".sqlite3"
    assert mode(path) == 0o600
    assert _integrity(path) == "ok"
    assert sqlite_client_names(path) == ["Acme Lawn Care"]
    # a second backup in the same second must not replace the first
    second = _backup(cli, sqlite_db)
    assert second != path and path.exists() and second.exists()


def test_backup_to_a_named_file_and_into_a_directory(cli, sqlite_db, tmp_path):
    add_client(sqlite_db, "Bright Cleaners")
    named = _backup(cli, sqlite_db, str(tmp_path / "friday.sqlite3"))
    assert named == tmp_path / "friday.sqlite3"
    folder = tmp_path / "usb"
    folder.mkdir()
    inside = _backup(cli, sqlite_db, str(folder))
    assert inside.parent == folder
    for path in (named, inside):
        assert mode(path) == 0o600 and sqlite_client_names(path) == ["Bright Cleaners"]


def test_backup_never_overwrites_without_force_and_never_the_database_itself(
    cli, sqlite_db, tmp_path
):
    existing = tmp_path / "old.sqlite3"
    existing.write_bytes(b"precious")
    result = cli("--db", str(sqlite_db.path), "backup", str(existing))
    assert_usage_error(result, str(existing), "already exists", "--force")
    assert existing.read_bytes() == b"precious"

    add_client(sqlite_db, "Forced Co")
    assert _backup(cli, sqlite_db, str(existing), "--force") == existing
    assert sqlite_client_names(existing) == ["Forced Co"]

    for extra in ([], ["--force"]):
        result = cli("--db", str(sqlite_db.path), "backup", str(sqlite_db.path), *extra)
        assert_usage_error(result, "is the database itself")
    assert client_names(sqlite_db) == ["Forced Co"]

    missing_dir = tmp_path / "no" / "such" / "dir" / "b.sqlite3"
    assert_usage_error(cli("--db", str(sqlite_db.path), "backup", str(missing_dir)),
                       "no such directory")


def test_backup_without_a_database_is_refused_and_creates_nothing(cli, _isolated_home):
    result = cli("backup")
    assert_usage_error(result, "no database at", "nothing to back up")
    assert not (_isolated_home / "data" / "crm.sqlite3").exists()


def test_backup_is_a_consistent_copy_while_a_write_is_in_progress(cli, sqlite_db):
    add_client(sqlite_db, "Committed")
    with sqlite_db.write() as s:  # BEGIN IMMEDIATE: the app is in the middle of saving
        s.execute(text("UPDATE clients SET name = 'Half-saved'"))
        path = _backup(cli, sqlite_db)
    assert sqlite_client_names(path) == ["Committed"]
    assert _integrity(path) == "ok"


def test_backup_of_a_database_whose_path_has_uri_characters(cli, tmp_path):
    db = Database(str(tmp_path / "shop #1 100%.sqlite3"))
    assert db.path == tmp_path / "shop #1 100%.sqlite3"
    migrate.upgrade(db)
    add_client(db, "Odd Path Ltd")
    path = _backup(cli, db, str(tmp_path / "odd #copy%.sqlite3"))
    db.dispose()
    assert sqlite_client_names(path) == ["Odd Path Ltd"]


def test_backup_and_restore_on_postgresql_point_at_pg_tools(cli, db, tmp_path):
    add_client(db, "Server Side Inc")
    if db.is_sqlite:
        assert sqlite_client_names(_backup(cli, db)) == ["Server Side Inc"]
        return
    result = cli("--db", db.url, "backup")
    assert_usage_error(result, "PostgreSQL", "pg_dump")
    restore = cli("--db", db.url, "restore", str(tmp_path / "x.sqlite3"), "--yes")
    assert_usage_error(restore, "PostgreSQL", "pg_restore")
    assert client_names(db) == ["Server Side Inc"]


# --------------------------------------------------------------------------- restore


def test_restore_round_trip(cli, sqlite_db, _isolated_home):
    add_client(sqlite_db, "First Client")
    backup = _backup(cli, sqlite_db)
    add_client(sqlite_db, "Second Client")

    result = cli("--db", str(sqlite_db.path), "restore", str(backup), "--yes")
    assert result.code == 0, result
    assert client_names(sqlite_db) == ["First Client"]  # the open engine sees the restore too

    lines = result.out.splitlines()
    assert lines[0].startswith("Saved the current database to ")
    safety = Path(lines[0].removeprefix("Saved the current database to "))
    assert safety.parent == _isolated_home / "data" / "backups"
    assert safety.name.startswith("pre-restore-")
    assert mode(safety) == 0o600
    assert sqlite_client_names(safety) == ["First Client", "Second Client"]  # undo is possible
    assert lines[1] == f"Restored {backup} into {sqlite_db.path}"

    # the search index came back with the data, and the restore is in the audit trail
    assert [h.label for h in search.search(sqlite_db, "client")] == ["First Client"]
    with sqlite_db.read() as s:
        actions = list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-1] == "database.restore"
    assert mode(sqlite_db.path) == 0o600
    assert cli("--db", str(sqlite_db.path), "doctor").code == 0


def test_restore_into_a_new_db_path_creates_a_private_database_at_head(cli, sqlite_db, tmp_path):
    add_client(sqlite_db, "Moved Client")
    backup = _backup(cli, sqlite_db)
    target = tmp_path / "elsewhere" / "new.sqlite3"
    result = cli("--db", str(target), "restore", str(backup), "--yes")
    assert result.code == 0, result
    assert result.out.splitlines()[0] == "There was no current database to save."
    assert mode(target) == 0o600
    restored = Database(str(target))
    assert migrate.current_revision(restored) == migrate.head_revision()
    assert client_names(restored) == ["Moved Client"]
    restored.dispose()


def test_restore_of_an_older_schema_migrates_it_to_head(cli, sqlite_db, tmp_path):
    add_client(sqlite_db, "Legacy Plumbing")
    backup = _backup(cli, sqlite_db, str(tmp_path / "old.sqlite3"))
    # make it a backup taken at revision 0001: a real downgrade, as an older app left it
    from alembic import command

    old = Database(str(backup))
    with old.engine.begin() as conn:
        command.downgrade(migrate._alembic_config(old, conn), "0001")
    old.dispose()

    result = cli("--db", str(sqlite_db.path), "restore", str(backup), "--yes")
    assert result.code == 0, result
    assert result.out.splitlines()[-1].endswith(f", migrated from 0001 to {migrate.head_revision()}")
    assert migrate.current_revision(sqlite_db) == migrate.head_revision()
    assert [h.label for h in search.search(sqlite_db, "legacy")] == ["Legacy Plumbing"]


def test_restore_refuses_files_that_are_not_intact_tssg_backups(cli, sqlite_db, tmp_path):
    add_client(sqlite_db, "Keep Me")
    db_arg = ("--db", str(sqlite_db.path))

    missing = tmp_path / "missing.sqlite3"
    assert_usage_error(cli(*db_arg, "restore", str(missing), "--yes"), str(missing),
                       "no such backup file")

    text_file = tmp_path / "notes.txt"
    text_file.write_text("hello")
    assert_usage_error(cli(*db_arg, "restore", str(text_file), "--yes"), "not a SQLite database")

    foreign = tmp_path / "other-app.sqlite3"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    assert_usage_error(cli(*db_arg, "restore", str(foreign), "--yes"), "not a TSSG CRM one")

    newer = _backup(cli, sqlite_db, str(tmp_path / "newer.sqlite3"))
    conn = sqlite3.connect(newer)
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    assert_usage_error(cli(*db_arg, "restore", str(newer), "--yes"), "newer version", "9999")

    damaged = _backup(cli, sqlite_db, str(tmp_path / "damaged.sqlite3"))
    data = bytearray(damaged.read_bytes())
    page = 4096
    data[page : 8 * page] = b"\xa5" * (7 * page)  # scribble over the pages after the header
    damaged.write_bytes(bytes(data))
    result = cli(*db_arg, "restore", str(damaged), "--yes")
    assert_usage_error(result, str(damaged))
    assert "damaged" in result.err or "cannot be read" in result.err

    assert_usage_error(cli(*db_arg, "restore", str(sqlite_db.path), "--yes"),
                       "is the current database itself")
    assert client_names(sqlite_db) == ["Keep Me"]  # nothing was touched
    assert not list((tmp_path.parent / "home" / "data" / "backups").glob("pre-restore-*"))


class _Terminal(io.StringIO):
    """A stdin that says it is a terminal, with the user's typed answer in it."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "restored"), [("y\n", True), ("yes\n", True), ("n\n", False),
                                                  ("\n", False), ("", False)])
def test_restore_on_a_terminal_asks_first(cli, sqlite_db, monkeypatch, answer, restored):
    add_client(sqlite_db, "Before")
    backup = _backup(cli, sqlite_db)
    add_client(sqlite_db, "After")
    monkeypatch.setattr(sys, "stdin", _Terminal(answer))
    result = cli("--db", str(sqlite_db.path), "restore", str(backup))
    assert f"Replace {sqlite_db.path} with {backup}? [y/N]" in result.out
    if restored:
        assert result.code == 0
        assert client_names(sqlite_db) == ["Before"]
    else:
        assert result.code == 1
        assert result.err == "Cancelled; nothing was changed.\n"
        assert client_names(sqlite_db) == ["After", "Before"]


def test_restore_with_another_page_size(cli, sqlite_db, tmp_path):
    add_client(sqlite_db, "Big Pages")
    backup = _backup(cli, sqlite_db, str(tmp_path / "big.sqlite3"))
    conn = sqlite3.connect(backup)
    conn.execute("PRAGMA page_size = 8192")
    conn.execute("VACUUM")
    conn.close()
    add_client(sqlite_db, "Later")
    result = cli("--db", str(sqlite_db.path), "restore", str(backup), "--yes")
    assert result.code == 0, result
    assert client_names(sqlite_db) == ["Big Pages"]
    assert _integrity(sqlite_db.path) == "ok"


def test_restore_over_a_damaged_database_keeps_its_bytes(cli, sqlite_db, tmp_path, _isolated_home):
    add_client(sqlite_db, "Good Copy")
    backup = _backup(cli, sqlite_db, str(tmp_path / "good.sqlite3"))
    path = sqlite_db.path
    sqlite_db.dispose()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    broken = b"SQLite format 3\x00" + b"\x00\xff" * 3000  # the header survives, nothing else
    path.write_bytes(broken)

    result = cli("--db", str(path), "restore", str(backup), "--yes")
    assert result.code == 0, result
    safety = Path(result.out.splitlines()[0].removeprefix("Saved the current database to "))
    assert safety.read_bytes() == broken and mode(safety) == 0o600
    assert sqlite_client_names(path) == ["Good Copy"]
    assert _integrity(path) == "ok"
