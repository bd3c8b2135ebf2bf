"""Fixtures for the TUI tests (helpers are in :mod:`tests.tui.support`)."""

from __future__ import annotations

import pytest

from core import business, migrate
from core.db import Database


@pytest.fixture
def set_up_db(db):
    """The test database on each backend, with the first-run question already answered.

    For journeys whose database work differs by backend (search, paging, concurrency)."""
    business.update(db, "business", {"name": "Sparkle Cleaning"})
    return db


@pytest.fixture
def sqlite_db(tmp_path):
    """A migrated SQLite database, not yet set up: for journeys that are about the screens
    (form keys, dialogs); the services under them run on both backends in tests/core."""
    database = Database(str(tmp_path / "crm.sqlite3"))
    migrate.upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def ui_db(sqlite_db):
    business.update(sqlite_db, "business", {"name": "Sparkle Cleaning"})
    return sqlite_db
