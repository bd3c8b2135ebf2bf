"""The Jobs section by keyboard: schedule visits with a previewed rule, start and complete
them with their service logs, hold/resume, cancel, invoice from the job, and the "to
invoice" filter. Refusals show the service's reason and write nothing. SQLite only (the
services underneath run on both backends in tests/core)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core import invoices, jobs, proposals
from core.models import Invoice, ServiceLog
from core.recurrence import Rule
from tests.core.factories import (
    line,
    make_client,
    make_job,
    make_proposal,
    make_user,
    schedule,
    table_dump,
    visit_ids,
)
from tests.tui.support import TODAY, make_app, notices, paste, screen_text, settle, wait_until
from tui.screens.confirm import ConfirmScreen
from tui.screens.job_detail import JobDetailScreen
from tui.screens.jobs import JobListScreen
from tui.screens.visit_dialogs import (
    CompleteVisitDialog,
    NoteDialog,
    ScheduleDialog,
    parse_minutes,
)


def _job(db, job_id):
    return jobs.get(db, job_id)


async def _open_job(pilot, job_id: int) -> JobDetailScreen:
    await settle(pilot)
    pilot.app.open_job(job_id)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, JobDetailScreen)
    await wait_until(pilot, lambda: screen.view is not None, "the job loaded")
    return screen


async def _set(pilot, widget_id: str, value: str) -> None:
    """Replace a dialog field's text, as a person would (focus, clear, type)."""
    pilot.app.screen.query_one(widget_id).focus()
    await pilot.press("ctrl+a", "ctrl+k")
    if value:
        await paste(pilot, value)


async def test_schedule_a_repeating_rule_with_a_live_preview(ui_db):
    db = ui_db
    tess = make_user(db, "Tess Tech")
    job_id = make_job(db, make_client(db, "Acme Dental"), title="Weekly office clean")
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_job(pilot, job_id)
        assert "Visits: none yet" in screen_text(app)
        await pilot.press("v")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ScheduleDialog)
        assert "1 visit:" in screen_text(app) and "Sun 2026-03-15 09:00" in screen_text(app)
        await _set(pilot, "#s-time", "08:30")
        await _set(pilot, "#s-duration", "1:30")
        dialog.query_one("#s-repeat").focus()
        await pilot.press("enter", "down", "enter")  # once -> every week
        await settle(pilot)
        assert "Preview: Ends: choose either an end date or a number of" in screen_text(app)
        await _set(pilot, "#s-count", "6")
        await settle(pilot)
        shown = screen_text(app)
        assert "6 visits:" in shown
        for day in ("Sun 2026-03-15 08:30", "Sun 2026-03-22 08:30", "Sun 2026-04-19 08:30"):
            assert day in shown
        await _set(pilot, "#s-until", "2026-04-05")  # an end date instead: the count clears
        await settle(pilot)
        assert dialog.query_one("#s-count").value == "" and "4 visits:" in screen_text(app)
        dialog.query_one("#s-assignee").focus()
        await pilot.press("enter", "down", "enter")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: len(visit_ids(db, job_id)) == 4, "four visits")
        await settle(pilot)
        job = _job(db, job_id)
        assert job.status == "scheduled" and job.recurrence == "weekly"
        assert [v.starts_at for v in job.visits] == [
            dt.datetime(2026, 3, 15, 8, 30) + dt.timedelta(weeks=n) for n in range(4)]
        assert {(v.ends_at - v.starts_at, v.assignee_id) for v in job.visits} == {
            (dt.timedelta(minutes=90), tess)}
        shown = screen_text(app)
        assert "Visits (4, 4 open)" in shown and "Tess Tech" in shown
        assert app.focused.id == "visits"  # the visit keys work at once
        assert "Scheduled 4 visits for job JOB-0001." in notices(app)


