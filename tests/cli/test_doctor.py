"""``tssg-crm doctor``: one line per check, exit 1 when anything FAILs, and it never changes
what it examines (``core.doctor`` returns the checks as data for the TUI)."""

from __future__ import annotations

import os
import sqlite3

import pytest
from sqlalchemy import select, text

from config.paths import app_paths
from core import doctor, migrate, search, search_schema
from core.db import Database
from core.models import AuditEvent
from tests.cli.support import add_client, mode


def _lines(result) -> dict[str, tuple[str, str]]:
    """check name -> (status, detail), parsed from the printed table."""
    out = {}
    for line in result.out.splitlines():
        if line.startswith("Rebuilt the search index: "):
            continue
        status, rest = line.split(maxsplit=1)
        assert status in ("OK", "WARN", "FAIL"), line
        for name in ("database file", "search index", "foreign keys", "config", "secrets",
                     "integrity", "migrations", "schema", "database", "connection",
                     "constraints"):
            if rest.startswith(name + " "):
                out[name] = (status, rest[len(name):].strip())
                break
        else:
            raise AssertionError(f"unexpected line {line!r}")
    return out


def test_doctor_on_a_healthy_database(cli, db):
    add_client(db, "Healthy Homes")
    result = cli("--db", db.url, "doctor")
    assert result.code == 0, result.out
    assert result.err == ""
    checks = _lines(result)
    assert checks["migrations"] == ("OK", f"at head ({migrate.head_revision()})")
    assert checks["schema"][0] == "OK"
    assert checks["search index"][0] == "OK" and "client 1" in checks["search index"][1]
    assert checks["config"][0] == "OK" and checks["secrets"][0] == "OK"
    if db.is_sqlite:
        assert checks["integrity"] == ("OK", "PRAGMA integrity_check: ok")
        assert checks["foreign keys"][0] == "OK"
        assert checks["database file"] == ("OK", f"{db.path} is mode 600")
    else:
        assert checks["connection"][0] == "OK" and "PostgreSQL" in checks["connection"][1]


def test_a_database_readable_by_others_fails_and_is_left_as_found(cli, sqlite_db):
    os.chmod(sqlite_db.path, 0o644)
    result = cli("--db", str(sqlite_db.path), "doctor")
    assert result.code == 1
    status, detail = _lines(result)["database file"]
    assert status == "FAIL"
    assert str(sqlite_db.path) in detail and "mode 644" in detail
    assert f"chmod 600 {sqlite_db.path}" in detail
    assert mode(sqlite_db.path) == 0o644  # reported, not silently changed


def test_a_search_index_out_of_sync_fails_and_rebuild_repairs_it(cli, db):
    add_client(db, "Findable Florists")
    add_client(db, "Lost Landscaping")
    index = "search_fts" if db.is_sqlite else "search_index"
    with db.write() as s:  # what a bulk load that bypassed the triggers leaves behind
        s.execute(text(f"DELETE FROM {index} WHERE label = 'Lost Landscaping'"))
    assert search.search(db, "lost") == []

    result = cli("--db", db.url, "doctor")
    assert result.code == 1
    status, detail = _lines(result)["search index"]
    assert status == "FAIL"
    assert "client 2 rows, 1 indexed, 1 missing" in detail
    assert "tssg-crm doctor --rebuild-search" in detail

    repaired = cli("--db", db.url, "doctor", "--rebuild-search")
    assert repaired.code == 0, repaired.out
    assert repaired.out.splitlines()[0].startswith("Rebuilt the search index: client 2, contact 0")
    assert _lines(repaired)["search index"][0] == "OK"
    assert [h.label for h in search.search(db, "lost")] == ["Lost Landscaping"]
    with db.read() as s:
        assert s.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)) == (
            "search.rebuild"
        )


def test_a_missing_sync_trigger_fails(cli, db):
    drop = ("DROP TRIGGER trg_search_contact_ins" if db.is_sqlite
            else "DROP TRIGGER trg_search_contact_ins ON contacts")
    with db.write() as s:
        s.execute(text(drop))
    result = cli("--db", db.url, "doctor")
    assert result.code == 1
    status, detail = _lines(result)["search index"]
    assert status == "FAIL" and "trg_search_contact_ins" in detail


def test_a_stale_index_row_for_a_deleted_record_fails(cli, sqlite_db):
    conn = sqlite3.connect(sqlite_db.path)
    conn.execute("INSERT INTO search_fts(rowid, label, terms, kind, ref_id, client_id) "
                 "VALUES (7 * 8 + 1, 'Ghost', '', 'client', 7, 7)")
    conn.commit()
    conn.close()
    result = cli("--db", str(sqlite_db.path), "doctor")
    assert result.code == 1
    assert _lines(result)["search index"][1].startswith("out of sync: client 0 rows, 1 indexed")


def test_broken_links_between_records_fail(cli, sqlite_db):
    conn = sqlite3.connect(sqlite_db.path)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute(
        "INSERT INTO contacts (client_id, name, email, phone, phone_national, role, is_primary,"
        " sms_consent, version, created_at, updated_at)"
        " VALUES (999, 'Orphan', '', '', '', '', 0, 0, 1, '2024-01-01', '2024-01-01')"
    )
    conn.commit()
    conn.close()
    result = cli("--db", str(sqlite_db.path), "doctor")
    assert result.code == 1
    assert _lines(result)["foreign keys"] == (
        "FAIL", "1 row point at records that do not exist (contacts → clients ×1)"
    )


