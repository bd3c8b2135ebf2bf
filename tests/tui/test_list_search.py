"""``/`` on the Proposals, Jobs, Invoices and Tasks lists: a box that narrows the list as
you type (by number, title or the client's name), escape puts the list back, enter opens the
hit; and ``e`` on the job list opens the highlighted job's form. Search goes through the
index, so these run on both backends."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core import invoices
from core.lines import LineData
from core.models import Proposal, Task
from tests.core.factories import (
    make_client,
    make_job,
    make_proposal,
    make_sent_proposal,
    make_task,
)
from tests.tui.support import TODAY, make_app, notices, screen_text, settle, type_text, wait_until
from tui.screens.client_detail import ClientDetailScreen
from tui.screens.invoice_detail import InvoiceDetailScreen
from tui.screens.invoices import InvoiceListScreen
from tui.screens.job_detail import JobDetailScreen
from tui.screens.job_form import JobFormScreen
from tui.screens.jobs import JobListScreen
from tui.screens.proposal_editor import ProposalEditorScreen
from tui.screens.proposals import ProposalListScreen
from tui.screens.tasks import TaskListScreen


async def _section(pilot, key: str, kind: type):
    await settle(pilot)
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, kind)
                     and pilot.app.screen.table.row_count > 0, f"the {kind.__name__}")
    return pilot.app.screen


async def _search(pilot, screen, text: str) -> None:
    await pilot.press("slash")
    assert screen.box.display and screen.box.has_focus
    await type_text(pilot, text)
    await wait_until(pilot, lambda: screen.showing_results
                     and screen._found_generation == screen._search_generation,
                     f"the hits for {text!r}")


def _task_status(db, task_id: int) -> str:
    with db.read() as s:
        return s.get(Task, task_id).status


def _hits(screen) -> list[int]:
    return [row.id for row in screen.found]


def _status(screen) -> str:
    return str(screen.query_one(".list-status" if screen.query(".list-status") else
                                "#invoice-list-status" if isinstance(screen, InvoiceListScreen)
                                else "#task-list-status").render())


async def test_proposal_search_by_client_title_and_number_escape_and_enter(set_up_db):
    db = set_up_db
    harbor = make_client(db, "Harbor View Motel")
    lake = make_client(db, "Lakeside Montessori")
    window = make_sent_proposal(db, harbor, title="Window wash", today=TODAY)
    moss = make_proposal(db, lake, title="Roof moss removal", today=TODAY)  # a draft: no number
    gutter = make_sent_proposal(db, lake, title="Gutter cleaning", today=TODAY)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _section(pilot, "2", ProposalListScreen)
        assert screen.table.row_count == 3 and not screen.box.display

        await _search(pilot, screen, "harbor")  # the client's name
        assert _hits(screen) == [window]
        text = screen_text(app)
        assert "1 found for “harbor”" in text and "Window wash" in text
        assert "Gutter cleaning" not in text and "Roof moss" not in text

        await pilot.press("escape")  # clears, hides the box, the whole list is back
        await settle(pilot)
        assert not screen.box.display and screen.box.value == ""
        assert screen.table.display and screen.table.has_focus
        text = screen_text(app)
        assert all(t in text for t in ("Window wash", "Gutter cleaning", "Roof moss removal"))

        await _search(pilot, screen, "moss")  # a draft's title
        assert _hits(screen) == [moss]
        await pilot.press("escape")
        await settle(pilot)

        number = next(r.number for r in screen._rows if r.id == gutter)
        await _search(pilot, screen, number)
        assert _hits(screen) == [gutter]
        await pilot.press("enter")  # from the box: opens the hit
        await wait_until(pilot, lambda: isinstance(app.screen, ProposalEditorScreen),
                         "the proposal")
        assert app.screen.proposal_id == gutter
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, "back to the list")
        assert screen.box.value == number and _hits(screen) == [gutter]  # still searching


async def test_lifecycle_keys_act_on_the_highlighted_hit(set_up_db):
    db = set_up_db
    client = make_client(db, "Corner Books")
    make_sent_proposal(db, make_client(db, "Elsewhere"), title="Other work", today=TODAY)
    target = make_sent_proposal(db, client, title="Shelf repair", today=TODAY)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _section(pilot, "2", ProposalListScreen)
        await _search(pilot, screen, "corner")
        await pilot.press("down")  # into the hits
        assert screen.results.has_focus and screen.highlighted_id() == target
        await pilot.press("a")  # approve
        await wait_until(pilot, lambda: any("Approved" in str(c) for c in
                                            screen.results.get_row_at(0)), "approved")
        with db.read() as s:
            assert s.get(Proposal, target).status == "approved"


async def test_job_search_enter_and_edit_from_the_list(set_up_db):
    db = set_up_db
    harbor = make_client(db, "Harbor View Motel")
    lake = make_client(db, "Lakeside Montessori")
    gutters = make_job(db, harbor, title="Gutter repair")
    hedges = make_job(db, lake, title="Hedge trimming")
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _section(pilot, "3", JobListScreen)
        assert "/ Search" in screen_text(app) and "e Edit" in screen_text(app)

        await pilot.press("e")  # the highlighted job (newest first: the hedges)
        await wait_until(pilot, lambda: isinstance(app.screen, JobFormScreen), "the job form")
        assert app.screen.job_id == hedges
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, "back to the list")

        await _search(pilot, screen, "gutter")  # the title
        assert _hits(screen) == [gutters]
        assert "Hedge trimming" not in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        await _search(pilot, screen, "lakeside")  # the client's name
        assert _hits(screen) == [hedges]
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, JobDetailScreen), "the job page")
        assert app.screen.job_id == hedges


async def test_invoice_search_by_number_and_client_then_enter_opens(set_up_db):
    db = set_up_db
    harbor = make_client(db, "Harbor View Motel")
    lake = make_client(db, "Lakeside Montessori")
    first = invoices.create_blank(db, harbor, [LineData("Mowing", Decimal(1), 5_000)])
    invoices.issue(db, first, TODAY - dt.timedelta(days=40))
    second = invoices.create_blank(db, lake, [LineData("Raking", Decimal(1), 7_000)])
    invoices.issue(db, second, TODAY)
    draft = invoices.create_blank(db, lake, [LineData("Planting", Decimal(1), 9_000)])
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _section(pilot, "5", InvoiceListScreen)
        await _search(pilot, screen, "lakeside montessori")  # finds the draft too
        assert _hits(screen) == [draft, second]
        text = screen_text(app)
        assert "2 found for “lakeside montessori”" in text and "Harbor View" not in text

        await pilot.press("escape")
        await settle(pilot)
        number = invoices.get(db, first).number
        await _search(pilot, screen, number)
        assert _hits(screen) == [first]
        assert "days" in screen_text(app)  # drawn as the list draws it: overdue, in days
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, InvoiceDetailScreen),
                         "the invoice")
        assert app.screen.invoice_id == first


async def test_task_search_complete_a_hit_and_open_what_it_is_about(set_up_db):
    db = set_up_db
    iris = make_client(db, "Iris Vale")
    gate = make_task(db, "Ask about the [gate] code", due_date=TODAY,
                     linked_type="client", linked_id=iris)
    make_task(db, "Order mulch", due_date=TODAY + dt.timedelta(days=2))
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _section(pilot, "6", TaskListScreen)
        await _search(pilot, screen, "GATE")  # any case
        assert _hits(screen) == [gate]
        assert "Order mulch" not in screen_text(app)

        await pilot.press("down", "x")  # done, on the hit
        await wait_until(pilot, lambda: _task_status(db, gate) == "done", "done")
        await wait_until(pilot, lambda: "[x]" in screen_text(app), "the hit marked")
        assert any("Done: Ask about the [gate] code" in n for n in notices(app))

        await pilot.press("escape")
        await settle(pilot)
        assert "Order mulch" in screen_text(app) and "[gate]" not in screen_text(app)

        await _search(pilot, screen, "iris")  # the client's name
        assert _hits(screen) == []  # done, and the view is open tasks
        await pilot.press("escape", "f")  # the done ones
        await settle(pilot)
        await _search(pilot, screen, "iris")
        assert _hits(screen) == [gate]
        await pilot.press("enter")  # opens what the task is about: the client
        await wait_until(pilot, lambda: isinstance(app.screen, ClientDetailScreen), "the client")
        assert app.screen.client_id == iris


async def test_a_late_answer_to_an_old_keystroke_is_dropped(set_up_db):
    db = set_up_db
    make_sent_proposal(db, make_client(db, "Harbor View Motel"), title="Window wash",
                       today=TODAY)
    make_sent_proposal(db, make_client(db, "Lakeside Montessori"), title="Gutters", today=TODAY)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _section(pilot, "2", ProposalListScreen)
        await _search(pilot, screen, "lake")
        old = screen._search_generation
        await type_text(pilot, "side")
        await wait_until(pilot, lambda: screen._found_generation == screen._search_generation,
                         "the newer hits")
        newest = list(screen.found)
        screen._show_found(old, [])  # the older search answering last
        assert screen.found == newest and screen.results.row_count == 1
