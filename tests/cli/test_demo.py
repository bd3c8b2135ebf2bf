"""``tssg-crm demo``: a sample business on an empty database, never mixed into real data."""

from __future__ import annotations

import importlib.util

import pytest

from core import migrate
from core.db import Database
from tests.cli.support import add_client, assert_usage_error, client_names, mode

needs_demo = pytest.mark.skipif(
    importlib.util.find_spec("core.demo") is None,
    reason="core/demo.py (seed_demo) is written in another issue and is not in the tree yet",
)


def test_demo_refuses_a_database_that_has_clients(cli, sqlite_db):
    add_client(sqlite_db, "Real Customer")
    result = cli("--db", str(sqlite_db.path), "demo", "--clients", "3")
    assert_usage_error(result, "already has 1 client;", "--force")
    assert client_names(sqlite_db) == ["Real Customer"]


@needs_demo
def test_demo_creates_and_migrates_a_new_private_database_at_db(cli, tmp_path):
    target = tmp_path / "trial" / "demo.sqlite3"
    result = cli("--db", str(target), "demo", "--clients", "3")
    assert result.code == 0, result
    assert result.out.strip() == f"Added a demo business with 3 clients to {target}"
    assert mode(target) == 0o600
    db = Database(str(target))
    try:
        assert migrate.current_revision(db) == migrate.head_revision()
        assert len(client_names(db)) == 3
    finally:
        db.dispose()
    # a second run would mix two demo businesses: refused
    assert_usage_error(cli("--db", str(target), "demo", "--clients", "3"), "already has 3 clients")


@needs_demo
def test_demo_with_force_adds_to_a_database_that_has_clients(cli, sqlite_db):
    add_client(sqlite_db, "Real Customer")
    result = cli("--db", str(sqlite_db.path), "demo", "--clients", "2", "--force")
    assert result.code == 0, result
    names = client_names(sqlite_db)
    assert len(names) == 3 and "Real Customer" in names


@needs_demo
def test_demo_fills_an_empty_database_once_on_each_backend(cli, db):
    """The whole sample business (proposals in every state, jobs, visits, invoices) through
    the command line, on SQLite and on PostgreSQL."""
    target = str(db.path) if db.is_sqlite else db.url
    result = cli("--db", target, "demo", "--clients", "3")
    assert result.code == 0, result
    assert result.out.startswith("Added a demo business with 3 clients to ")
    assert len(client_names(db)) == 3
    assert_usage_error(cli("--db", target, "demo", "--clients", "3"), "already has 3 clients")
