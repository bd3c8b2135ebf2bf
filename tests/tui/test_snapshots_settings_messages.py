"""Snapshot of Settings → Text messages at 80×24 (pytest-textual-snapshot) with fixed data and
a fixed ``today``: quiet hours, then the visit reminder template with its placeholders and a
preview filled from the one real visit. Accept a changed picture with ``--snapshot-update``
after looking at it."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from core import business, clients, migrate
from core.clients import ContactData
from core.db import Database
from tests.core.factories import make_job, schedule
from tests.tui.support import TODAY, make_app, settle
from tui.screens.settings import SECTIONS


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
    business.update(db, "business", {"name": "Sparkle Cleaning Co", "phone": "+14155550100"})
    cid = clients.create_client(db, clients.ClientData(name="Maria Lopez"), [
        ContactData(name="Maria Lopez", phone="+13125550142", is_primary=True,
                    sms_consent=True)],
        [clients.AddressData(line1="12 Elm St", city="Springfield", region="IL")])
    with db.read() as s:
        address_id = s.get(clients.Client, cid).addresses[0].id
    make_job(db, cid, address_id=address_id,
             schedule=schedule(TODAY + dt.timedelta(days=1), "09:00"))
    return db


async def _open_messages(pilot) -> None:
    await settle(pilot)
    await pilot.press("f2")
    await settle(pilot)
    for _ in range([key for key, _title in SECTIONS].index("messages")):
        await pilot.press("down")
    await settle(pilot)
    await pilot.press("enter")  # into the first field
    screen = pilot.app.screen
    screen.query_one("#tpl-visit_reminder").focus()
    await settle(pilot)


def test_settings_text_messages_at_80_columns(snap_compare, tmp_path):
    app = make_app(_db(tmp_path))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_open_messages)
