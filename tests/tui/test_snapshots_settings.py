"""Snapshots of Settings (pytest-textual-snapshot) with fixed data and a fixed ``today``: the
privacy section at 100×30 (the three toggles with what each sends) and the business
profile at 80×24. Accept a changed picture with ``--snapshot-update`` after looking at it."""

from __future__ import annotations

import time

import pytest

from core import business, migrate
from core.db import Database
from tests.tui.support import make_app, settle

SMALL, LARGE = (80, 24), (100, 30)


@pytest.fixture(autouse=True)
def _fixed_clock_and_theme(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("TEXTUAL_THEME", raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _db(tmp_path) -> Database:
    db = Database(str(tmp_path / "crm.sqlite3"))
    migrate.upgrade(db)
    business.update(db, "business", {"name": "Sparkle Cleaning Co", "phone": "+14155550100",
                                     "email": "office@sparkle.test"})
    return db


def _open(section_downs: int):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        for _ in range(section_downs):
            await pilot.press("down")
        await settle(pilot)

    return run_before


def test_settings_privacy(snap_compare, tmp_path):
    app = make_app(_db(tmp_path))
    assert snap_compare(app, terminal_size=LARGE, run_before=_open(4))


def test_settings_business_at_80_columns(snap_compare, tmp_path):
    app = make_app(_db(tmp_path))
    assert snap_compare(app, terminal_size=SMALL, run_before=_open(0))
