"""A job made directly, by keyboard: ``n`` on the jobs list (or "New job" in the palette),
the client found as you type, lines, an optional first schedule with its preview, ``ctrl+s``
and the job's page; refusals name the field and write nothing; user text stays literal;
an edit saves with the version it was opened with. Plus one snapshot of the form.
SQLite only (the services underneath run on both backends in tests/core)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import func, select

from config import app_paths
from config.state import LocalState
from core import business, jobs
from core.jobs import JobData
from core.models import Job
from core.text import clean_line, clean_text
from tests.core.factories import (
    address_ids,
    line,
    make_client,
    make_job,
    make_tax_rate,
    table_dump,
    visit_ids,
)
from tests.tui.support import (
    make_app,
    notices,
    paste,
    screen_text,
    settle,
    type_text,
    wait_until,
)
from tui.drafts import RestoreDraftScreen
from tui.screens.job_detail import JobDetailScreen
from tui.screens.job_form import JobFormScreen
from tui.screens.jobs import JobListScreen
from tui.widgets.line_items import LineItemsEditor


def _focused(app) -> str | None:
    focused = app.focused
    return (focused.id or " ".join(sorted(focused.classes))) if focused else None


async def _to_jobs(pilot) -> JobListScreen:
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, JobListScreen)
    return screen


async def _open_form(pilot, **kw) -> JobFormScreen:
    """The form as the client page or job page would open it (they own their keys)."""
    await _to_jobs(pilot)
    pilot.app.push_screen(JobFormScreen(**kw))
    form = pilot.app.screen
    assert isinstance(form, JobFormScreen)
    await wait_until(pilot, lambda: form._initial is not None, "the form loaded")
    return form


async def _set(pilot, widget_id: str, value: str) -> None:
    """Replace a field's text, as a person would (focus, clear, type)."""
    pilot.app.screen.query_one(widget_id).focus()
    await pilot.press("ctrl+a", "ctrl+k")
    if value:
        await paste(pilot, value)


async def _weekly(pilot, start: str, count: str) -> None:
    """A weekly schedule of ``count`` visits from ``start``, chosen by keyboard."""
    await _set(pilot, "#s-date", start)
    pilot.app.screen.query_one("#s-repeat").focus()
    await pilot.press("enter", "down", "enter")  # once -> every week
    await _set(pilot, "#s-count", count)
    await settle(pilot)


async def _job_page(pilot) -> JobDetailScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, JobDetailScreen), "the job page")
    screen = pilot.app.screen
    assert isinstance(screen, JobDetailScreen)
    await wait_until(pilot, lambda: screen.view is not None, "the job loaded")
    return screen


async def test_new_job_by_keyboard_from_the_jobs_list_opens_its_page(ui_db):
    db = ui_db
    state = make_tax_rate(db, "State tax", "6.25")
    business.update(db, "defaults", {"tax_rate_id": state})
    client = make_client(db, "Acme Dental", addresses=2)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _to_jobs(pilot)
        assert "Press n for a new job" in screen_text(app)
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, JobFormScreen)
        await wait_until(pilot, lambda: _focused(app) == "j-client", "the form ready")
        assert "New job" in screen_text(app) and "No visits yet." in screen_text(app)
        await type_text(pilot, "acm")  # found as you type
        await wait_until(pilot, lambda: form.query_one("#j-client-matches").display,
                         "client matches")
        await pilot.press("down", "enter")
        await settle(pilot)
        assert form.client_id == client and _focused(app) == "j-address"
        assert "1 Main St" in screen_text(app)  # the first service address is preselected
        await pilot.press("tab")
        assert _focused(app) == "j-title"
        await paste(pilot, "Spring clean-up")
        await pilot.press("tab")
        await paste(pilot, "Side gate code 1234")
        await pilot.press("tab", "tab")  # billing stays "per job"
        assert "li-desc" in _focused(app)
        await paste(pilot, "Gutter cleaning")
        await pilot.press("tab")
        await type_text(pilot, "2")
        await pilot.press("tab")
        await type_text(pilot, "90")
        await settle(pilot)
        assert "Total $191.25" in screen_text(app)  # 2 × $90 + 6.25% tax
        await pilot.press("ctrl+s")
        page = await _job_page(pilot)
        assert app.current_mode == "jobs"
        shown = screen_text(app)
        assert "Job JOB-0001  Spring clean-up" in shown and "Acme Dental" in shown
        assert "Gutter cleaning" in shown and "$191.25" in shown
        assert "Side gate code 1234" in shown
        assert "Created job JOB-0001. Press v there to schedule its visits." in notices(app)
        job = jobs.get(db, page.job_id)
        assert (job.title, job.billing, job.status) == ("Spring clean-up", "per_job",
                                                        "unscheduled")
        assert job.address_id == address_ids(db, client)[0] and job.visits == []
        assert [(ln.description, ln.unit_price_cents) for ln in job.lines] == [
            ("Gutter cleaning", 9000)]
        await pilot.press("escape")  # back to the list, which shows the new job
        await wait_until(pilot, lambda: "JOB-0001" in screen_text(app), "the job listed")
        assert isinstance(app.screen, JobListScreen)


