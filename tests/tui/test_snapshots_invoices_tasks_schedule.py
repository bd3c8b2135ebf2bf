"""Snapshot tests of the Invoices, Tasks and Schedule sections (pytest-textual-snapshot), with
fixed data made through the services and a fixed ``today`` (2026-03-15, a Sunday), so the
pictures change only when the screens do.

Review a changed picture with ``pytest --snapshot-report``; accept it with
``pytest tests/tui/test_snapshots_invoices_tasks_schedule.py --snapshot-update``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core import business, catalog, clients, credit_notes, invoices, jobs, migrate, payments, tasks
from core.clients import ClientData
from core.db import Database
from core.lines import LineData
from core.recurrence import Rule
from tests.tui.support import make_app, settle

SMALL, LARGE = (80, 24), (100, 30)


@pytest.fixture(autouse=True)
def _fixed_theme(monkeypatch):
    monkeypatch.delenv("TEXTUAL_THEME", raising=False)


def _sample_db(tmp_path) -> Database:
    db = Database(str(tmp_path / "crm.sqlite3"))
    migrate.upgrade(db)
    business.update(db, "business", {"name": "Sparkle Cleaning Co"})
    tax = catalog.create_tax_rate(db, catalog.TaxRateData("Sales tax", "8.875"))
    acme = clients.create_client(db, ClientData(name="Acme Dental [Main]", kind="company"))
    brook = clients.create_client(db, ClientData(name="Brook Farm"))
    foo = clients.create_client(db, ClientData(name="Foo [/] Bar"))
    harbor = clients.create_client(db, ClientData(name="Harbor View HOA", kind="company"))

    def issued(client_id: int, lines: list[LineData], on: str) -> int:
        iid = invoices.create_blank(db, client_id, lines)
        invoices.issue(db, iid, on)
        return iid

    deep_clean = [LineData("Deep clean, 3 rooms", Decimal(3), 12_000, tax),
                  LineData("Window washing", Decimal("1.5"), 8_000)]
    late = issued(acme, deep_clean, "2026-01-20")
    part = issued(brook, [LineData("Weekly mowing (4 visits)", Decimal(4), 4_500, tax),
                          LineData("Hedge trimming", Decimal(2), 6_500)], "2026-03-01")
    payments.record_payment(db, part, 10_000, "check", "2026-03-05", "Check 1042")
    credit_notes.issue_credit_note(db, part, 1_500, "Missed one mowing (rain)",
                                   issued_on="2026-03-06")
    issued(foo, [LineData("Gutter cleaning", Decimal(1), 15_000, tax)], "2026-02-20")
    paid = issued(harbor, [LineData("Common areas, monthly", Decimal(1), 60_000)], "2026-02-01")
    payments.record_payment(db, paid, 60_000, "bank", "2026-02-25", "TR 8812")
    void = issued(acme, [LineData("Duplicate of INV-0001", Decimal(1), 9_900)], "2026-01-21")
    credit_notes.void(db, void, "Issued twice by mistake", issued_on="2026-01-22")
    invoices.create_blank(db, harbor, [LineData("Pressure washing", Decimal(1), 22_000, tax)])

    gutters = jobs.create_job(db, jobs.JobData(client_id=foo, title="Gutter cleaning",
                                               lines=[LineData("Gutters", Decimal(1), 15_000)]),
                              jobs.ScheduleData("2026-03-10", "09:00", 90))
    jobs.create_job(db, jobs.JobData(client_id=brook, title="Lawn mowing",
                                     lines=[LineData("Mowing", Decimal(1), 4_500)]),
                    jobs.ScheduleData("2026-03-11", "08:30", 60,
                                      Rule("weekly", count=3)))
    jobs.create_job(db, jobs.JobData(client_id=harbor, title="Common areas",
                                     lines=[LineData("Clean", Decimal(1), 60_000)]),
                    jobs.ScheduleData("2026-03-15", "14:00", 120))
    with db.read() as s:
        from sqlalchemy import select

        from core.models import Visit

        first_visit = s.scalar(select(Visit.id).where(Visit.job_id == gutters))
    jobs.complete_visit(db, first_visit, jobs.ServiceLogData(minutes_spent=85),
                        today=dt.date(2026, 3, 10))
    for title, due, priority, link in (
        ("Chase payment for INV-0001", "2026-03-08", "high", ("invoice", late)),
        ("Order more microfibre cloths", "2026-03-13", "normal", None),
        ("Call [bold]Brook[/] about the hedge", "2026-03-15", "normal", ("client", brook)),
        ("Quote the spring clean", "2026-03-18", "low", ("client", foo)),
        ("Renew the van insurance", None, "normal", None),
    ):
        tasks.create_task(db, tasks.TaskData(
            title=title, due_date=due, priority=priority,
            linked_type=link[0] if link else None, linked_id=link[1] if link else None))
    return db


async def _ready(pilot) -> None:
    await settle(pilot)
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False  # a blinking cursor would make the picture random
    await settle(pilot)


def _press(*keys: str):
    async def run(pilot) -> None:
        await _ready(pilot)
        for key in keys:
            await pilot.press(key)
            await _ready(pilot)

    return run


def test_invoice_list(snap_compare, tmp_path):
    app = make_app(_sample_db(tmp_path))
    assert snap_compare(app, terminal_size=LARGE, run_before=_press("5"))


def test_invoice_list_at_80_columns(snap_compare, tmp_path):
    app = make_app(_sample_db(tmp_path))
    assert snap_compare(app, terminal_size=SMALL, run_before=_press("5"))


def test_invoice_detail(snap_compare, tmp_path):
    app = make_app(_sample_db(tmp_path))
    # newest first: INV-0005 (void), INV-0004, INV-0003, INV-0002 (part paid, credit note)
    assert snap_compare(app, terminal_size=LARGE,
                        run_before=_press("5", "down", "down", "down", "enter"))


def test_record_payment_dialog(snap_compare, tmp_path):
    app = make_app(_sample_db(tmp_path))
    assert snap_compare(app, terminal_size=LARGE,
                        run_before=_press("5", "down", "down", "down", "enter", "p"))


def test_tasks(snap_compare, tmp_path):
    app = make_app(_sample_db(tmp_path))
    assert snap_compare(app, terminal_size=LARGE, run_before=_press("6"))


def test_schedule_week(snap_compare, tmp_path):
    app = make_app(_sample_db(tmp_path))
    assert snap_compare(app, terminal_size=LARGE, run_before=_press("4"))
