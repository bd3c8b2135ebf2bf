"""Snapshot tests of the main screens (pytest-textual-snapshot), with fixed data, a fixed
``today`` and fixed audit times, so the pictures change only when the screens do.

Review a changed picture with ``pytest --snapshot-report``; accept it with
``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import update

from core import business, clients, migrate
from core.clients import AddressData, ClientData, ContactData
from core.db import Database
from core.models import AuditEvent, Invoice, Job, Proposal
from tests.tui.support import make_app, settle

SMALL, LARGE = (80, 24), (100, 30)


@pytest.fixture(autouse=True)
def _fixed_clock_and_theme(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")  # activity times are shown in local time
    monkeypatch.delenv("TEXTUAL_THEME", raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _empty_db(tmp_path) -> Database:
    db = Database(str(tmp_path / "crm.sqlite3"))
    migrate.upgrade(db)
    return db


def _sample_db(tmp_path) -> Database:
    db = _empty_db(tmp_path)
    business.update(db, "business", {"name": "Sparkle Cleaning Co"})
    acme = clients.create_client(
        db,
        ClientData(name="Acme Dental [Main]", kind="company", company_name="Acme Dental LLC",
                   tags=["vip", "weekly"], notes="Alarm code at the front desk.\nNo visits on Fridays.",
                   custom_fields={"Account": "A-1001", "Door": "rear"}),
        [ContactData(name="Dana Reyes", email="dana@acmedental.test", phone="415-555-0101",
                     role="Office manager", sms_consent=True),
         ContactData(name="Dr. Lee", email="lee@acmedental.test", role="Owner")],
        [AddressData(line1="400 Market St", line2="Suite 210", kind="billing",
                     city="San Francisco", region="CA", postal_code="94105"),
         AddressData(line1="12 Harbor Way", label="Clinic 2", city="Oakland", region="CA",
                     postal_code="94607")],
    )
    people = [
        ("Brooke Hall", "lead", "brooke@example.test", "510-555-0144"),
        ("Carlos Diaz", "active", "carlos.diaz@example.test", "650-555-0188"),
        ("Foo [/] Bar", "active", "foo@example.test", ""),
        ("Grace O'Neil", "active", "grace.oneil@longdomainname.example.test", "408-555-0123"),
        ("Harbor View HOA", "active", "board@harborview.test", "415-555-0199"),
        ("Ivy Chen", "lead", "", "925-555-0110"),
        ("Old Client", "archived", "old@example.test", ""),
        ("[@click=app.quit]", "active", "", ""),
    ]
    for name, status, email, phone in people:
        clients.create_client(db, ClientData(name=name, status=status),
                              [ContactData(name=name, email=email, phone=phone)])
    with db.write() as s:
        s.add(Invoice(client_id=acme, number="INV-0001", status="issued", total_cents=48_000,
                      balance_cents=48_000, issue_date=dt.date(2026, 2, 1),
                      due_date=dt.date(2026, 3, 3)))
        s.add(Invoice(client_id=acme, number="INV-0002", status="partially_paid",
                      total_cents=25_000, balance_cents=10_000, issue_date=dt.date(2026, 3, 1),
                      due_date=dt.date(2026, 3, 31)))
        s.add(Invoice(client_id=acme, number="INV-0003", status="paid", total_cents=12_500,
                      balance_cents=0, issue_date=dt.date(2026, 1, 5), due_date=dt.date(2026, 2, 4)))
        s.add(Proposal(client_id=acme, number="PRO-2026-0004", title="Quarterly deep clean",
                       status="sent", total_cents=96_000, valid_until=dt.date(2026, 3, 31)))
        s.add(Job(client_id=acme, number="JOB-0007", title="Weekly office clean",
                  status="scheduled", total_cents=18_000))
        s.add(Job(client_id=2, number="JOB-0008", title="Move-out clean", status="completed",
                  total_cents=35_000))
        s.add(Invoice(client_id=3, number="INV-0004", status="issued", total_cents=35_000,
                      balance_cents=35_000, issue_date=dt.date(2026, 3, 2),
                      due_date=dt.date(2026, 4, 1)))
        s.execute(update(AuditEvent).values(at=dt.datetime(2026, 3, 2, 9, 30)))
    return db


async def _ready(pilot) -> None:
    await settle(pilot)
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False  # a blinking cursor would make the picture random
    await settle(pilot)


def test_first_run_screen(snap_compare, tmp_path):
    app = make_app(_empty_db(tmp_path))
    assert snap_compare(app, terminal_size=LARGE, run_before=_ready)


def test_client_list(snap_compare, tmp_path):
    app = make_app(_sample_db(tmp_path))
    assert snap_compare(app, terminal_size=LARGE, run_before=_ready)


def test_client_list_at_80_columns(snap_compare, tmp_path):
    app = make_app(_sample_db(tmp_path))
    assert snap_compare(app, terminal_size=SMALL, run_before=_ready)


def test_client_detail(snap_compare, tmp_path):
    app = make_app(_sample_db(tmp_path))

    async def open_acme(pilot):
        await _ready(pilot)
        await pilot.press("down", "enter")  # the second row: "[@click=app.quit]" sorts first
        await _ready(pilot)

    assert snap_compare(app, terminal_size=LARGE, run_before=open_acme)


def test_client_form(snap_compare, tmp_path):
    app = make_app(_sample_db(tmp_path))

    async def edit_acme(pilot):
        await _ready(pilot)
        await pilot.press("down", "e")
        await _ready(pilot)

    assert snap_compare(app, terminal_size=LARGE, run_before=edit_acme)