async def test_a_weekly_first_schedule_is_previewed_and_its_visits_created(ui_db):
    db = ui_db
    client = make_client(db, "Harbor View HOA")
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        form = await _open_form(pilot, client_id=client)  # from the client's page
        assert form.client_id == client and _focused(app) == "j-title"
        assert "Harbor View HOA" in screen_text(app)
        await paste(pilot, "Weekly lobby clean")
        form.query_one(LineItemsEditor).focus_first()
        await paste(pilot, "Lobby clean")
        await pilot.press("tab", "tab")
        await type_text(pilot, "80")
        await _weekly(pilot, "2026-03-16", "4")
        shown = screen_text(app)
        assert "4 visits:" in shown
        for day in ("Mon 2026-03-16 09:00", "Mon 2026-03-23 09:00", "Mon 2026-03-30 09:00",
                    "Mon 2026-04-06 09:00"):
            assert day in shown
        assert "Per visit" in shown  # billing follows a repeating schedule
        await pilot.press("ctrl+s")
        page = await _job_page(pilot)
        assert len(visit_ids(db, page.job_id)) == 4
        job = jobs.get(db, page.job_id)
        assert (job.status, job.billing, job.recurrence) == ("scheduled", "per_visit", "weekly")
        assert [v.starts_at for v in job.visits] == [
            dt.datetime(2026, 3, 16, 9) + dt.timedelta(weeks=n) for n in range(4)]
        assert "Visits (4, 4 open)" in screen_text(app)
        assert "Created job JOB-0001 with 4 visits." in notices(app)


async def test_a_blank_title_or_a_bad_schedule_is_refused_by_name_and_nothing_is_written(ui_db):
    db = ui_db
    client = make_client(db, "Acme Dental")
    before = table_dump(db)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        form = await _open_form(pilot, client_id=client)
        form.query_one(LineItemsEditor).focus_first()
        await paste(pilot, "Deep clean")
        await pilot.press("tab", "tab")
        await type_text(pilot, "120")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "Title: is required" in screen_text(app),
                         "the refusal under the title")
        assert isinstance(app.screen, JobFormScreen) and _focused(app) == "j-title"
        assert "Title: is required" in notices(app)

        await paste(pilot, "Deep clean")
        await settle(pilot)
        assert "Title: is required" not in screen_text(app)  # fixing the field clears it
        await _set(pilot, "#s-date", "2026-03-16")
        form.query_one("#s-repeat").focus()
        await pilot.press("enter", "down", "enter")  # every week, but no end
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: _focused(app) == "s-until", "the refusal at the end")
        assert "Ends: choose either an end date" in screen_text(app)  # under the schedule
        assert ("Ends: choose either an end date or a number of visits for a repeating "
                "schedule") in notices(app)
        await pilot.press("escape")  # a changed form asks before it goes
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, JobListScreen)
    assert table_dump(db) == before


async def test_naughty_title_and_description_are_saved_and_shown_literally(ui_db):
    db = ui_db
    client = make_client(db, "Acme Dental")
    title = "[@click=app.quit] Foo [/] \x1b]52;c;aGk=\x07"
    description = "[bold]x[/] [link=https://evil.test]pay[/link]\nline two \x1b[2J"
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        form = await _open_form(pilot, client_id=client)
        await paste(pilot, title)
        form.query_one("#j-desc").focus()
        await paste(pilot, description)
        await pilot.press("ctrl+s")
        page = await _job_page(pilot)
        job = jobs.get(db, page.job_id)
        assert job.title == clean_line(title) and job.title.startswith("[@click=app.quit] Foo [/]")
        assert job.description == clean_text(description)
        shown = screen_text(app)
        assert "[@click=app.quit] Foo [/]" in shown
        assert "[bold]x[/] [link=https://evil.test]pay[/link]" in shown and "line two" in shown
        assert app.is_running  # nothing was taken as an action


