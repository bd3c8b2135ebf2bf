"""Migrations: empty → head on each backend, and what must exist afterwards."""

from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import inspect, text

from core import migrate, search_schema
from core.db import Database
from core.models import Base


def _triggers(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        if db.is_sqlite:
            rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        else:
            rows = conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
        return {r[0] for r in rows}


def test_head_has_every_table_index_and_trigger(db):
    assert migrate.current_revision(db) == migrate.head_revision()
    insp = inspect(db.engine)
    tables = set(insp.get_table_names())
    assert set(Base.metadata.tables) <= tables
    for table in Base.metadata.sorted_tables:
        have = {ix["name"] for ix in insp.get_indexes(table.name)}
        want = {ix.name for ix in table.indexes}
        assert want <= have, f"{table.name} is missing indexes {want - have}"
    assert set(search_schema.trigger_names()) <= _triggers(db)


def test_upgrade_is_idempotent_and_backs_up_before_migrating(tmp_path):
    db = Database(str(tmp_path / "crm.sqlite3"))
    # an empty file has nothing to lose: no backup
    assert migrate.upgrade(db, backup_dir=tmp_path / "b") is None
    assert migrate.upgrade(db, backup_dir=tmp_path / "b") is None  # already at head
    from alembic import command

    with db.engine.begin() as conn:
        command.downgrade(migrate._alembic_config(db, conn), "0001")
    assert migrate.current_revision(db) == "0001"
    assert not set(search_schema.trigger_names()) & _triggers(db)
    backup = migrate.upgrade(db, backup_dir=tmp_path / "b")
    assert backup is not None and backup.exists()
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    assert migrate.current_revision(db) == migrate.head_revision()
    assert set(search_schema.trigger_names()) <= _triggers(db)


def test_sqlite_file_is_private_and_tuned(tmp_path):
    db = Database(str(tmp_path / "new.sqlite3"))
    migrate.upgrade(db)
    assert (tmp_path / "new.sqlite3").stat().st_mode & 0o777 == 0o600
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_migrations_match_the_models(db):
    """Head must equal the models: a model change without its migration fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # the search index is created by raw SQL in 0002, not by the models
    diff = [d for d in diff if "search_" not in str(d)]
    assert diff == []


def test_0004_remakes_the_sqlite_search_index_without_positions_and_keeps_it_full(tmp_path):
    from alembic import command

    from core import clients, search
    from core.clients import ClientData, ContactData

    db = Database(str(tmp_path / "crm.sqlite3"))
    migrate.upgrade(db)
    cid = clients.create_client(db, ClientData(name="Zoë Renée"),
                                [ContactData(name="Kelly Hicks", email="kelly.hicks@inbox.example")])

    def fts_sql() -> str:
        with db.engine.connect() as conn:
            return conn.execute(text(
                "SELECT sql FROM sqlite_master WHERE name = 'search_fts'")).scalar_one()

    def found() -> set[str]:
        return {h.kind for h in search.search(db, "zoe")} | {
            h.kind for h in search.search(db, "kelly.hicks@inbox.ex")}

    assert "detail = none" in fts_sql() and found() == {"client", "contact"}
    with db.engine.begin() as conn:
        command.downgrade(migrate._alembic_config(db, conn), "0003")
    assert "detail" not in fts_sql() and found() == {"client", "contact"}
    assert set(search_schema.trigger_names()) <= _triggers(db)
    migrate.upgrade(db, backup_dir=tmp_path / "b")  # the 0003 file people have, at head
    assert "detail = none" in fts_sql() and found() == {"client", "contact"}
    assert set(search_schema.trigger_names()) <= _triggers(db)
    clients.add_contact(db, cid, ContactData(name="Zed Ames"))  # the triggers still index
    assert {h.client_id for h in search.search(db, "zed")} == {cid}


def _with_a_credit_note(db: Database) -> tuple[int, str]:
    """A client, an issued invoice and a credit note on it (made at head, by the services)."""
    import datetime as dt
    from decimal import Decimal

    from core import business, clients, credit_notes, invoices
    from core.clients import ClientData
    from core.lines import LineData

    business.update(db, "business", {"name": "Green Thumb Lawn Care"})
    cid = clients.create_client(db, ClientData(name="Acme Lawn Care"))
    iid = invoices.create_blank(db, cid, [LineData("Lawn mowing", Decimal(1), 10000)])
    invoices.issue(db, iid, dt.date(2026, 3, 2))
    credit_notes.issue_credit_note(db, iid, 2500, "Missed a visit", issued_on=dt.date(2026, 3, 3))
    return iid, "CN-0001"


def _to(db: Database, revision: str) -> None:
    from alembic import command

    with db.engine.begin() as conn:
        command.downgrade(migrate._alembic_config(db, conn), revision)


def test_0005_versions_settings_and_indexes_the_credit_notes_there_are(db, tmp_path):
    from core import business, search

    iid, number = _with_a_credit_note(db)
    _to(db, "0004")
    assert "version" not in {c["name"] for c in inspect(db.engine).get_columns("settings")}
    assert not set(search_schema.trigger_names(["credit_note"])) & _triggers(db)
    with db.engine.connect() as conn:
        name = conn.execute(text("SELECT value FROM settings WHERE key = 'business'")).scalar()
    assert "Green Thumb" in name
    if db.is_sqlite:  # the PostgreSQL leg is below, with pg_dump
        migrate.upgrade(db, backup_dir=tmp_path / "b")
    else:
        migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.head_revision()
    assert set(search_schema.trigger_names()) <= _triggers(db)
    assert {(h.kind, h.ref_id) for h in search.search(db, number)} == {("credit_note", iid)}
    values, versions = business.load_versioned(db, ["business", "numbering"])
    assert values["business"]["name"] == "Green Thumb Lawn Care"
    assert versions == {"business": 1, "numbering": 0}


def _pg_tool(name: str) -> str:
    import glob
    import shutil

    found = shutil.which(name) or next(
        (p for p in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


@pytest.fixture
def pg_at_0004(pg_template):
    """A PostgreSQL database with data, at revision 0004 (before this build's 0005)."""
    name, url = pg_template.new()
    db = Database(url)
    _with_a_credit_note(db)
    _to(db, "0004")
    yield db
    db.dispose()
    pg_template.drop(name)


def test_postgres_is_dumped_with_pg_dump_before_migrating(pg_at_0004, tmp_path):
    db = pg_at_0004
    backups = tmp_path / "backups"
    dump = migrate.upgrade(db, backup_dir=backups)
    assert migrate.current_revision(db) == migrate.head_revision()
    assert dump is not None and dump.parent == backups
    assert dump.name.startswith("pre-migrate-") and dump.suffix == ".dump"
    assert oct(dump.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in backups.iterdir()] == [dump.name]  # no .part left over
    listing = subprocess.run([_pg_tool("pg_restore"), "--list", str(dump)],
                             capture_output=True, text=True, check=True).stdout
    # the dump is of the database as it was: schema 0004, with its rows
    assert "TABLE DATA public credit_notes" in listing
    assert "TABLE DATA public alembic_version" in listing
    restored = subprocess.run([_pg_tool("pg_restore"), "--data-only", "--table=alembic_version",
                               "--file=-", str(dump)], capture_output=True, text=True,
                              check=True).stdout
    assert "0004" in restored and "0005" not in restored
    assert migrate.upgrade(db, backup_dir=backups) is None  # at head: nothing to back up


def test_postgres_is_not_migrated_without_pg_dump_unless_told(pg_at_0004, tmp_path,
                                                              monkeypatch):
    from core import backup
    from core.errors import DomainError

    _pg_tool("pg_dump")  # the machine has it: hide it from PATH and the Debian directory
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setattr(backup, "PG_BIN_GLOB", str(tmp_path / "no-postgresql" / "*" / "bin"))
    db = pg_at_0004
    with pytest.raises(DomainError) as err:
        migrate.upgrade(db, backup_dir=tmp_path / "backups")
    message = str(err.value)
    assert "pg_dump was not found" in message and "postgresql-client" in message
    assert "TSSG_CRM_MIGRATE_WITHOUT_BACKUP=1" in message and "Nothing was changed" in message
    assert migrate.current_revision(db) == "0004"
    assert not (tmp_path / "backups").exists() or not any((tmp_path / "backups").iterdir())
    # the owner took a dump another way and says so: migrated, no backup file
    monkeypatch.setenv("TSSG_CRM_MIGRATE_WITHOUT_BACKUP", "1")
    assert migrate.upgrade(db, backup_dir=tmp_path / "backups") is None
    assert migrate.current_revision(db) == migrate.head_revision()


def test_the_password_reaches_pg_dump_in_its_environment_only(tmp_path):
    from core import backup

    args, env = backup.pg_dump_command(
        "/usr/bin/pg_dump", "postgresql+psycopg://crm:s3cr%40t-pw@db.example:5433/crm?sslmode=require",
        tmp_path / "x.dump")
    assert env["PGPASSWORD"] == "s3cr@t-pw"
    assert not any("s3cr" in a for a in args)
    assert "--format=custom" in args and "--no-password" in args
    assert "--dbname=postgresql://crm@db.example:5433/crm?sslmode=require" in args


def test_pg_dump_off_path_is_found_where_debian_puts_it(tmp_path, monkeypatch):
    import glob

    from core import backup

    installed = glob.glob("/usr/lib/postgresql/*/bin/pg_dump")
    if not installed:
        pytest.skip("no /usr/lib/postgresql/N/bin/pg_dump on this machine")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    found = backup.find_pg_dump()
    assert found is not None and found in installed
