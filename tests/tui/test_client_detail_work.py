"""The client page shows the client's open tasks and latest service logs too, and lists its
proposals, jobs and invoices so that each opens from there."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core import clients, invoices, jobs, proposals, tasks
from core.clients import AddressData, ClientData
from core.lines import LineData
from tests.core.factories import make_client, make_job, make_proposal
from tests.tui.support import TODAY, make_app, notices, screen_text, settle
from tui.screens.client_detail import ClientDetailScreen
from tui.screens.invoice_detail import InvoiceDetailScreen
from tui.screens.job_detail import JobDetailScreen
from tui.screens.proposal_editor import ProposalEditorScreen


async def test_open_tasks_and_service_logs_on_the_client_page(ui_db):
    cid = clients.create_client(ui_db, ClientData(name="Iris Vale"), [],
                                [AddressData(line1="3 Elm Dr", city="Boulder")])
    tasks.create_task(ui_db, tasks.TaskData(title="Call about [gate] code", due_date=TODAY - dt.timedelta(days=2),
                                            linked_type="client", linked_id=cid))
    done = tasks.create_task(ui_db, tasks.TaskData(title="Already done", linked_type="client",
                                                   linked_id=cid))
    tasks.complete_task(ui_db, done)
    job = jobs.create_job(ui_db, jobs.JobData(client_id=cid, title="Spring clean-up",
                                              lines=[LineData("Labour", Decimal(2), 5500)]))
    (visit,) = jobs.schedule_visits(ui_db, job, jobs.ScheduleData(
        start_date=TODAY - dt.timedelta(days=1), start_time=dt.time(9, 0), duration_minutes=90))
    jobs.complete_visit(ui_db, visit, jobs.ServiceLogData(minutes_spent=95, notes="Raked all beds"),
                        today=TODAY)
    app = make_app(ui_db)
    async with app.run_test(size=(100, 50)) as pilot:
        await settle(pilot)
        app.open_client(cid)
        await settle(pilot)
        text = screen_text(app)
    assert "Open tasks (1)" in text and "Call about [gate] code" in text and "overdue" in text
    tasks_part = text.split("Open tasks (1)", 1)[1].split("Service logs", 1)[0]
    assert "Already done" not in tasks_part  # done tasks are not open work
    assert "Service logs (1, newest)" in text and "Raked all beds" in text and "1h35" in text


async def test_the_client_page_lists_every_kind_of_work_and_opens_it(ui_db):
    """Proposals of any status (latest ten, with how many more), jobs and invoices, each
    opened with enter from the client page; a number says what is not shown."""
    cid = make_client(ui_db, "Harbor View Motel")
    ids = [make_proposal(ui_db, cid, title=f"Quote {n:02d}", today=TODAY) for n in range(12)]
    for pid in ids[-2:]:  # the newest two: sent, then approved (no longer "open")
        proposals.send_proposal(ui_db, pid, today=TODAY)
        proposals.approve_proposal(ui_db, pid, today=TODAY)
    job = make_job(ui_db, cid, title="Pool fence repair")
    invoice = invoices.create_blank(ui_db, cid, [LineData("Fence", Decimal(1), 25_000)])
    app = make_app(ui_db)
    async with app.run_test(size=(100, 50)) as pilot:
        await settle(pilot)
        app.open_client(cid)
        await settle(pilot)
        page = app.screen
        assert isinstance(page, ClientDetailScreen)
        text = screen_text(app)
        assert "Proposals (12, latest 10; 2 more not shown) · 10 open" in text
        assert "Quote 11" in text and "Approved" in text  # approved ones are listed too
        assert "Quote 01" not in text and "Quote 00" not in text  # beyond the ten latest
        assert "Jobs (1)" in text and "Pool fence repair" in text
        assert "Invoices (1)" in text and "draft" in text

        await pilot.press("enter")  # into the first list: the proposals, newest first
        await settle(pilot)
        assert app.focused is page.query_one("#client-proposals-list")
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ProposalEditorScreen) and app.screen.proposal_id == ids[-2]

        await pilot.press("1")  # the clients section still has the client's page on top
        await settle(pilot)
        assert app.screen is page
        await pilot.press("tab", "enter")  # the jobs
        await settle(pilot)
        assert isinstance(app.screen, JobDetailScreen) and app.screen.job_id == job

        await pilot.press("1")
        await settle(pilot)
        await pilot.press("tab", "enter")  # the invoices
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDetailScreen) and app.screen.invoice_id == invoice


async def test_a_client_without_work_says_so_and_enter_tells_why_nothing_opens(ui_db):
    cid = make_client(ui_db, "Quiet Client")
    app = make_app(ui_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_client(cid)
        await settle(pilot)
        text = screen_text(app)
        assert "Proposals (0): none" in text and "Jobs (0): none" in text
        await pilot.press("enter")
        await settle(pilot)
        assert "No proposal, job or invoice to open yet." in notices(app)