async def test_a_bad_schedule_names_the_field_and_writes_nothing(ui_db):
    db = ui_db
    job_id = make_job(db, make_client(db, "Acme"))
    before = table_dump(db)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_job(pilot, job_id)
        await pilot.press("v")
        await settle(pilot)
        await _set(pilot, "#s-time", "25:99")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ScheduleDialog)
        assert "Start time: '25:99' is not a time like 08:30" in screen_text(app)
        assert app.focused.id == "s-time"
        await pilot.press("escape")  # something was typed: asked first
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, JobDetailScreen)
    assert table_dump(db) == before


async def test_start_and_complete_visits_writing_their_service_logs(ui_db):
    db = ui_db
    tess = make_user(db, "Tess Tech")
    job_id = make_job(db, make_client(db, "Brooke Hall"), today=TODAY,
                      schedule=schedule(TODAY, "09:00", minutes=120, assignee_id=tess,
                                        rule=Rule("weekly", count=2)))
    first, second = visit_ids(db, job_id)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open_job(pilot, job_id)
        assert screen.highlighted_visit().id == first
        await pilot.press("b")
        await wait_until(pilot, lambda: _job(db, job_id).visits[0].status == "in_progress",
                         "started")
        await settle(pilot)
        assert "In progress" in screen_text(app)
        await pilot.press("c")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, CompleteVisitDialog)
        assert dialog.query_one("#l-minutes").value == "120"  # the scheduled length
        await _set(pilot, "#l-minutes", "1h45")
        dialog.query_one("#l-notes").focus()
        await paste(pilot, "Trimmed hedges [b]front[/b]\nGate sticks")
        dialog.query_one("#l-materials").focus()
        await paste(pilot, "2 bags mulch")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: _job(db, job_id).visits[0].status == "completed",
                         "completed")
        await settle(pilot)
        assert "Service logs (1)" in screen_text(app)
        assert "Trimmed hedges [b]front[/b] Gate sticks" in screen_text(app)
        assert screen.highlighted_visit().id == first  # the cursor stays put
        await pilot.press("down", "c")  # the second visit, straight from scheduled
        await settle(pilot)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: _job(db, job_id).status == "completed", "job completed")
        await settle(pilot)
        assert "Completed" in screen_text(app)
    with db.read() as s:
        logs = s.scalars(select(ServiceLog).order_by(ServiceLog.id)).all()
        assert [(lg.visit_id, lg.minutes_spent, lg.technician_id, lg.notes, lg.materials,
                 lg.logged_on) for lg in logs] == [
            (first, 105, tess, "Trimmed hedges [b]front[/b]\nGate sticks", "2 bags mulch", TODAY),
            (second, 120, tess, "", "", TODAY),
        ]


async def test_hold_resume_and_the_refusals_while_on_hold(ui_db):
    db = ui_db
    job_id = make_job(db, make_client(db, "Carlos Diaz"), today=TODAY,
                      schedule=schedule(TODAY))
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_job(pilot, job_id)
        assert "h Hold" in screen_text(app)
        await pilot.press("h")
        await wait_until(pilot, lambda: _job(db, job_id).status == "on_hold", "on hold")
        await settle(pilot)
        assert "h Resume" in screen_text(app) and "On hold" in screen_text(app)
        before = table_dump(db)
        await pilot.press("b")  # starting a visit of a job on hold
        reason = "Job JOB-0001 is on hold, so its visits cannot be started. Resume it first."
        await wait_until(pilot, lambda: reason in notices(app), "the reason")
        assert table_dump(db) == before
        await pilot.press("h")
        await wait_until(pilot, lambda: _job(db, job_id).status == "scheduled", "resumed")


