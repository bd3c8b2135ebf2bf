"""Migrations: empty → head on each backend, and what must exist afterwards."""

from __future__ import annotations

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