def test_an_older_schema_is_a_warning_not_a_failure(cli, sqlite_db):
    with sqlite_db.write() as s:
        s.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    result = cli("--db", str(sqlite_db.path), "doctor")
    assert result.code == 0, result.out
    status, detail = _lines(result)["migrations"]
    assert status == "WARN" and detail.startswith(f"at 0001, head is {migrate.head_revision()}")
    assert "search index" not in _lines(result)  # built by the migration the next start runs


def test_a_schema_from_a_newer_version_fails(cli, sqlite_db):
    with sqlite_db.write() as s:
        s.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    result = cli("--db", str(sqlite_db.path), "doctor")
    assert result.code == 1
    status, detail = _lines(result)["migrations"]
    assert status == "FAIL" and "newer tssg-crm" in detail


def test_a_file_that_is_not_a_database_fails(cli, tmp_path):
    config = tmp_path / "c.toml"
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    # through the config: --db would refuse the file before the doctor sees it
    config.write_text(f'[database]\nurl = "{junk}"\n')
    os.chmod(junk, 0o600)
    result = cli("--config", str(config), "doctor")
    assert result.code == 1
    assert _lines(result)["integrity"][0] == "FAIL"


def test_no_database_yet_is_a_warning_and_is_not_created(cli, _isolated_home, tmp_path):
    result = cli("doctor")
    assert result.code == 0
    assert _lines(result)["database"][0] == "WARN"
    assert not (_isolated_home / "data" / "crm.sqlite3").exists()

    typo = tmp_path / "crm-typo.sqlite3"
    result = cli("--db", str(typo), "doctor")
    assert result.code == 1
    assert _lines(result)["database"] == (
        "FAIL", f"no database at {typo} yet; check the path (--db or database.url)")
    assert not typo.exists()


def test_a_secrets_file_readable_by_others_fails_without_showing_a_key(cli, sqlite_db, _isolated_home):
    secrets = _isolated_home / "config" / "secrets.toml"
    secrets.parent.mkdir(parents=True)
    secrets.write_text('stripe_api_key = "sk_live_doctorMustNotPrintThis"\n')
    os.chmod(secrets, 0o644)
    result = cli("--db", str(sqlite_db.path), "doctor")
    assert result.code == 1
    status, detail = _lines(result)["secrets"]
    assert status == "FAIL" and f"chmod 600 {secrets}" in detail
    os.chmod(secrets, 0o600)
    result = cli("--db", str(sqlite_db.path), "doctor")
    assert result.code == 0
    assert _lines(result)["secrets"] == ("OK", f"{secrets} is mode 600 (1 key set)")
    assert "sk_live" not in result.out


def test_a_config_that_does_not_parse_fails_and_names_the_key(cli, _isolated_home):
    config = _isolated_home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[integrations.stripe]\napi_bse = 'https://api.stripe.com'\n")
    result = cli("doctor")
    assert result.code == 1
    status, detail = _lines(result)["config"]
    assert status == "FAIL" and f"{config}: integrations.stripe.api_bse" in detail
    assert _lines(result)["database"][0] == "WARN"  # not checked until the config parses


def test_an_unreachable_server_fails_without_showing_the_password(cli):
    result = cli("--db", "postgresql://crm:pw-hunter2@127.0.0.1:1/crm", "doctor")
    assert result.code == 1
    status, detail = _lines(result)["connection"]
    assert status == "FAIL" and "crm:***@127.0.0.1:1/crm" in detail
    assert "pw-hunter2" not in result.out + result.err


def test_run_checks_returns_data_for_the_tui(sqlite_db):
    checks = doctor.run_checks(app_paths(), str(sqlite_db.path))
    assert all(isinstance(c, doctor.Check) for c in checks)
    assert {c.status for c in checks} == {"OK"}
    assert [c.name for c in checks][:3] == ["config", "secrets", "database file"]


@pytest.mark.parametrize("kind", ["contact", "address"])
def test_rebuild_counts_every_kind(db, kind):
    from core import clients

    clients.create_client(
        db, clients.ClientData(name="Counted"),
        [clients.ContactData(name="Dana", email="dana@example.com")],
        [clients.AddressData(line1="1 Main St", city="Springfield")],
    )
    counts = doctor.rebuild_search_index(db)
    assert counts[kind] == 1 and counts["client"] == 1 and counts["invoice"] == 0
    with db.read() as s:
        assert doctor.search_index_counts(s.connection())[kind] == (1, 1, 0)
    assert set(counts) == set(search_schema.SOURCES)


def test_doctor_reads_a_closed_database_without_its_wal_files(sqlite_db):
    # the last connection closed and checkpointed: a read-only open must still work
    sqlite_db.dispose()
    for suffix in ("-wal", "-shm"):
        path = sqlite_db.path.with_name(sqlite_db.path.name + suffix)
        path.unlink(missing_ok=True)
    checks = doctor.check_database_url(str(sqlite_db.path))
    assert all(c.status == "OK" for c in checks), checks
    reopened = Database(str(sqlite_db.path))
    assert migrate.current_revision(reopened) == migrate.head_revision()
    reopened.dispose()


def test_a_missing_table_fails_the_schema_check(cli, db):
    with db.write() as s:
        s.execute(text("DROP TABLE service_logs"))
    result = cli("--db", db.url, "doctor")
    assert result.code == 1
    assert _lines(result)["schema"] == ("FAIL", "tables missing: service_logs")
