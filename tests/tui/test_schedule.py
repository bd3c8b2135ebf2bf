"""The Schedule section by keyboard, on a real database: the week and the day with their
visits and the tasks due, going back and forth and to today, moving a visit to another day
and time, and the moves the lifecycle refuses."""

from __future__ import annotations

import datetime as dt

from core import jobs, tasks
from core.models import Visit
from tests.core.factories import make_client, make_job, make_task, schedule, visit_ids
from tests.tui.support import TODAY, make_app, notices, screen_text, settle, type_text
from tui.screens import schedule as schedule_screen
from tui.screens.job_detail import JobDetailScreen
from tui.screens.schedule import MoveVisitDialog, ScheduleScreen, parse_time


def _visit(db, visit_id: int) -> Visit:
    with db.read() as s:
        visit = s.get(Visit, visit_id)
        assert visit is not None
        return visit


def _week(db) -> dict[str, int]:
    """Visits on Tuesday and today (Sunday 2026-03-15) and next Tuesday, a task on Thursday."""
    cid = make_client(db, "Acme Lawn Care")
    other = make_client(db, "Brook Farm")
    ids = {}
    for name, client, day, at in (("Gutters", cid, "2026-03-10", "09:00"),
                                  ("Hedges", other, "2026-03-15", "14:00"),
                                  ("Mulch", cid, "2026-03-17", "08:00")):
        job = make_job(db, client, title=name, schedule=schedule(dt.date.fromisoformat(day), at,
                                                                 minutes=90))
        ids[name] = visit_ids(db, job)[0]
        ids[f"{name} job"] = job
    make_task(db, "Order mulch", due_date="2026-03-12")
    ids["done task"] = make_task(db, "Done already", due_date="2026-03-12")
    return ids


def _lines(app) -> list[str]:
    return screen_text(app).splitlines()


async def test_the_week_shows_visits_and_tasks_by_day_and_moves_between_weeks(ui_db):
    db = ui_db
    ids = _week(db)
    tasks.complete_task(db, ids["done task"])  # done tasks are not on the agenda
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ScheduleScreen)
        lines = _lines(app)
        assert "Week of Mon 2026-03-09 – Sun 2026-03-15  ·  this week" in screen_text(app)
        order = [next(i for i, line in enumerate(lines) if text in line) for text in (
            "Mon 9 Mar", "Tue 10 Mar", "Gutters", "Thu 12 Mar", "Order mulch", "Sun 15 Mar",
            "Hedges")]
        assert order == sorted(order)
        assert "09:00–10:30" in lines[order[2]] and "Acme Lawn Care" in lines[order[2]]
        assert "today" in lines[order[5]] and "14:00–15:30" in lines[order[6]]
        assert "Mulch" not in screen_text(app) and "Done already" not in screen_text(app)
        assert "2 visits, 1 open task due" in screen_text(app)
        assert screen.highlighted_key() == f"day:{TODAY.isoformat()}" or \
            screen.highlighted_key() == f"visit:{ids['Hedges']}"  # today, its first entry

        await pilot.press("right_square_bracket")  # next week
        await settle(pilot)
        assert "Week of Mon 2026-03-16" in screen_text(app) and "Mulch" in screen_text(app)
        assert "Gutters" not in screen_text(app)
        await pilot.press("left")  # the arrows too
        await pilot.press("left")
        await settle(pilot)
        assert "Week of Mon 2026-03-02" in screen_text(app)
        assert "0 visits, 0 open tasks due" in screen_text(app)
        await pilot.press("g")  # back to today
        await settle(pilot)
        assert "this week" in screen_text(app)

        await pilot.press("w")  # the day of the cursor: today
        await settle(pilot)
        assert "Sunday 2026-03-15  ·  today" in screen_text(app)
        assert "Hedges" in screen_text(app) and "Gutters" not in screen_text(app)
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert "Saturday 2026-03-14" in screen_text(app) and "Nothing scheduled" in screen_text(app)


async def test_move_a_visit_to_another_day_and_time(ui_db):
    db = ui_db
    ids = _week(db)
    visit = ids["Gutters"]
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_schedule(dt.date(2026, 3, 10), visit)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ScheduleScreen) and screen.highlighted_key() == f"visit:{visit}"
        await pilot.press("m")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, MoveVisitDialog)
        assert dialog.query_one("#move-date").value == "2026-03-10"
        assert dialog.query_one("#move-minutes").value == "90"
        await pilot.press("end", "ctrl+u")
        await type_text(pilot, "fri")
        await pilot.press("tab", "end", "ctrl+u")
        await type_text(pilot, "2pm")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ScheduleScreen)
        moved = _visit(db, visit)
        assert (moved.starts_at, moved.ends_at, moved.version) == (
            dt.datetime(2026, 3, 20, 14, 0), dt.datetime(2026, 3, 20, 15, 30), 2)
        assert "Moved the visit of JOB-0001 to Fri 2026-03-20 14:00." in notices(app)
        assert "Gutters" not in screen_text(app)  # this week no longer has it