async def test_cancel_asks_for_a_reason_and_an_invoiced_job_refuses(ui_db):
    db = ui_db
    client = make_client(db, "Ivy Chen")
    doomed = make_job(db, client, title="Doomed", today=TODAY, schedule=schedule(TODAY))
    billed = make_job(db, client, title="Billed", today=TODAY)
    jobs.complete_job(db, billed)
    invoice_id = invoices.create_from_job(db, billed)
    invoices.issue(db, invoice_id, TODAY)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_job(pilot, doomed)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, NoteDialog)
        await paste(pilot, "Client moved away")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: _job(db, doomed).status == "cancelled", "cancelled")
        assert [v.status for v in _job(db, doomed).visits] == ["cancelled"]

        await pilot.press("escape")
        await _open_job(pilot, billed)
        before = table_dump(db)
        await pilot.press("x", "ctrl+s")
        await wait_until(pilot, lambda: any("has been invoiced, so it cannot be cancelled" in n
                                            for n in notices(app)), "the refusal")
        assert table_dump(db) == before


async def test_invoice_from_a_job_and_in_advance_after_asking(ui_db):
    db = ui_db
    client = make_client(db, "Grace O'Neil")
    done = make_job(db, client, title="Done", lines=[line("Mow", 2, 4500)], today=TODAY)
    jobs.complete_job(db, done)
    early = make_job(db, client, title="Early", lines=[line("Prune", 1, 8000)], today=TODAY)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_job(pilot, done)
        await pilot.press("i")
        await wait_until(pilot, lambda: _job(db, done).status == "invoiced", "invoiced")
        with db.read() as s:
            invoice = s.scalars(select(Invoice).where(Invoice.job_id == done)).one()
        assert (invoice.status, invoice.number, invoice.total_cents) == ("draft", None, 9000)
        if hasattr(app, "open_invoice"):  # the invoices section opens the new draft
            assert "Created a draft invoice for $90.00 from job JOB-0001." in notices(app)
            await wait_until(pilot, lambda: app.current_mode == "invoices", "the invoice shown")
        else:
            assert (f"Created draft invoice #{invoice.id} for $90.00 from job JOB-0001. "
                    "Find it in Invoices (5).") in notices(app)

        app.open_job(early)
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Job JOB-0002 is not completed yet. Invoice it in advance?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        with db.read() as s:
            assert s.scalars(select(Invoice).where(Invoice.job_id == early)).all() == []
        await pilot.press("i", "y")
        await wait_until(pilot, lambda: len(_invoices_of(db, early)) == 1, "the invoice")

        app.open_job(early)
        await wait_until(pilot, lambda: isinstance(app.screen, JobDetailScreen)
                         and app.screen.view is not None, "the job again")
        await pilot.press("i")  # again: nothing left to invoice, the reason is shown
        await settle(pilot)
        await pilot.press("y")
        await wait_until(pilot, lambda: "Everything on job JOB-0002 has already been invoiced."
                         in notices(app), "the refusal")
        assert len(_invoices_of(db, early)) == 1


def _invoices_of(db, job_id):
    with db.read() as s:
        return s.scalars(select(Invoice).where(Invoice.job_id == job_id)).all()


async def test_the_list_by_status_and_the_to_invoice_filter(ui_db):
    db = ui_db
    client = make_client(db, "Harbor View HOA")
    make_job(db, client, title="Not started", today=TODAY)
    done = make_job(db, client, title="Finished work", lines=[line("Paint", 1, 30000)],
                    today=TODAY)
    jobs.complete_job(db, done)
    pid = make_proposal(db, client, today=TODAY, title="From a quote")
    proposals.send_proposal(db, pid, today=TODAY)
    proposals.approve_proposal(db, pid, today=TODAY)
    proposals.convert_to_job(db, pid, today=TODAY)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, JobListScreen)
        await wait_until(pilot, lambda: screen.table.row_count == 3, "all jobs")
        assert [str(c) for c in screen.table.get_column("number")] == [
            "JOB-0003", "JOB-0002", "JOB-0001"]
        await pilot.press("f")  # to invoice
        await wait_until(pilot, lambda: screen.table.row_count == 1, "the job to invoice")
        assert "Finished work" in screen_text(app) and "$300.00" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, JobDetailScreen) and app.screen.job_id == done
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f")  # unscheduled
        await wait_until(pilot, lambda: screen.table.row_count == 2, "unscheduled jobs")
        titles = {str(c) for c in screen.table.get_column("title")}
        assert titles == {"Not started", "From a quote"}


