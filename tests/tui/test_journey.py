"""The whole working day by keyboard only, across every section, on a real database (SQLite
and PostgreSQL): first run → new client with a contact and two service addresses →
proposal with three lines and two tax rates → send → approve → convert to a job → two
visits → both completed with service logs → invoice from the job → issue (the first
number) → part payment → final payment → paid, the client owes nothing and the reports
moved. Plus: every section at 80×24 (opens, shows its keys) and in the ``textual-ansi``
theme.

The only set-up outside the keyboard is the tax rates and price book, which have no screen
yet (Settings is a later section).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import business, catalog, money, payments
from core.models import Client, Invoice, Job, Payment, Proposal, ServiceLog, Visit
from tests.core.factories import make_tax_rate
from tests.tui.support import (
    TODAY,
    make_app,
    notices,
    paste,
    screen_text,
    settle,
    type_text,
    wait_until,
)
from tui.app import CrmApp
from tui.screens.client_detail import ClientDetailScreen
from tui.screens.client_form import ClientFormScreen
from tui.screens.clients import ClientListScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.first_run import FirstRunScreen
from tui.screens.invoice_detail import InvoiceDetailScreen
from tui.screens.invoice_dialogs import RecordPaymentDialog
from tui.screens.job_detail import JobDetailScreen
from tui.screens.proposal_editor import ProposalEditorScreen
from tui.screens.proposals import ProposalListScreen
from tui.screens.reports import ReportsScreen
from tui.screens.visit_dialogs import CompleteVisitDialog, ScheduleDialog
from tui.widgets.bar_chart import BarChart
from tui.widgets.line_items import LineItemsEditor
from tui.widgets.section_bar import SECTIONS


def _catalogue(db) -> tuple[int, int]:
    state = make_tax_rate(db, "State tax", "6.25")
    city = make_tax_rate(db, "City tax", "2.5")
    business.update(db, "defaults", {"tax_rate_id": state})
    catalog.create_item(db, catalog.PriceBookItemData("Window cleaning", 4500, tax_rate_id=state))
    catalog.create_item(db, catalog.PriceBookItemData("Gutter cleaning", 9000))
    return state, city


def _focused(app) -> str | None:
    focused = app.focused
    return (focused.id or " ".join(sorted(focused.classes))) if focused else None


def _one(db, model):
    with db.read() as s:
        return s.scalars(select(model)).one()


def _count(db, model) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model))


async def _section(pilot, key: str, screen_type: type) -> None:
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, screen_type), screen_type.__name__)


async def test_from_a_new_client_to_a_paid_invoice_by_keyboard(db):
    state, city = _catalogue(db)
    expected = money.compute_totals([
        money.LineInput(Decimal(3), 4500, Decimal("6.25")),
        money.LineInput(Decimal(1), 12000, Decimal("2.5"), "percent", Decimal(10)),
        money.LineInput(Decimal(1), 9000, Decimal(0)),
    ])
    total = expected.total_cents
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        # ---- first run: the business gets its name
        await wait_until(pilot, lambda: isinstance(app.screen, FirstRunScreen), "first run")
        await paste(pilot, "Sparkle Cleaning")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ClientListScreen), "the clients")

        # ---- the reports before any work: nothing received, nothing owed
        await _section(pilot, "7", ReportsScreen)
        reports = app.screen
        await wait_until(pilot, lambda: len(reports.query_one(BarChart).bars) == 12, "the chart")
        assert reports.query_one(BarChart).bars[-1].value == 0
        assert "March 2026" in screen_text(app) and "received $0.00" in screen_text(app)

        # ---- a new client with a contact and two service addresses
        await _section(pilot, "1", ClientListScreen)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, ClientFormScreen), "the form")
        await paste(pilot, "Greenway Landscaping")
        await pilot.press(*["tab"] * 7)  # company, kind, status, tags, notes, custom
        assert _focused(app) == "e-name"
        for value in ("Gina Green", "gina@greenway.test", "415-555-0134", "Owner"):
            await paste(pilot, value)
            await pilot.press("tab")
        await pilot.press("tab", "tab")  # primary (ticked), texts (not agreed)
        assert _focused(app) == "s-kind"
        await pilot.press("enter", "down", "enter")  # billing -> service
        await pilot.press("tab")
        for value in ("Main house", "12 Elm St", "", "Portland", "OR", "97201"):
            if value:
                await paste(pilot, value)
            await pilot.press("tab")
        await pilot.press("ctrl+r")  # a second address
        await settle(pilot)
        assert _focused(app) == "e-line1"
        await pilot.press("shift+tab", "shift+tab")
        assert _focused(app) == "s-kind"
        await pilot.press("enter", "down", "enter")  # offered as billing: make it service
        await pilot.press("tab")
        for value in ("Lake cabin", "88 Oak Ave", "", "Salem"):
            if value:
                await paste(pilot, value)
            await pilot.press("tab")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ClientDetailScreen), "the client")
        with db.read() as s:
            client = s.scalars(select(Client)).one()
            assert client.name == "Greenway Landscaping"
            assert [(c.name, c.email, c.phone) for c in client.contacts] == [
                ("Gina Green", "gina@greenway.test", "+14155550134")]
            assert sorted((a.kind, a.label, a.line1, a.city) for a in client.addresses) == [
                ("service", "Lake cabin", "88 Oak Ave", "Salem"),
                ("service", "Main house", "12 Elm St", "Portland"),
            ]
        shown = screen_text(app)
        assert "Greenway Landscaping" in shown and "Addresses (2)" in shown

        # ---- a proposal with three lines and two tax rates
        await _section(pilot, "2", ProposalListScreen)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, ProposalEditorScreen), "editor")
        form = app.screen
        await type_text(pilot, "green")
        await wait_until(pilot, lambda: form.query_one("#p-client-matches").display, "matches")
        await pilot.press("down", "enter")
        await settle(pilot)
        assert form.client_id == client.id and _focused(app) == "p-address"
        await pilot.press("enter", "down", "enter")  # the second service address
        await pilot.press("tab")
        await paste(pilot, "Spring clean-up")
        await pilot.press("tab", "tab", "tab")
        await paste(pilot, "Half now, half on completion")
        await pilot.press("tab")
        editor = form.query_one(LineItemsEditor)
        await type_text(pilot, "wind")
        await wait_until(pilot, lambda: editor.query_one("#li-matches").display, "price book")
        await pilot.press("down", "enter")
        await settle(pilot)
        await type_text(pilot, "3")
        await pilot.press("enter")
        await settle(pilot)
        await paste(pilot, "Carpet shampoo")
        await pilot.press("tab", "tab")
        await type_text(pilot, "120")
        await pilot.press("tab", "enter", "down", "down", "enter")  # State tax -> City tax
        await pilot.press("tab")
        await type_text(pilot, "10%")
        await pilot.press("enter")
        await settle(pilot)
        await type_text(pilot, "gutter")
        await wait_until(pilot, lambda: editor.query_one("#li-matches").display, "price book")
        await pilot.press("enter")
        await wait_until(pilot, lambda: editor.totals == expected, "the live totals")
        assert f"Total {money.format_money(total)}" in screen_text(app)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ProposalListScreen)
                         and app.screen.table.row_count == 1, "the proposal listed")

        # ---- send, approve, convert: one key each
        await pilot.press("s")
        await wait_until(pilot, lambda: _one(db, Proposal).status == "sent", "sent")
        await settle(pilot)
        await pilot.press("a")
        await wait_until(pilot, lambda: _one(db, Proposal).status == "approved", "approved")
        await settle(pilot)
        await pilot.press("j")
        await wait_until(pilot, lambda: isinstance(app.screen, JobDetailScreen)
                         and app.screen.view is not None, "the job")
        with db.read() as s:
            proposal = s.scalars(select(Proposal)).one()
            assert proposal.number == "PRO-2026-0001" and proposal.job_id is not None
            assert [(ln.tax_rate_id, ln.total_cents) for ln in proposal.lines] == [
                (state, expected.lines[0].total_cents), (city, expected.lines[1].total_cents),
                (None, expected.lines[2].total_cents)]
        job = _one(db, Job)
        assert (job.number, job.total_cents, job.client_id) == ("JOB-0001", total, client.id)

        # ---- two visits, a week apart
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, ScheduleDialog), "the dialog")
        await pilot.press("tab", "tab", "tab")
        assert _focused(app) == "s-repeat"
        await pilot.press("enter", "down", "enter")  # once -> every week
        await settle(pilot)
        await pilot.press("tab", "tab")  # past "until" (every week has no interval to set)
        assert _focused(app) == "s-count"
        await type_text(pilot, "2")
        await wait_until(pilot, lambda: "2 visits:" in screen_text(app), "the preview")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: _count(db, Visit) == 2, "two visits")
        await wait_until(pilot, lambda: isinstance(app.screen, JobDetailScreen), "the job")

        # ---- both completed, each with its service log
        if _focused(app) != "visits":
            # the visits table was hidden while the job had none: tab to it
            await pilot.press("tab")
        assert _focused(app) == "visits"
        for minutes, notes in (("1h30", "Windows and carpets done"), ("45", "Gutters cleared")):
            await pilot.press("c")
            await wait_until(pilot, lambda: isinstance(app.screen, CompleteVisitDialog),
                             "the log dialog")
            await pilot.press("ctrl+a", "ctrl+k")
            await type_text(pilot, minutes)
            await pilot.press("tab", "tab", "tab")
            assert _focused(app) == "l-notes"
            await paste(pilot, notes)
            done = _count(db, ServiceLog) + 1
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda done=done: _count(db, ServiceLog) == done, "the log")
            await wait_until(pilot, lambda done=done: f"Service logs ({done})" in screen_text(app),
                             "the job page with the new log")
            await pilot.press("down")  # to the next visit
        await wait_until(pilot, lambda: _one(db, Job).status == "completed", "job completed")
        with db.read() as s:
            logs = s.execute(select(ServiceLog.minutes_spent, ServiceLog.notes)
                             .order_by(ServiceLog.id)).all()
        assert [tuple(r) for r in logs] == [(90, "Windows and carpets done"),
                                            (45, "Gutters cleared")]
        assert "Service logs (2)" in screen_text(app)

        # ---- the reports see finished work waiting to be billed
        await _section(pilot, "7", ReportsScreen)
        await pilot.press("j")
        await wait_until(pilot, lambda: "1 job ready to invoice, about "
                         f"{money.format_money(total)}" in screen_text(app), "jobs to invoice")
        await _section(pilot, "3", JobDetailScreen)

        # ---- invoice from the job, issue it: the first number
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, InvoiceDetailScreen)
                         and app.screen.view is not None, "the draft invoice")
        invoice = _one(db, Invoice)
        assert (invoice.status, invoice.number, invoice.total_cents) == ("draft", None, total)
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await wait_until(pilot, lambda: _one(db, Invoice).status == "issued", "issued")
        await settle(pilot)
        assert _one(db, Invoice).number == "INV-0001"
        assert "INV-0001  Issued" in screen_text(app)
        assert f"Balance {money.format_money(total)}" in screen_text(app)

        # ---- a part payment, then the rest
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, RecordPaymentDialog), "payment")
        await pilot.press("end", "ctrl+u")
        await type_text(pilot, "100")
        await pilot.press("enter")
        await wait_until(pilot, lambda: _one(db, Invoice).status == "partially_paid", "part paid")
        await settle(pilot)
        assert f"Balance {money.format_money(total - 10_000)}" in screen_text(app)
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, RecordPaymentDialog), "payment")
        await pilot.press("enter")  # the rest, as offered
        await wait_until(pilot, lambda: _one(db, Invoice).status == "paid", "paid")
        await settle(pilot)
        assert "INV-0001  Paid" in screen_text(app) and "Balance $0.00" in screen_text(app)
        with db.read() as s:
            assert payments.client_balance_cents(s, client.id) == 0
            assert [p.amount_cents for p in s.scalars(select(Payment).order_by(Payment.id))] == [
                10_000, total - 10_000]
        assert _one(db, Job).status == "invoiced"

        # ---- the client owes nothing
        await _section(pilot, "1", ClientDetailScreen)
        await wait_until(pilot, lambda: "Balance $0.00" in screen_text(app), "the balance")
        assert "INV-0001" in screen_text(app)

        # ---- the reports moved: the money came in this month, nothing owed or to invoice
        await _section(pilot, "7", ReportsScreen)
        await pilot.press("r")
        await wait_until(pilot, lambda: reports.query_one(BarChart).bars[-1].value == total,
                         "this month's revenue")
        shown = screen_text(app)
        received = money.format_money(total)
        assert f"received {received} − refunds $0.00 = {received}" in shown
        assert f"issued {received} − credit notes $0.00 = {received}" in shown
        assert f"Last 12 months: {received} received" in shown
        await pilot.press("a")
        await wait_until(pilot, lambda: "Nobody owes anything on 2026-03-15" in screen_text(app),
                         "no receivables")
        await pilot.press("j")
        await wait_until(pilot, lambda: "Nothing to invoice" in screen_text(app), "all billed")
        assert not any("Something went wrong" in n for n in notices(app))


def _first_hint(screen) -> str:
    """The description of the first key the screen shows in its hint bar."""
    app = screen.app
    rows = app.hint_rows(screen)
    assert rows, f"{type(screen).__name__} shows no keys"
    return rows[0][1]


# Textual 8.2.8 calls its ANSI themes "ansi-dark" and "ansi-light" (no "textual-ansi")
@pytest.mark.parametrize("theme", ["textual-dark", "ansi-dark"])
async def test_every_section_opens_at_80x24_with_its_keys_in_view(ui_db, theme, monkeypatch):
    monkeypatch.setenv("TEXTUAL_THEME", theme)
    app = make_app(ui_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == theme
        for mode, title, key in SECTIONS:
            await pilot.press(key)
            await settle(pilot)
            screen = app.screen
            assert app.current_mode == mode, mode
            assert "coming soon" not in screen_text(app), title
            lines = screen_text(app).splitlines()
            assert len(lines) == 24
            # the section bar names every section, this one marked; the keys are at the bottom
            assert all(f"{k} {t}" in lines[0] for _m, t, k in SECTIONS)
            current = screen.query(".section.-current")
            assert [str(label.render()) for label in current] == [f"{key} {title}"]
            assert _first_hint(screen) in lines[-1], (title, lines[-1])
            assert lines[-1].strip(), title
        await pilot.press("question_mark")  # help for the last section, in the same size
        await settle(pilot)
        assert "Keys: Reports" in screen_text(app)
        assert not any("Something went wrong" in n for n in notices(app))


async def test_the_ansi_theme_draws_with_the_terminal_palette(ui_db, monkeypatch):
    """The ANSI theme leaves colours to the terminal (over SSH, in 256 colours): the report
    chart and the current section use the terminal's own palette, never a fixed RGB."""
    monkeypatch.setenv("TEXTUAL_THEME", "ansi-dark")
    app = CrmApp(ui_db, today=TODAY)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        assert app.theme == "ansi-dark"
        chart = app.screen.query_one(BarChart)
        for name in ("bar-chart--bar", "bar-chart--selected", "bar-chart--negative",
                     "bar-chart--axis"):
            color = chart.get_component_rich_style(name).color
            assert color is not None and color.is_system_defined, (name, color)
        current = app.screen.query_one(".section.-current")
        assert current.rich_style.bgcolor is not None
        assert current.rich_style.bgcolor.is_system_defined
