"""The Invoices section by keyboard, on a real database: invoice a finished job, issue it (the
number appears), take a part payment and the rest, refund, credit note, void, apply client
credit, a blank invoice with the shared line editor, and every refusal showing the reason and
changing nothing. The services underneath are tested on both backends in tests/core; these
journeys run on SQLite, except the first, which runs on both."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from textual.color import Color

from core import invoices, jobs, payments
from core.lines import LineData
from core.models import AuditEvent, CreditNote, Invoice, Payment, Refund
from tests.core.factories import make_client, make_scheduled_job, visit_ids
from tests.tui.support import TODAY, make_app, notices, paste, screen_text, settle, type_text
from tui.screens.confirm import ConfirmScreen
from tui.screens.invoice_detail import InvoiceDetailScreen
from tui.screens.invoice_dialogs import (
    CreditNoteDialog,
    JobPickerDialog,
    RecordPaymentDialog,
    RefundDialog,
    VoidDialog,
)
from tui.screens.invoice_form import ClientPickerDialog, InvoiceFormScreen
from tui.screens.invoices import PAGE_SIZE, InvoiceListScreen

ISSUED_ON = TODAY - dt.timedelta(days=40)  # due 30 days later: 10 days overdue today


def _count(db, model) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model))


def _invoice(db, invoice_id: int) -> Invoice:
    return invoices.get(db, invoice_id)


def _finished_job(db, client_id: int, title: str = "Gutter repair") -> int:
    job = make_scheduled_job(db, client_id, title=title)
    jobs.complete_visit(db, visit_ids(db, job)[0], jobs.ServiceLogData(minutes_spent=60),
                        today=TODAY)
    return job


def _issued(db, client_id: int, cents: int = 10_000, on: dt.date = ISSUED_ON) -> int:
    iid = invoices.create_blank(db, client_id, [LineData("Lawn mowing", Decimal(1), cents)])
    invoices.issue(db, iid, on)
    return iid


async def _open(pilot, invoice_id: int) -> InvoiceDetailScreen:
    pilot.app.open_invoice(invoice_id)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, InvoiceDetailScreen) and screen.view is not None
    return screen


async def _replace(pilot, text: str) -> None:
    """Type over what the focused field holds."""
    await pilot.press("end", "ctrl+u")
    await type_text(pilot, text)


async def test_invoice_a_job_issue_it_and_get_paid_in_two_payments(set_up_db):
    db = set_up_db
    cid = make_client(db, "Acme Lawn Care")
    job = _finished_job(db, cid)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceListScreen)
        assert "No invoices yet" in screen_text(app)
        await pilot.press("j")
        await settle(pilot)
        assert isinstance(app.screen, JobPickerDialog) and "Gutter repair" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InvoiceDetailScreen) and screen.view is not None
        invoice_id = screen.invoice_id
        assert _invoice(db, invoice_id).job_id == job
        shown = screen_text(app)
        assert "Draft invoice" in shown and "Total $100.00" in shown
        assert "nothing is owed until it is issued" in shown
        assert "i Issue" in shown and "p Payment" not in shown

        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        inv = _invoice(db, invoice_id)
        assert (inv.number, inv.status, inv.issue_date) == ("INV-0001", "issued", TODAY)
        shown = screen_text(app)
        assert "INV-0001  Issued" in shown and "Balance $100.00" in shown
        assert "Issued invoice INV-0001." in notices(app)

        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, RecordPaymentDialog)
        assert app.screen.query_one("#pay-amount").value == "100.00"  # what is owed
        await _replace(pilot, "40")
        await pilot.press("tab", "enter", "down", "down", "enter")  # cash -> bank transfer
        await pilot.press("tab", "tab")
        await type_text(pilot, "TR-77")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDetailScreen)
        inv = _invoice(db, invoice_id)
        assert (inv.status, inv.paid_cents, inv.balance_cents) == ("partially_paid", 4_000, 6_000)
        shown = screen_text(app)
        assert "Part paid" in shown and "Balance $60.00" in shown
        assert "bank transfer  TR-77" in shown and "r Refund" in shown

        await pilot.press("p")
        await settle(pilot)
        await pilot.press("enter")  # the rest, as offered
        await settle(pilot)
        inv = _invoice(db, invoice_id)
        assert (inv.status, inv.balance_cents) == ("paid", 0)
        with db.read() as s:
            assert payments.client_balance_cents(s, cid) == 0
            assert [(p.method, p.amount_cents) for p in s.scalars(
                select(Payment).order_by(Payment.id))] == [("bank", 4_000), ("cash", 6_000)]
        shown = screen_text(app)
        assert "INV-0001  Paid" in shown and "Balance $0.00" in shown
        assert "p Payment" not in shown

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceListScreen)
        row = [cell.plain for cell in app.screen.table.get_row_at(0)]
        assert row[0] == "INV-0001" and row[1] == "Acme Lawn Care" and row[2] == "Paid"


async def test_refusals_show_the_reason_and_change_nothing(ui_db):
    db = ui_db
    cid = make_client(db, "Acme Lawn Care")
    empty = invoices.create_blank(db, cid, [])
    paid = _issued(db, cid, 5_000)
    payments.record_payment(db, paid, 5_000, "cash", ISSUED_ON)
    part = _issued(db, cid, 8_000)
    payments.record_payment(db, part, 1_000, "cash", ISSUED_ON)
    audit_before = _count(db, AuditEvent)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open(pilot, empty)
        await pilot.press("i")  # issuing an empty invoice
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert "Lines: an invoice needs at least one line before it is issued" in notices(app)
        await pilot.press("p", "c", "v")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDetailScreen)
        assert "This invoice is still a draft; issue it before recording a payment." in notices(app)
        assert "A draft invoice is deleted, not voided." in notices(app)

        await pilot.press("escape")
        await _open(pilot, paid)
        number = _invoice(db, paid).number
        await pilot.press("p", "c", "e")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDetailScreen)
        assert f"{number} is already paid; nothing more is owed on it." in notices(app)
        assert f"{number} is already paid; record a refund instead." in notices(app)
        assert ("An issued invoice is locked; issue a credit note to change what it asks for"
                in notices(app))

        await pilot.press("escape")
        await _open(pilot, part)
        number = _invoice(db, part).number
        await pilot.press("v")  # void with money paid on it
        await settle(pilot)
        assert f"{number} has $10.00 in payments; refund the payments first, then void it." \
            in notices(app)
        await pilot.press("p")  # paying more than the balance
        await settle(pilot)
        await _replace(pilot, "100")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RecordPaymentDialog)
        message = (f"Amount: $100.00 is more than the $70.00 still owed on {number}; enter at "
                   "most $70.00, or record the excess as client credit")
        assert message in notices(app) and "$30.00 more than owed" in screen_text(app)
        assert app.focused.id == "pay-amount"
        await pilot.press("escape")  # typed in: asks before discarding
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDetailScreen)
        await pilot.press("a")  # no client credit to apply
        await settle(pilot)
        assert "This client has no credit to apply." in notices(app)
    assert _count(db, AuditEvent) == audit_before
    assert _invoice(db, empty).status == "draft" and _invoice(db, empty).number is None
    assert _invoice(db, part).balance_cents == 7_000 and _count(db, Payment) == 2


async def test_refund_then_credit_note_then_void(ui_db):
    db = ui_db
    cid = make_client(db, "Acme Lawn Care")
    iid = _issued(db, cid, 10_000)
    pay = payments.record_payment(db, iid, 10_000, "check", ISSUED_ON, "Check 1001")
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open(pilot, iid)
        await pilot.press("r")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, RefundDialog)
        assert dialog.query_one("#refund-amount").value == "100.00"
        await pilot.press("tab")
        await _replace(pilot, "100")
        await pilot.press("tab", "tab")
        await paste(pilot, "Rained off")
        await pilot.press("enter")
        await settle(pilot)
        inv = _invoice(db, iid)
        assert (inv.status, inv.paid_cents, inv.balance_cents) == ("issued", 0, 10_000)
        with db.read() as s:
            refund = s.scalars(select(Refund)).one()
        assert (refund.payment_id, refund.amount_cents, refund.reason, refund.refunded_on) == (
            pay, 10_000, "Rained off", TODAY)
        assert "Rained off" in screen_text(app) and "Balance $100.00" in screen_text(app)

        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CreditNoteDialog)
        await _replace(pilot, "25")
        await pilot.press("enter")  # no reason: refused, naming it
        await settle(pilot)
        assert isinstance(app.screen, CreditNoteDialog)
        assert "Reason: is required (it is printed on the credit note)" in screen_text(app)
        assert app.focused.id == "credit-reason" and _count(db, CreditNote) == 0
        await paste(pilot, "Goodwill")
        await pilot.press("enter")
        await settle(pilot)
        inv = _invoice(db, iid)
        assert (inv.status, inv.credited_cents, inv.balance_cents) == ("issued", 2_500, 7_500)
        assert "CN-0001" in screen_text(app) and "Goodwill" in screen_text(app)

        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, VoidDialog) and "$75.00" in screen_text(app)
        await paste(pilot, "Client moved away")
        await pilot.press("enter")
        await settle(pilot)
        inv = _invoice(db, iid)
        assert (inv.status, inv.balance_cents) == ("void", 0)
        shown = screen_text(app)
        assert "Void" in shown and "CN-0002" in shown and "(voided the invoice)" in shown
        assert "v Void" not in shown and "c Credit note" not in shown


async def test_apply_client_credit_and_delete_a_draft(ui_db):
    db = ui_db
    cid = make_client(db, "Acme Lawn Care")
    first = _issued(db, cid, 2_000)
    payments.record_payment(db, first, 5_000, "cash", ISSUED_ON, overpayment="credit")
    owing = _issued(db, cid, 10_000)
    draft = invoices.create_blank(db, cid, [LineData("Extra", Decimal(1), 1_000)])
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open(pilot, owing)
        assert "credit $30.00, a applies it" in screen_text(app)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and "$30.00" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        inv = _invoice(db, owing)
        assert (inv.status, inv.balance_cents) == ("partially_paid", 7_000)
        assert "applies it" not in screen_text(app) and "Balance $70.00" in screen_text(app)

        await pilot.press("escape")
        await _open(pilot, draft)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("n")  # keep it
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDetailScreen)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceListScreen)
        assert "Deleted the draft invoice." in notices(app)
    with db.read() as s:
        assert s.get(Invoice, draft) is None


async def test_a_blank_invoice_with_the_line_editor_then_edited(ui_db):
    db = ui_db
    cid = make_client(db, "Brook Farm")
    make_client(db, "Acme Lawn Care")
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ClientPickerDialog)
        await type_text(pilot, "brook")
        for _ in range(20):
            await settle(pilot)
            if app.screen._ids == [cid]:
                break
            await pilot.pause(0.05)
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, InvoiceFormScreen) and "New invoice for Brook Farm" in screen_text(app)
        await paste(pilot, "Hedge trimming")
        await pilot.press("tab")
        await _replace(pilot, "3")
        await pilot.press("tab")
        await type_text(pilot, "65")
        await pilot.press("ctrl+s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InvoiceDetailScreen)
        inv = _invoice(db, screen.invoice_id)
        assert (inv.client_id, inv.status, inv.total_cents) == (cid, "draft", 19_500)
        assert [(line.description, line.quantity) for line in inv.lines] == [
            ("Hedge trimming", Decimal(3))]
        assert "Hedge trimming" in screen_text(app)

        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceFormScreen)
        await pilot.press("tab")
        await _replace(pilot, "4")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDetailScreen)
        inv = _invoice(db, screen.invoice_id)
        assert inv.total_cents == 26_000 and inv.version == 2
        assert "$260.00" in screen_text(app)


async def test_a_blank_invoice_refused_for_a_bad_price_writes_nothing(ui_db):
    db = ui_db
    cid = make_client(db, "Brook Farm")
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.switch_mode("invoices")
        await settle(pilot)
        app.push_screen(InvoiceFormScreen(client_id=cid))
        await settle(pilot)
        await paste(pilot, "Hedge trimming")
        await pilot.press("tab", "tab")
        await type_text(pilot, "6x5")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceFormScreen)
        assert any("Line 1 unit price" in n for n in notices(app))
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceListScreen)
    assert _count(db, Invoice) == 0


async def test_the_list_highlights_overdue_filters_sorts_and_pages(ui_db):
    db = ui_db
    late = make_client(db, "Late Payer")
    prompt = make_client(db, "Prompt Payer")
    overdue = _issued(db, late, 30_000)
    on_time_id = _issued(db, prompt, 5_000, on=TODAY - dt.timedelta(days=5))
    for i in range(PAGE_SIZE + 10):
        invoices.create_blank(db, prompt, [LineData(f"Visit {i}", Decimal(1), 1_000 + i)])
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        screen = app.screen
        table = screen.table
        assert table.row_count == PAGE_SIZE and "more below" in screen_text(app)
        row = table.get_row_at(table.get_row_index(str(overdue)))
        assert row[0].plain == "INV-0001" and row[4].plain == "10 days"
        error = Color.parse(app.theme_variables["error"]).rich_color  # the theme's, not a fixed one
        assert row[0].style.color == error and row[4].style.color == error
        on_time = table.get_row_at(table.get_row_index(str(on_time_id)))
        assert on_time[0].plain == "INV-0002" and on_time[0].style == "bold"
        await pilot.press("ctrl+end")  # to the last loaded row: the next page comes
        await settle(pilot)
        assert table.row_count == PAGE_SIZE + 12 and "more below" not in screen_text(app)
        await pilot.press("f", "f")  # all -> open -> overdue
        await settle(pilot)
        assert "Overdue ·" in screen_text(app) and table.row_count == 1
        assert table.get_row_at(0)[1].plain == "Late Payer"
        await pilot.press("f", "f", "f", "f", "f")  # ... -> all again
        await pilot.press("s", "s")  # newest first -> due date -> balance, largest first
        await settle(pilot)
        assert "largest balance first" in screen_text(app)
        assert table.get_row_at(0)[0].plain == "INV-0001"
        app.theme = "nord"  # the highlight follows the theme
        await settle(pilot)
        light = Color.parse(app.theme_variables["error"]).rich_color
        row = table.get_row_at(table.get_row_index(str(overdue)))
        assert light != error and row[4].style.color == light
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDetailScreen) and app.screen.invoice_id == overdue
        assert "10 days overdue" in screen_text(app)


async def test_an_unsaved_invoice_is_kept_as_a_draft_and_restored_next_time(ui_db, monkeypatch):
    from config import app_paths
    from config.state import LocalState
    from tests.tui.support import wait_until
    from tui import drafts

    monkeypatch.setattr(drafts, "DRAFT_DEBOUNCE", 0.05)
    db = ui_db
    cid = make_client(db, "Brook Farm")

    def stored() -> dict:
        return LocalState(app_paths()).load_drafts()

    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.switch_mode("invoices")
        await settle(pilot)
        app.push_screen(InvoiceFormScreen(client_id=cid))
        await settle(pilot)
        await paste(pilot, "Hedge trimming")
        await pilot.press("tab", "end", "ctrl+u")
        await type_text(pilot, "3")
        await pilot.press("tab")
        await type_text(pilot, "6")  # half typed: 6 of 65.00
        await wait_until(pilot, lambda: any(
            d["values"]["lines"][0]["price"] == "6" for d in stored().values()), "the draft")
    assert _count(db, Invoice) == 0  # gone without saving, as after a crash

    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, drafts.RestoreDraftScreen),
                         "the offer")
        assert "New invoice “Brook Farm”" in screen_text(app)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, InvoiceFormScreen)
                         and "Hedge trimming" in screen_text(app), "the restored form")
        row = app.screen.query_one("LineItemsEditor").rows[0]
        assert (row.text("desc"), row.text("qty"), row.text("price")) == ("Hedge trimming", "3",
                                                                           "6")
        await pilot.press("tab", "tab", "end")
        await type_text(pilot, "5")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, InvoiceListScreen)
                         and "Brook Farm" in screen_text(app), "saved and listed")
        await wait_until(pilot, lambda: not stored(), "the draft removed")
    invoice = invoices.get(db, 1)
    assert (invoice.client_id, invoice.status, invoice.total_cents) == (cid, "draft", 19_500)


async def test_markup_in_names_lines_and_references_is_shown_literally(ui_db):
    db = ui_db
    cid = make_client(db, "[@click=app.quit]")
    iid = invoices.create_blank(db, cid, [LineData("Foo [/] [bold]x[/]", Decimal(1), 5_000)],
                                notes="[link=https://evil.test]pay[/link]")
    invoices.issue(db, iid, ISSUED_ON)
    payments.record_payment(db, iid, 1_000, "check", ISSUED_ON, "[red]1042[/red]")
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        assert "[@click=app.quit]" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        shown = screen_text(app)
        for text in ("[@click=app.quit]", "Foo [/] [bold]x[/]", "[red]1042[/red]",
                     "[link=https://evil.test]pay[/link]"):
            assert text in shown
        await pilot.press("r")
        await settle(pilot)
        assert "[red]1042[/red]" in screen_text(app) and app.is_running