def test_minutes_are_typed_as_people_say_them():
    assert [parse_minutes(t, "time") for t in ("90", "1:30", "1h30", "2h", "45m", " 0 ")] == [
        90, 90, 90, 120, 45, 0]
    for bad in ("", "abc", "1:xx", "-5"):
        try:
            parse_minutes(bad, "time spent")
        except Exception as exc:
            assert getattr(exc, "field", "") == "time spent"
        else:
            raise AssertionError(f"{bad!r} was accepted")


async def test_bad_time_spent_is_refused_in_the_dialog_and_nothing_is_written(ui_db):
    db = ui_db
    job_id = make_job(db, make_client(db, "Zed"), today=TODAY, schedule=schedule(TODAY))
    before = table_dump(db)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_job(pilot, job_id)
        await pilot.press("c")
        await settle(pilot)
        await _set(pilot, "#l-minutes", "lots")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Time spent: 'lots' is not a number of minutes" in screen_text(app)
        assert isinstance(app.screen, CompleteVisitDialog)
    assert table_dump(db) == before


async def test_cancel_one_visit_keeps_the_job_and_its_other_visits(ui_db):
    db = ui_db
    job_id = make_job(db, make_client(db, "Dana Ortiz"), today=TODAY,
                      schedule=schedule(TODAY, "09:00", rule=Rule("weekly", count=3)))
    first, second, third = visit_ids(db, job_id)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open_job(pilot, job_id)
        await pilot.press("down")  # the second visit
        assert screen.highlighted_visit().id == second
        await pilot.press("X")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")  # asked, then kept
        await settle(pilot)
        assert [v.status for v in _job(db, job_id).visits] == ["scheduled"] * 3
        await pilot.press("X")
        await settle(pilot)
        await pilot.press("y")
        await wait_until(pilot, lambda: _job(db, job_id).visits[1].status == "cancelled",
                         "the visit cancelled")
        assert [v.status for v in _job(db, job_id).visits] == [
            "scheduled", "cancelled", "scheduled"]
        assert _job(db, job_id).status == "scheduled"
        await settle(pilot)
        assert "Visit cancelled." in notices(app)
        assert "Visits (3, 2 open)" in screen_text(app)
        # a cancelled visit has nothing left to cancel: the key is not offered for it
        assert screen.highlighted_visit().id == second
        assert screen.check_action("cancel_visit", ()) is False


async def test_edit_the_job_from_its_page(ui_db):
    db = ui_db
    job_id = make_job(db, make_client(db, "Eli Brandt"), title="Gutter repair", today=TODAY)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open_job(pilot, job_id)
        await pilot.press("e")
        await settle(pilot)
        from tui.screens.job_form import JobFormScreen

        form = app.screen
        assert isinstance(form, JobFormScreen)
        await wait_until(pilot, lambda: form._initial is not None, "the form loaded")
        await _set(pilot, "#j-title", "Gutter repair and downspouts")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen, "back on the job page")
        assert _job(db, job_id).title == "Gutter repair and downspouts"
        await wait_until(pilot, lambda: "Gutter repair and downspouts" in screen_text(app),
                         "the new title shown")


async def test_a_new_job_from_the_client_page_is_for_that_client(ui_db):
    db = ui_db
    cid = make_client(db, "Fay Okafor")
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_client(cid)
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        from tui.screens.job_form import JobFormScreen

        form = app.screen
        assert isinstance(form, JobFormScreen)
        await wait_until(pilot, lambda: form._initial is not None, "the form loaded")
        assert "Fay Okafor" in screen_text(app)
        await _set(pilot, "#j-title", "Spring cleanup")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, JobDetailScreen), "the job page")
    with db.read() as s:
        from core.models import Job

        [job] = s.scalars(select(Job)).all()
        assert (job.client_id, job.title) == (cid, "Spring cleanup")
