"""The Tasks section and quick-add by keyboard, on a real database: ``t`` from any screen
(linked to the record the screen shows), the overdue / today / upcoming groups, done and
reopened with one key, ``enter`` going to the linked record, editing and deleting."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

from core import invoices, tasks
from core.lines import LineData
from core.models import Task
from tests.core.factories import make_client, make_scheduled_job, make_task, visit_ids
from tests.tui.support import TODAY, make_app, notices, paste, screen_text, settle, type_text
from tui.screens.client_detail import ClientDetailScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.invoice_detail import InvoiceDetailScreen
from tui.screens.schedule import ScheduleScreen
from tui.screens.task_dialogs import TaskDialog
from tui.screens.tasks import PAGE_SIZE, TaskListScreen


def _tasks(db) -> list[Task]:
    with db.read() as s:
        return list(s.scalars(select(Task).order_by(Task.id)))


def _day(days: int) -> dt.date:
    return TODAY + dt.timedelta(days=days)


async def test_t_adds_a_task_linked_to_the_client_on_screen(ui_db):
    db = ui_db
    cid = make_client(db, "Acme Lawn Care")
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the client's page
        await settle(pilot)
        assert isinstance(app.screen, ClientDetailScreen)
        await pilot.press("t")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, TaskDialog)
        assert "Link to Client Acme Lawn Care" in screen_text(app)
        assert app.focused.id == "task-title"
        await type_text(pilot, "Call about the gate")
        await pilot.press("tab")
        await type_text(pilot, "tomorrow")
        await pilot.press("shift+tab", "enter")  # enter in the title saves
        await settle(pilot)
        assert isinstance(app.screen, ClientDetailScreen)
        assert "Added the task “Call about the gate”, due 2026-03-16." in notices(app)
        [task] = _tasks(db)
        assert (task.title, task.due_date, task.linked_type, task.linked_id, task.client_id) == (
            "Call about the gate", _day(1), "client", cid, cid)

        await pilot.press("6")
        await settle(pilot)
        assert isinstance(app.screen, TaskListScreen)
        shown = screen_text(app)
        assert "Upcoming" in shown and "Call about the gate" in shown
        assert "Client Acme Lawn Care" in shown
        await pilot.press("enter")  # goes to what the task is about
        await settle(pilot)
        assert isinstance(app.screen, ClientDetailScreen) and app.screen.client_id == cid


async def test_t_on_an_invoice_links_the_invoice_and_can_be_unlinked(ui_db):
    db = ui_db
    cid = make_client(db, "Acme Lawn Care")
    iid = invoices.create_blank(db, cid, [LineData("Mowing", Decimal(1), 4_500)])
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_invoice(iid)
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDetailScreen)
        await pilot.press("t")
        await settle(pilot)
        assert f"Link to Draft invoice #{iid}" in screen_text(app)
        await paste(pilot, "Chase the signature")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await paste(pilot, "Not about this invoice")
        await pilot.press("tab", "tab", "tab", "tab", "tab", "space")  # untick the link
        await pilot.press("ctrl+s")
        await settle(pilot)
    first, second = _tasks(db)
    assert (first.linked_type, first.linked_id, first.client_id) == ("invoice", iid, cid)
    assert (second.title, second.linked_type, second.client_id) == (
        "Not about this invoice", None, None)


async def test_t_in_a_text_field_types_a_t(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "t")  # the client search box
        await settle(pilot)
        assert not isinstance(app.screen, TaskDialog)
        assert app.screen.query_one("#client-search").value == "t"


async def test_groups_complete_and_reopen_with_one_key(ui_db):
    db = ui_db
    cid = make_client(db, "Acme Lawn Care")
    make_task(db, "Send the quote", due_date=_day(-3), priority="high")
    make_task(db, "Order mulch", due_date=TODAY)
    make_task(db, "Check the gutters", due_date=_day(4), linked_type="client", linked_id=cid)
    make_task(db, "Someday: new van")
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        screen = app.screen
        lines = screen_text(app).splitlines()
        order = [next(i for i, line in enumerate(lines) if text in line) for text in (
            "Overdue", "Send the quote", "Due today", "Order mulch", "Upcoming",
            "Check the gutters", "No date", "Someday: new van")]
        assert order == sorted(order)
        assert "HIGH" in lines[order[1]] and "2026-03-12" in lines[order[1]]
        assert "today" in lines[order[3]]
        assert screen.highlighted_task().title == "Send the quote"  # not the heading
        assert "x Done" in screen_text(app)

        await pilot.press("x")
        await settle(pilot)
        assert [t.status for t in _tasks(db)] == ["done", "open", "open", "open"]
        assert "[x]  Send the quote" in screen_text(app)  # stays, marked
        assert "x Reopen" in screen_text(app)
        assert "Done: Send the quote. Press x to reopen it." in notices(app)
        await pilot.press("x")
        await settle(pilot)
        assert [t.status for t in _tasks(db)] == ["open"] * 4
        assert "[ ]  Send the quote" in screen_text(app)

        await pilot.press("down", "down", "x")  # skip the "Due today" heading: Order mulch
        await settle(pilot)
        await pilot.press("f")  # the done view
        await settle(pilot)
        assert "Order mulch" in screen_text(app) and "Send the quote" not in screen_text(app)
        await pilot.press("x")  # reopen from there
        await settle(pilot)
        assert all(t.status == "open" for t in _tasks(db))


async def test_edit_and_delete_a_task(ui_db):
    db = ui_db
    tid = make_task(db, "Order mulch", due_date=TODAY)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("enter")  # about nothing: opens it for editing
        await settle(pilot)
        assert isinstance(app.screen, TaskDialog)
        assert app.screen.query_one("#task-title").value == "Order mulch"
        await pilot.press("end")
        await type_text(pilot, " (cedar)")
        await pilot.press("tab")
        await pilot.press("end", "ctrl+u")
        await type_text(pilot, "fri")
        await pilot.press("tab", "enter", "down", "enter")  # priority: normal -> high
        await pilot.press("tab", "tab")
        await paste(pilot, "Ten bags\nfrom the yard")
        await pilot.press("ctrl+s")
        await settle(pilot)
        [task] = _tasks(db)
        assert (task.title, task.due_date, task.priority, task.notes, task.version) == (
            "Order mulch (cedar)", dt.date(2026, 3, 20), "high", "Ten bags\nfrom the yard", 2)
        assert "Order mulch (cedar)" in screen_text(app) and "Upcoming" in screen_text(app)

        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert _tasks(db) == [] and "Nothing to do." in screen_text(app)
    with db.read() as s:
        assert s.get(Task, tid) is None


async def test_a_bad_due_date_names_the_field_and_writes_nothing(ui_db):
    db = ui_db
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "Order mulch")
        await pilot.press("tab")
        await type_text(pilot, "someday")
        await pilot.press("tab")  # leaving the field checks it
        await settle(pilot)
        message = ("Due date: 'someday' is not a date (e.g. 2026-03-31, today, tomorrow, +3, "
                   "fri)")
        assert "Due date: 'someday' is not a date" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TaskDialog) and app.focused.id == "task-due"
        assert message in notices(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
    assert _tasks(db) == []


async def test_enter_on_a_task_about_a_visit_opens_the_schedule_on_its_day(ui_db):
    db = ui_db
    cid = make_client(db, "Acme Lawn Care")
    job = make_scheduled_job(db, cid, title="Spring clean")
    visit = visit_ids(db, job)[0]
    make_task(db, "Bring the ladder", due_date=TODAY, linked_type="visit", linked_id=visit)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        assert "Visit JOB-0001 10 Mar 09:00" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ScheduleScreen)
        assert screen.highlighted_key() == f"visit:{visit}"
        assert "Week of Mon 2026-03-09" in screen_text(app)


async def test_the_open_list_pages_through_the_groups(ui_db):
    db = ui_db
    for i in range(PAGE_SIZE + 5):
        tasks.create_task(db, tasks.TaskData(title=f"Overdue {i:03d}", due_date=_day(-1 - i % 5)))
    make_task(db, "Due later", due_date=_day(2))
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        screen = app.screen
        assert screen.table.row_count == PAGE_SIZE + 1  # one page and its heading
        assert "more below" in screen_text(app)
        await pilot.press("ctrl+end")
        await settle(pilot)
        await pilot.press("ctrl+end")
        await settle(pilot)
        assert screen.table.row_count == PAGE_SIZE + 5 + 1 + 2
        assert "more below" not in screen_text(app)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Task)) == PAGE_SIZE + 6


async def test_an_unsaved_task_is_kept_as_a_draft_and_restored_next_time(ui_db, monkeypatch):
    from config import app_paths
    from config.state import LocalState
    from tests.tui.support import wait_until
    from tui import drafts

    monkeypatch.setattr(drafts, "DRAFT_DEBOUNCE", 0.05)
    db = ui_db
    cid = make_client(db, "Acme Lawn Care")

    def stored() -> dict:
        return LocalState(app_paths()).load_drafts()

    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_client(cid)
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await type_text(pilot, "Call about the gate")
        await pilot.press("tab")
        await type_text(pilot, "fri")
        await wait_until(pilot, lambda: any(d["values"].get("due") == "fri"
                                            for d in stored().values()), "the draft")
    assert _tasks(db) == []

    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, drafts.RestoreDraftScreen),
                         "the offer")
        assert "New task “Call about the gate”" in screen_text(app)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, TaskDialog)
                         and app.screen.query_one("#task-title").value != "", "restored")
        assert app.screen.query_one("#task-due").value == "fri"
        assert "Link to Client Acme Lawn Care" in screen_text(app)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, TaskDialog), "saved")
        await wait_until(pilot, lambda: not stored(), "the draft removed")
    [task] = _tasks(db)
    assert (task.title, task.due_date, task.linked_id) == ("Call about the gate",
                                                           dt.date(2026, 3, 20), cid)


async def test_without_an_opener_for_the_linked_section_a_notice_names_the_record(
        ui_db, monkeypatch):
    from tests.core.factories import make_proposal
    from tui.app import CrmApp

    monkeypatch.delattr(CrmApp, "open_proposal", raising=False)
    db = ui_db
    cid = make_client(db, "Acme Lawn Care")
    pid = make_proposal(db, cid, title="Hedges")
    make_task(db, "Send the revised quote", due_date=TODAY, linked_type="proposal",
              linked_id=pid)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TaskListScreen)
        assert ("Proposal draft Hedges: the proposal screens cannot open it from here yet."
                in notices(app))


async def test_markup_in_titles_and_names_is_shown_literally(ui_db):
    db = ui_db
    cid = make_client(db, "[@click=app.quit]")
    make_task(db, "Foo [/] [bold]bar[/bold]", due_date=TODAY, linked_type="client",
              linked_id=cid)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        shown = screen_text(app)
        assert "Foo [/] [bold]bar[/bold]" in shown and "Client [@click=app.quit]" in shown
        await pilot.press("e")
        await settle(pilot)
        assert app.screen.query_one("#task-title").value == "Foo [/] [bold]bar[/bold]"
        assert "Link to Client [@click=app.quit]" in screen_text(app)
        assert app.is_running