async def test_edit_changes_the_title_and_a_stale_edit_is_refused(ui_db):
    db = ui_db
    client = make_client(db, "Acme Dental")
    job_id = make_job(db, client, title="Gutter repair", lines=[line("Gutter repair", 1, 25000)])
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        form = await _open_form(pilot, job_id=job_id)
        assert "Edit job JOB-0001" in screen_text(app) and "s-date" not in {
            w.id for w in form.query("Input")}  # no schedule part in an edit
        assert form.query_one("#j-client").disabled and _focused(app) == "j-title"
        await _set(pilot, "#j-title", "Gutter repair and downpipes")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, JobListScreen), "the form closed")
        job = jobs.get(db, job_id)
        assert job.title == "Gutter repair and downpipes"
        assert [ln.unit_price_cents for ln in job.lines] == [25000]  # the lines are kept
        assert "Saved job JOB-0001." in notices(app)

        form = await _open_form(pilot, job_id=job_id)
        # someone else saves the job meanwhile
        jobs.edit_job(db, job_id, JobData(client_id=client, title="Changed elsewhere"))
        await _set(pilot, "#j-title", "My change")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "changed elsewhere" in screen_text(app), "the refusal")
        assert isinstance(app.screen, JobFormScreen)
        assert ("This job was changed elsewhere after you opened it. Nothing was saved; reopen "
                "it to see the latest version.") in notices(app)
    assert jobs.get(db, job_id).title == "Changed elsewhere"


async def test_new_job_from_the_command_palette(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.current_mode == "clients"
        await pilot.press("ctrl+p")
        await settle(pilot)
        await paste(pilot, "New job")
        await settle(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, JobFormScreen), "the form")
        assert app.current_mode == "jobs"


async def test_an_unsaved_new_job_with_its_schedule_is_kept_as_a_draft_and_restored(
        ui_db, monkeypatch):
    monkeypatch.setattr("tui.drafts.DRAFT_DEBOUNCE", 0.05)
    db = ui_db
    client = make_client(db, "Harbor View HOA")
    store = LocalState(app_paths())  # the test's own TSSG_CRM_HOME (tests/conftest.py)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_form(pilot, client_id=client)
        await paste(pilot, "Weekly lobby clean")
        await _weekly(pilot, "2026-03-16", "3")
        await wait_until(pilot, lambda: any(
            d["values"].get("schedule", {}).get("s-count") == "3"
            for d in store.load_drafts().values()), "the draft written")
    assert jobs_count(db) == 0  # gone without saving, as after a crash

    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, RestoreDraftScreen), "the offer")
        assert "New job “Weekly lobby clean”" in screen_text(app)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, JobFormScreen)
                         and app.screen.query_one("#j-title").value != "", "the restored form")
        form = app.screen
        assert app.current_mode == "jobs" and form.client_id == client
        await settle(pilot)
        assert "3 visits:" in screen_text(app) and "Per visit" in screen_text(app)
        await pilot.press("ctrl+s")
        page = await _job_page(pilot)
        assert len(visit_ids(db, page.job_id)) == 3
        await wait_until(pilot, lambda: not store.load_drafts(), "the draft removed")


def jobs_count(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(Job)) or 0


# --------------------------------------------------------------------------- snapshot


@pytest.fixture
def _fixed_clock_and_theme(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("TEXTUAL_THEME", raising=False)
    time.tzset()
    # no autosave while the picture is taken: its status line shows the wall-clock time
    monkeypatch.setattr("tui.drafts.DRAFT_DEBOUNCE", 3600.0)
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("_fixed_clock_and_theme")
def test_new_job_form_snapshot(snap_compare, ui_db):
    db = ui_db
    state = make_tax_rate(db, "State tax", "6.25")
    business.update(db, "defaults", {"tax_rate_id": state})
    client = make_client(db, "Harbor View HOA")
    app = make_app(db)

    async def fill(pilot) -> None:
        form = await _open_form(pilot, client_id=client)
        await paste(pilot, "Weekly lobby clean")
        form.query_one(LineItemsEditor).focus_first()
        await paste(pilot, "Lobby clean [deep]")
        await pilot.press("tab", "tab")
        await type_text(pilot, "80")
        await _weekly(pilot, "2026-03-16", "10")
        form.query_one("#j-title").focus()
        for widget in form.query("Input, TextArea"):
            widget.cursor_blink = False  # a blinking cursor would make the picture random
        await settle(pilot)

    assert snap_compare(app, terminal_size=(100, 30), run_before=fill)


async def test_addresses_read_for_a_client_picked_before_are_not_shown(ui_db):
    from textual.widgets import Select

    from core.lists import list_addresses

    first = make_client(ui_db, "Avery First")
    second = make_client(ui_db, "Blake Second")
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        form = await _open_form(pilot, client_id=second)
        await wait_until(pilot, lambda: form.client_id == second, "the client")
        select = form.query_one("#j-address", Select)
        await wait_until(pilot, lambda: len(select._options) > 1, "second's addresses")
        shown = list(select._options)
        # a slow read for the first client finishes after the second was picked
        stale = list_addresses(ui_db, client_id=first, limit=200).rows
        form._show_addresses_of(first, stale, None)
        assert list(select._options) == shown
