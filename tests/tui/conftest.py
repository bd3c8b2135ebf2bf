"""Fixtures for the TUI tests (helpers are in :mod:`tests.tui.support`)."""

from __future__ import annotations

import pytest
import textual._wait

from core import business, migrate
from core.db import Database

# Pilot waits for the app to go idle after every key and every pause by sleeping in 20 ms
# slices until one passes with under 1 ms of CPU; half of a typing test's time was those
# sleeps. 5 ms slices with under 0.25 ms of CPU keep the same test (a twentieth of the
# slice busy means not idle) at a quarter of the wait. Tests still wait on conditions
# (support.wait_until) for anything that runs in threads.
textual._wait.SLEEP_GRANULARITY = 0.005
textual._wait.SLEEP_IDLE = 0.00025


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
