"""No lost edits in the small dialogs: escape on a dialog with something typed asks before
discarding it (and "keep editing" keeps the text), quitting over one asks, and an untouched
dialog still closes at once. A service log whose save is refused (the visit changed
elsewhere meanwhile) stays in its open dialog with the reason. Service-log drafts and their
restore are in test_drafts.py. SQLite only (no service behaviour here)."""

from __future__ import annotations

from sqlalchemy import func, select

from config import app_paths
from config.state import LocalState
from core import jobs, proposals
from core.models import ServiceLog
from tests.core.factories import (
    make_client,
    make_job,
    make_proposal,
    schedule,
    table_dump,
    visit_ids,
)
from tests.tui.support import TODAY, make_app, notices, paste, screen_text, settle, wait_until
from tests.tui.test_invoices import _issued, _open
from tui.screens.confirm import ConfirmScreen
from tui.screens.invoice_detail import InvoiceDetailScreen
from tui.screens.invoice_dialogs import RecordPaymentDialog
from tui.screens.job_detail import JobDetailScreen
from tui.screens.proposals import ProposalListScreen
from tui.screens.visit_dialogs import CompleteVisitDialog, NoteDialog, ScheduleDialog


async def _open_job(pilot, job_id: int) -> JobDetailScreen:
    await settle(pilot)
    pilot.app.open_job(job_id)
    screen = pilot.app.screen
    await wait_until(pilot, lambda: isinstance(screen, JobDetailScreen)
                     and screen.view is not None, "the job loaded")
    return screen


async def test_escape_on_a_typed_service_log_asks_and_keep_editing_keeps_it(ui_db):
    db = ui_db
    job_id = make_job(db, make_client(db, "Brooke Hall"), today=TODAY, schedule=schedule(TODAY))
    before = table_dump(db)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        page = await _open_job(pilot, job_id)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CompleteVisitDialog)
        await pilot.press("escape")  # nothing typed: closes at once
        await settle(pilot)
        assert app.screen is page

        await pilot.press("c")
        await settle(pilot)
        dialog = app.screen
        dialog.query_one("#l-notes").focus()
        await paste(pilot, "Gate latch broken, replaced spring")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Discard this service log?" in screen_text(app)
        await pilot.press("n")  # keep editing
        await settle(pilot)
        assert app.screen is dialog
        assert dialog.query_one("#l-notes").text == "Gate latch broken, replaced spring"
        assert app.focused is dialog.query_one("#l-notes")

        await pilot.press("ctrl+q")  # quitting over it asks too
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "A form has unsaved changes. Quit and lose them?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is dialog and app.is_running

        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")  # discard
        await settle(pilot)
        assert app.screen is page
        assert dialog not in app.open_forms
    assert table_dump(db) == before


async def test_the_schedule_and_reason_dialogs_ask_before_dropping_what_was_typed(ui_db):
    db = ui_db
    job_id = make_job(db, make_client(db, "Carlos Diaz"), today=TODAY)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        page = await _open_job(pilot, job_id)
        await pilot.press("v")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ScheduleDialog) and dialog in app.open_forms
        dialog.query_one("#s-time").focus()
        await pilot.press("ctrl+a", "ctrl+k")
        await paste(pilot, "07:45")
        await pilot.press("escape")
        await settle(pilot)
        assert "Discard this schedule?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is dialog and dialog.query_one("#s-time").value == "07:45"
        await pilot.press("escape", "y")
        await settle(pilot)
        assert app.screen is page

        await pilot.press("x")  # cancel the job: asks for a reason
        await settle(pilot)
        assert isinstance(app.screen, NoteDialog)
        await paste(pilot, "Client moved away")
        await pilot.press("escape")
        await settle(pilot)
        assert "Discard this note?" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is page
    assert jobs.get(db, job_id).status == "unscheduled"  # not cancelled


async def test_a_decline_reason_and_a_payment_reference_are_not_dropped_silently(ui_db):
    db = ui_db
    client = make_client(db, "Ivy Chen")
    pid = make_proposal(db, client, today=TODAY)
    proposals.send_proposal(db, pid, today=TODAY)
    invoice_id = _issued(db, client)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        screen = app.screen
        assert isinstance(screen, ProposalListScreen)
        await wait_until(pilot, lambda: screen.table.row_count == 1, "the proposal")
        await pilot.press("d")  # decline: asks for a reason
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, NoteDialog)
        await paste(pilot, "Went with a cheaper quote")
        await pilot.press("escape")
        await settle(pilot)
        assert "Discard this note?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert dialog.query_one("#note-text").text == "Went with a cheaper quote"
        await pilot.press("escape", "y")
        await settle(pilot)
        assert app.screen is screen
        assert proposals.get(db, pid).status == "sent"

        await _open(pilot, invoice_id)
        await pilot.press("p")
        await settle(pilot)
        payment = app.screen
        assert isinstance(payment, RecordPaymentDialog)
        payment.query_one("#pay-reference").focus()
        await paste(pilot, "Check 1042")
        await pilot.press("escape")
        await settle(pilot)
        assert "Discard this payment?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is payment and payment.text("pay-reference") == "Check 1042"
        await pilot.press("escape", "y")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDetailScreen)


async def test_a_refused_completion_keeps_the_dialog_open_with_the_reason_and_the_notes(ui_db):
    db = ui_db
    job_id = make_job(db, make_client(db, "Brooke Hall"), today=TODAY, schedule=schedule(TODAY))
    (visit_id,) = visit_ids(db, job_id)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        page = await _open_job(pilot, job_id)
        await pilot.press("c")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, CompleteVisitDialog)
        dialog.query_one("#l-notes").focus()
        await paste(pilot, "Gate latch broken, replaced spring")
        key = f"visit_log:{visit_id}"
        await wait_until(pilot, lambda: key in LocalState(app_paths()).load_drafts(),
                         "the draft kept")

        jobs.cancel_visit(db, visit_id)  # meanwhile, elsewhere (another user, the CLI)
        before = table_dump(db)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: any(n.startswith("This visit was changed elsewhere")
                                            for n in notices(app)), "the refusal")
        assert app.screen is dialog  # still open, with the reason and what was typed
        assert "This visit was changed elsewhere" in " ".join(screen_text(app).split())
        assert dialog.query_one("#l-notes").text == "Gate latch broken, replaced spring"
        assert key in LocalState(app_paths()).load_drafts()
        assert table_dump(db) == before  # nothing written

        await pilot.press("escape")  # giving up still asks first
        await settle(pilot)
        assert "Discard this service log?" in screen_text(app)
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is page and "Cancelled" in screen_text(app),
                         "the job page showing the visit as it is now")
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(ServiceLog)) == 0
    assert jobs.get(db, job_id).visits[0].status == "cancelled"