async def test_moves_that_are_refused_say_why_and_change_nothing(ui_db):
    db = ui_db
    ids = _week(db)
    done = ids["Gutters"]
    jobs.complete_visit(db, done, jobs.ServiceLogData(minutes_spent=60), today=TODAY)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_schedule(dt.date(2026, 3, 10), done)
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, ScheduleScreen)
        assert "This visit is already completed, so it cannot be moved." in notices(app)

        app.open_schedule(TODAY, ids["Hedges"])
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("tab", "end", "ctrl+u")
        await type_text(pilot, "25:00")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MoveVisitDialog)
        assert "Start: '25:00' is not a time like 09:30 or 2pm" in notices(app)
        assert app.focused.id == "move-time"
        await pilot.press("end", "ctrl+u")
        await type_text(pilot, "10:00")
        # someone else moves it meanwhile: this move is refused, theirs stays
        jobs.move_visit(db, ids["Hedges"], jobs.VisitData(dt.datetime(2026, 3, 15, 16, 0), 90))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MoveVisitDialog)
        assert any("This visit was changed elsewhere after you opened it." in n
                   for n in notices(app))
    assert _visit(db, ids["Hedges"]).starts_at == dt.datetime(2026, 3, 15, 16, 0)
    assert _visit(db, done).starts_at == dt.datetime(2026, 3, 10, 9, 0)


async def test_enter_on_a_visit_opens_its_job(ui_db):
    db = ui_db
    ids = _week(db)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_schedule(TODAY, ids["Hedges"])
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, JobDetailScreen)
        assert app.screen.job_id == ids["Hedges job"]


async def test_a_busy_week_is_read_a_page_at_a_time(ui_db, monkeypatch):
    """Pages of two: visits and tasks are merged day by day as the pages arrive."""
    monkeypatch.setattr(schedule_screen, "PAGE_SIZE", 2)
    db = ui_db
    cid = make_client(db, "Acme Lawn Care")
    for day, at, title in (("2026-03-09", "08:00", "V1"), ("2026-03-09", "10:00", "V2"),
                           ("2026-03-09", "13:00", "V3"), ("2026-03-11", "09:00", "V4"),
                           ("2026-03-14", "07:00", "V5")):
        make_job(db, cid, title=title, schedule=schedule(dt.date.fromisoformat(day), at))
    for day, title in (("2026-03-09", "T1"), ("2026-03-11", "T2"), ("2026-03-11", "T3"),
                       ("2026-03-15", "T4")):
        make_task(db, title, due_date=day)
    app = make_app(db)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        screen = app.screen
        for _ in range(10):  # the cursor is near the end: every page comes
            await pilot.press("ctrl+end")
            await settle(pilot)
        assert "5 visits, 4 open tasks due" in screen_text(app)
        table = screen.table
        keys = [str(table.coordinate_to_cell_key((i, 0)).row_key.value)
                for i in range(table.row_count)]
        titles = [table.get_row_at(i)[1].plain for i in range(table.row_count)]
        shown = [t.split()[0] for k, t in zip(keys, titles, strict=True)
                 if not k.startswith(("day:", "empty:"))]
        assert shown == ["V1", "V2", "V3", "T1", "V4", "T2", "T3", "V5", "T4"]
        assert sum(k.startswith("day:") for k in keys) == 7


def test_times_are_typed_as_people_say_them():
    assert parse_time("9") == dt.time(9, 0)
    assert parse_time("9:30") == dt.time(9, 30)
    assert parse_time("0930") == dt.time(9, 30)
    assert parse_time("14:05") == dt.time(14, 5)
    assert parse_time("2pm") == dt.time(14, 0)
    assert parse_time("12am") == dt.time(0, 0)
    assert parse_time("12 pm") == dt.time(12, 0)
    assert parse_time("noon") == dt.time(12, 0)


async def test_a_narrower_terminal_redraws_the_week_without_reading_it_again(ui_db):
    db = ui_db
    ids = _week(db)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_schedule(TODAY, ids["Hedges"])
        await settle(pilot)
        assert "Where" in screen_text(app)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert "Where" not in screen_text(app) and "Hedges" in screen_text(app)
        assert app.screen.highlighted_key() == f"visit:{ids['Hedges']}"
