"""Snapshot tests of the Reports section (pytest-textual-snapshot) with fixed data and a
fixed ``today`` (2026-03-15): each report at 100×30, the chart and the receivables at 80×24
(also with five- and seven-figure amounts: folded buckets, no amount cut).

Review a changed picture with ``pytest --snapshot-report``; accept it with
``pytest tests/tui/test_snapshots_reports.py --snapshot-update``.
"""

from __future__ import annotations

import datetime as dt

import pytest

from core import business, migrate, payments
from core.db import Database
from tests.tui.support import make_app, settle
from tests.tui.test_reports import _invoice, big_receivables, report_books

SMALL, LARGE = (80, 24), (100, 30)


@pytest.fixture(autouse=True)
def _fixed_theme(monkeypatch):
    monkeypatch.delenv("TEXTUAL_THEME", raising=False)


def _db(tmp_path) -> Database:
    """The test_reports books, plus a year of monthly work paid a month later, and one
    refund larger than that month's takings (a month below zero)."""
    db = Database(str(tmp_path / "crm.sqlite3"))
    migrate.upgrade(db)
    business.update(db, "business", {"name": "Sparkle Cleaning Co"})
    ids = report_books(db)
    amounts = [18_000, 22_500, 31_000, 27_500, 40_000, 36_000, 29_000, 12_000, 15_500, 24_000]
    last_payment = 0
    for n, cents in enumerate(amounts):
        month = 4 + n  # April 2025 to January 2026
        issued = dt.date(2025 + (month - 1) // 12, (month - 1) % 12 + 1, 5)
        invoice_id = _invoice(db, ids["brook"], cents, issued)
        last_payment = payments.record_payment(db, invoice_id, cents, "card",
                                               issued + dt.timedelta(days=20))
    payments.refund(db, last_payment, 24_000, "Job redone by another firm", dt.date(2026, 2, 3))
    return db


async def _reports(pilot, *keys: str) -> None:
    await settle(pilot)
    await pilot.press("7", *keys)
    await settle(pilot)


def test_revenue_chart(snap_compare, tmp_path):
    app = make_app(_db(tmp_path))
    assert snap_compare(app, terminal_size=LARGE, run_before=_reports)


def test_revenue_chart_at_80_columns(snap_compare, tmp_path):
    app = make_app(_db(tmp_path))

    async def a_month_with_a_refund(pilot):
        await _reports(pilot, "left", "left", "left")  # December 2025

    assert snap_compare(app, terminal_size=SMALL, run_before=a_month_with_a_refund)


def test_aged_receivables(snap_compare, tmp_path):
    app = make_app(_db(tmp_path))

    async def receivables(pilot):
        await _reports(pilot, "a")

    assert snap_compare(app, terminal_size=LARGE, run_before=receivables)


def test_aged_receivables_at_80_columns(snap_compare, tmp_path):
    app = make_app(_db(tmp_path))

    async def receivables(pilot):
        await _reports(pilot, "a")

    assert snap_compare(app, terminal_size=SMALL, run_before=receivables)


def test_aged_receivables_with_seven_figures_at_80_columns(snap_compare, tmp_path):
    db = _db(tmp_path)
    big_receivables(db)
    app = make_app(db)

    async def receivables(pilot):
        await _reports(pilot, "a")

    assert snap_compare(app, terminal_size=SMALL, run_before=receivables)


def test_proposal_conversion(snap_compare, tmp_path):
    app = make_app(_db(tmp_path))

    async def conversion(pilot):
        await _reports(pilot, "c")

    assert snap_compare(app, terminal_size=LARGE, run_before=conversion)


def test_jobs_to_invoice(snap_compare, tmp_path):
    app = make_app(_db(tmp_path))

    async def jobs(pilot):
        await _reports(pilot, "j")

    assert snap_compare(app, terminal_size=LARGE, run_before=jobs)
