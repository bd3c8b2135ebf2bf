"""Section 4, Schedule: the visits of a day or a week, with the open tasks due on each day.

Visits come from :func:`core.lists.list_visits` (by date range) and tasks from
:func:`core.lists.list_tasks` (open, by due date), both a keyset page at a time: a day is
drawn once both streams have gone past it, and the next pages are read as the cursor nears
the end, so a busy week never loads more than the screen needs.

Keys: ``[`` / ``]`` (or the left and right arrows) go to the previous / next day or week,
``g`` back to today, ``w`` switches between week and day, ``m`` moves the visit under the
cursor to another day and time (:func:`core.jobs.move_visit`, guarded by the visit's version),
``enter`` opens the visit's job or what the task is about.

Decisions where the issue is silent: weeks start on Monday; a day with nothing on it still
shows its heading; times are local wall-clock times as stored; the moved visit keeps its
length and assignee unless changed in the dialog; after a move the view stays where it is and
the notice says where the visit went. Times are typed ``9``, ``9:30``, ``14:00`` or ``2pm``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass, field

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.color import Color
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Label, Select
from textual.worker import get_current_worker

from core import jobs
from core.errors import NotFound, ValidationError
from core.lists import TaskRow, VisitRow, list_tasks, list_visits
from core.paging import Cursor
from core.records import LinkedRecord, VisitView, visit_move_refusal, visit_view
from core.staff import UserRow, list_users
from tui import render
from tui.screens.base import CrmScreen
from tui.screens.invoice_dialogs import DATE_HINT, FormDialog, form_bindings, parse_day
from tui.screens.tasks import open_linked
from tui.widgets.key_hints import KeyHints
from tui.widgets.section_bar import SectionBar

PAGE_SIZE = 100
PREFETCH_MARGIN = 20
NARROW = 90
NOBODY = 0
_TIME = re.compile(r"^(\d{1,2})(?::?(\d{2}))?\s*(am|pm|a|p)?$")
VISIT_STATUS = {"scheduled": "Scheduled", "in_progress": "In progress", "completed": "Done",
                "cancelled": "Cancelled"}


def parse_time(text: str, field_name: str = "start time") -> dt.time:
    """``9``, ``9:30``, ``0930``, ``14:00``, ``2pm``, ``2:30 pm``, ``noon``."""
    value = text.strip().lower().replace(".", "")
    if value == "noon":
        return dt.time(12, 0)
    match = _TIME.match(value)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        suffix = match.group(3)
        if suffix and 1 <= hour <= 12:
            hour = hour % 12 + (12 if suffix.startswith("p") else 0)
        if 0 <= hour <= 23 and 0 <= minute <= 59 and (not suffix or 0 <= hour <= 23):
            return dt.time(hour, minute)
    if not value:
        raise ValidationError(field_name, "is required")
    raise ValidationError(field_name, f"'{text.strip()[:20]}' is not a time like 09:30 or 2pm")


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def column_widths(width: int) -> dict[str, int]:
    fixed = {"time": 11, "who": 12, "status": 11}
    columns = 5 if width < NARROW else 6
    rest = max(width - 2 - 2 * columns - sum(fixed.values()), 30)
    if columns == 5:
        what = rest * 60 // 100
        return {"time": 11, "what": what, "client": rest - what, "who": 12, "status": 11}
    what, client = rest * 42 // 100, rest * 28 // 100
    return {"time": 11, "what": what, "client": client, "where": rest - what - client,
            "who": 12, "status": 11}


@dataclass
class _Streams:
    """How far the reading of the period has got, for visits and for tasks."""

    visits_cursor: Cursor | None = None
    visits_done: bool = False
    tasks_cursor: Cursor | None = None
    tasks_done: bool = False
    visits: list[VisitRow] = field(default_factory=list)  # read, not drawn yet
    tasks: list[TaskRow] = field(default_factory=list)
    next_day: dt.date | None = None  # the first day not drawn yet

    @property
    def done(self) -> bool:
        return self.visits_done and self.tasks_done


@dataclass(frozen=True)
class _Pages:
    visits: list[VisitRow] | None  # None: that stream was not read this time
    visits_next: Cursor | None
    tasks: list[TaskRow] | None
    tasks_next: Cursor | None


class ScheduleScreen(CrmScreen[None]):
    CSS_PATH = "schedule.tcss"
    HELP_TITLE = "Schedule"
    BINDINGS = [
        Binding("left_square_bracket,left", "previous", "Previous", id="schedule.previous",
                priority=True),
        Binding("right_square_bracket,right", "next", "Next", id="schedule.next",
                priority=True),
        Binding("g", "today", "Today", id="schedule.today"),
        Binding("w", "toggle_view", "Day/week", id="schedule.view"),
        Binding("m", "move", "Move visit", id="schedule.move"),
        Binding("enter", "open", "Open", id="schedule.open", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.week_view = True
        self.anchor: dt.date | None = None  # the day shown, or a day of the week shown
        self._generation = 0
        self._streams = _Streams()
        self._loading = False
        self._visits: dict[str, VisitRow] = {}
        self._tasks: dict[str, TaskRow] = {}
        self._days: list[tuple[dt.date, list[VisitRow], list[TaskRow]]] = []  # drawn so far
        self._widths: dict[str, int] = {}
        self._seen_data_version = -1
        self._styles: dict[str, Style] = {}
        self._focus_key: str | None = None  # a row to put the cursor on once it is drawn

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield SectionBar("schedule")
        with Vertical(id="schedule-body"):
            yield Label("", id="schedule-title", markup=False)
            yield Label("", id="schedule-status", markup=False)
            yield DataTable(id="schedule-table", cursor_type="row", zebra_stripes=False)
        yield KeyHints()

    @property
    def table(self) -> DataTable[object]:
        return self.query_one("#schedule-table", DataTable)

    @property
    def first_day(self) -> dt.date:
        anchor = self.anchor or self.crm.today
        return week_start(anchor) if self.week_view else anchor

    @property
    def last_day(self) -> dt.date:
        return self.first_day + dt.timedelta(days=6 if self.week_view else 0)

    def on_mount(self) -> None:
        self._read_theme()
        self._set_columns()
        self.table.focus()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._theme_changed())

    def on_screen_resume(self) -> None:
        target = getattr(self.crm, "schedule_target", None)
        if target is not None:
            self.crm.schedule_target = None
            self.go_to(*target)
            return
        if self.anchor is None:
            self.go_to(self.crm.today)
            return
        if self._seen_data_version != self.crm.data_version:
            self._seen_data_version = self.crm.data_version
            self.reload(keep=self.highlighted_key())

    def on_resize(self) -> None:
        if column_widths(self.size.width) != self._widths:
            keep = self.highlighted_key()
            self._set_columns()
            self._redraw_all(keep)

    def _read_theme(self) -> None:
        variables = self.app.theme_variables
        self._styles = {
            name: Style(color=Color.parse(variables[name]).rich_color, bold=True)
            for name in ("primary", "error", "accent") if name in variables
        }

    def _theme_changed(self) -> None:
        self._read_theme()
        self._redraw_all()

    def _redraw_all(self, keep: str | None = None) -> None:
        """Draw the days already read again (new columns or colours), keeping the cursor."""
        table = self.table
        keep = keep or self.highlighted_key()
        table.clear()
        for day, visits, due in self._days:
            self._draw_day(day, visits, due, record=False)
        if keep is not None:
            with contextlib.suppress(Exception):  # the row may be gone
                table.move_cursor(row=table.get_row_index(keep))

    def _set_columns(self) -> None:
        widths = column_widths(self.size.width or self.app.size.width)
        self._widths = widths
        table = self.table
        table.clear(columns=True)
        titles = {"time": "When", "what": "What", "client": "Client", "where": "Where",
                  "who": "Who", "status": "Status"}
        for key, width in widths.items():
            table.add_column(titles[key], width=width, key=key)

    # ------------------------------------------------------------------ navigation

    def go_to(self, day: dt.date, visit_id: int | None = None) -> None:
        """Show the week (or day) of ``day``, with the cursor on the visit when given."""
        self.anchor = day
        self._seen_data_version = self.crm.data_version
        self.reload(keep=f"visit:{visit_id}" if visit_id is not None else f"day:{day.isoformat()}")

    def action_previous(self) -> None:
        self._step(-1)

    def action_next(self) -> None:
        self._step(1)

    def _step(self, direction: int) -> None:
        days = 7 if self.week_view else 1
        self.anchor = (self.anchor or self.crm.today) + dt.timedelta(days=days * direction)
        self.reload(keep=f"day:{self.first_day.isoformat()}")

    def action_today(self) -> None:
        self.go_to(self.crm.today)

    def action_toggle_view(self) -> None:
        task_or_visit = self.highlighted_key()
        day = self.highlighted_day() or self.anchor or self.crm.today
        self.week_view = not self.week_view
        self.anchor = day
        keep = task_or_visit if task_or_visit and not task_or_visit.startswith(("day:", "empty:")) \
            else f"day:{day.isoformat()}"
        self.reload(keep=keep)

    # ------------------------------------------------------------------ loading

    def reload(self, keep: str | None = None) -> None:
        """Read the period again from its start, then put the cursor on ``keep``."""
        self._generation += 1
        self._streams = _Streams(next_day=self.first_day)
        self._visits, self._tasks = {}, {}
        self._days = []
        self._focus_key = keep
        self.table.clear()
        self._show_title()
        self._loading = True
        self._fetch()

    def _fetch(self) -> None:
        streams = self._streams
        self._fetch_in_thread(
            self._generation, self.first_day, self.last_day,
            None if streams.visits_done else streams.visits_cursor, streams.visits_done,
            None if streams.tasks_done else streams.tasks_cursor, streams.tasks_done,
        )

    @work(thread=True, exclusive=True, group="schedule", exit_on_error=False)
    def _fetch_in_thread(self, generation: int, first: dt.date, last: dt.date,
                         visits_cursor: Cursor | None, visits_done: bool,
                         tasks_cursor: Cursor | None, tasks_done: bool) -> None:
        visits = tasks = None
        visits_next = tasks_next = None
        if not visits_done:
            page = list_visits(self.db, starts_from=first,
                               starts_before=last + dt.timedelta(days=1),
                               cursor=visits_cursor, limit=PAGE_SIZE)
            visits, visits_next = page.rows, page.next_cursor
        if not tasks_done:
            task_page = list_tasks(self.db, today=self.crm.today, status="open", due_from=first,
                                   due_to=last, cursor=tasks_cursor, limit=PAGE_SIZE)
            tasks, tasks_next = task_page.rows, task_page.next_cursor
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_pages, generation,
                                      _Pages(visits, visits_next, tasks, tasks_next))

    def _show_pages(self, generation: int, pages: _Pages) -> None:
        if generation != self._generation:
            return  # moved to another period while these were on their way
        streams = self._streams
        if pages.visits is not None:
            streams.visits += pages.visits
            streams.visits_cursor = pages.visits_next
            streams.visits_done = pages.visits_next is None
        if pages.tasks is not None:
            streams.tasks += pages.tasks
            streams.tasks_cursor = pages.tasks_next
            streams.tasks_done = pages.tasks_next is None
        self._draw_ready_days()
        self._loading = False
        self._show_status()
        self._place_cursor()
        self._maybe_fetch_more()

    def _draw_ready_days(self) -> None:
        """Draw every day both streams have read past (all of them once both are done)."""
        streams = self._streams
        frontier = self.last_day + dt.timedelta(days=1)
        if not streams.visits_done and streams.visits:
            frontier = min(frontier, streams.visits[-1].starts_at.date())
        elif not streams.visits_done:
            frontier = streams.next_day or frontier
        if not streams.tasks_done and streams.tasks:
            last_due = streams.tasks[-1].due_date or self.first_day
            frontier = min(frontier, last_due)
        elif not streams.tasks_done:
            frontier = min(frontier, streams.next_day or frontier)
        day = streams.next_day or self.first_day
        while day < frontier and day <= self.last_day:
            visits = [v for v in streams.visits if v.starts_at.date() == day]
            due = [t for t in streams.tasks if t.due_date == day]
            streams.visits = streams.visits[len(visits):]
            streams.tasks = streams.tasks[len(due):]
            self._draw_day(day, visits, due)
            day += dt.timedelta(days=1)
        streams.next_day = day

    def _draw_day(self, day: dt.date, visits: list[VisitRow], due: list[TaskRow], *,
                  record: bool = True) -> None:
        if record:
            self._days.append((day, visits, due))
        table = self.table
        primary = self._styles.get("primary", Style(bold=True))
        heading = Text(f"{day:%a} {day.day} {day:%b}", style=primary, no_wrap=True, end="")
        note = Text("today" if day == self.crm.today else "", style=primary, end="")
        cells: list[object] = [Text("") for _ in self._widths]
        cells[0], cells[1] = heading, note
        table.add_row(*cells, key=f"day:{day.isoformat()}")
        for visit in visits:
            self._visits[f"visit:{visit.id}"] = visit
            table.add_row(*self._visit_cells(visit), key=f"visit:{visit.id}")
        for task in due:
            self._tasks[f"task:{task.id}"] = task
            table.add_row(*self._task_cells(task), key=f"task:{task.id}")
        if not visits and not due:
            empty: list[object] = [Text("") for _ in self._widths]
            empty[1] = render.plain("Nothing scheduled", style="dim")
            table.add_row(*empty, key=f"empty:{day.isoformat()}")

    def _visit_cells(self, v: VisitRow) -> list[object]:
        faded = "dim" if v.status in ("completed", "cancelled") else ""
        when = f"{v.starts_at:%H:%M}–{v.ends_at:%H:%M}"
        if v.ends_at.date() != v.starts_at.date():
            when = f"{v.starts_at:%H:%M}–{v.ends_at:%d %b}"
        cells: list[object] = [
            render.plain(when, style=faded),
            self._what(v, faded),
            render.plain(v.client_name, style=faded),
        ]
        if "where" in self._widths:
            cells.append(render.plain(v.address, style="dim"))
        cells += [render.plain(v.assignee_name or "—", style=faded),
                  render.plain(VISIT_STATUS.get(v.status, v.status), style=faded)]
        return cells

    @staticmethod
    def _what(v: VisitRow, faded: str) -> Text:
        """The job's title first (it says what the work is), then its number."""
        what = render.plain(v.job_title, style=faded or "bold")
        what.append(f"  {render.one_line(v.job_number)}", style="dim")
        return what

    def _task_cells(self, t: TaskRow) -> list[object]:
        overdue = self._styles.get("error", Style(bold=True)) if t.overdue else "dim"
        cells: list[object] = [
            render.plain("task", style=overdue),
            render.plain(t.title),
            render.plain(t.client_name),
        ]
        if "where" in self._widths:
            cells.append(render.plain(""))
        priority = {"high": "HIGH", "low": "low"}.get(t.priority, "")
        cells += [render.plain(t.assignee_name or "—"),
                  render.plain(priority, style=self._styles.get("accent", Style(bold=True))
                               if t.priority == "high" else "dim")]
        return cells

    def _place_cursor(self) -> None:
        table = self.table
        if self._focus_key is None or not table.row_count:
            return
        try:
            index = table.get_row_index(self._focus_key)
        except Exception:  # not drawn (yet, or not in this period)
            if self._streams.done:
                self._focus_key = None
            return
        self._focus_key = None
        # a day heading: start on its first entry, with the day at the top of the view
        if self._row_key(index).startswith("day:") and index + 1 < table.row_count:
            table.move_cursor(row=index + 1)
            self.call_after_refresh(table.scroll_to, y=index, animate=False)
        else:
            table.move_cursor(row=index)

    def _maybe_fetch_more(self) -> None:
        table = self.table
        near_end = table.cursor_row >= table.row_count - PREFETCH_MARGIN
        waiting = self._focus_key is not None
        if (near_end or waiting) and not self._streams.done and not self._loading:
            self._loading = True
            self._fetch()

    @on(DataTable.RowHighlighted, "#schedule-table")
    def _row_highlighted(self) -> None:
        self._maybe_fetch_more()

    def _row_key(self, index: int) -> str:
        return str(self.table.coordinate_to_cell_key((index, 0)).row_key.value)

    def _show_title(self) -> None:
        first, last = self.first_day, self.last_day
        today = self.crm.today
        if self.week_view:
            text = (f"Week of {first:%a} {first.isoformat()} – {last:%a} {last.isoformat()}"
                    + ("  ·  this week" if first <= today <= last else ""))
        else:
            text = f"{first:%A} {first.isoformat()}" + ("  ·  today" if first == today else "")
        self.query_one("#schedule-title", Label).update(render.content(text))

    def _show_status(self) -> None:
        visits = len(self._visits)
        tasks = len(self._tasks)
        more = ", reading more…" if not self._streams.done else ""
        text = (f"{visits} visit{'s' if visits != 1 else ''}, "
                f"{tasks} open task{'s' if tasks != 1 else ''} due{more}")
        self.query_one("#schedule-status", Label).update(render.content(text))

    # ------------------------------------------------------------------ actions

    def highlighted_key(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        return self._row_key(table.cursor_row)

    def highlighted_day(self) -> dt.date | None:
        """The day the cursor is in (walking up to its heading)."""
        table = self.table
        for index in range(table.cursor_row, -1, -1):
            key = self._row_key(index) if table.row_count else ""
            if key.startswith("day:"):
                return dt.date.fromisoformat(key[4:])
        return None

    def task_link(self) -> tuple[str, int] | None:
        """Quick-add from here is about the visit under the cursor."""
        key = self.highlighted_key()
        if key and key.startswith("visit:"):
            return ("visit", int(key[6:]))
        return None

    def task_due(self) -> dt.date | None:
        return self.highlighted_day()

    @on(DataTable.RowSelected, "#schedule-table")
    def action_open(self) -> None:
        key = self.highlighted_key()
        if key is None:
            return
        if key in self._visits:
            v = self._visits[key]
            record = LinkedRecord("job", v.job_id, f"Job {v.job_number} {v.job_title}", True,
                                  v.client_id, job_id=v.job_id)
            open_linked(self, "job", v.job_id, record)
        elif key in self._tasks:
            task = self._tasks[key]
            if task.linked_type is None or task.linked_id is None:
                from tui.screens.task_dialogs import TaskDialog

                self.app.push_screen(TaskDialog(task_id=task.id, today=self.crm.today))
            else:
                open_linked(self, task.linked_type, task.linked_id, None)

    def action_move(self) -> None:
        key = self.highlighted_key()
        if key is None or key not in self._visits:
            self.notice("Put the cursor on a visit to move it.")
            return
        self._load_visit(self._visits[key].id)

    @work(thread=True, exclusive=True, group="schedule-move", exit_on_error=False)
    def _load_visit(self, visit_id: int) -> None:
        try:
            view = visit_view(self.db, visit_id)
        except NotFound as exc:
            self.app.call_from_thread(self._refused, str(exc))
            return
        refusal = visit_move_refusal(view)
        if refusal is not None:
            self.app.call_from_thread(self._refused, refusal)
            return
        staff = list_users(self.db)
        self.app.call_from_thread(self._ask_where, view, staff)

    def _refused(self, reason: str) -> None:
        self.notice(render.one_line(reason), severity="warning", title="Not possible")

    def _ask_where(self, view: VisitView, staff: list[UserRow]) -> None:
        def moved(visit_id: int | None) -> None:
            if visit_id is not None:
                self.reload(keep=f"visit:{visit_id}")

        self.app.push_screen(MoveVisitDialog(view, staff, self.crm.today), moved)


class MoveVisitDialog(FormDialog[int]):
    """Another day, time, length or person for a scheduled visit; dismisses with its id."""

    WHAT = "move"
    BINDINGS = form_bindings("schedule_move")

    def __init__(self, view: VisitView, staff: list[UserRow], today: dt.date) -> None:
        super().__init__()
        self.view = view
        self.staff = staff
        self.today = today

    def form_title(self) -> str:
        return f"Move a visit of {render.one_line(self.view.job_number)}"

    def intro(self) -> Text:
        v = self.view
        text = Text(no_wrap=False, end="")
        text.append(render.one_line(v.job_title), "bold")
        text.append(f"  ·  {render.one_line(v.client_name)}", "dim")
        text.append(f"\nNow {v.starts_at:%a} {v.starts_at:%Y-%m-%d %H:%M}–{v.ends_at:%H:%M}",
                    "dim")
        return text

    def form_rows(self) -> ComposeResult:
        v = self.view
        people = [(Text("Nobody"), NOBODY)] + [(render.plain(u.name), u.id) for u in self.staff]
        if v.assignee_id and all(u.id != v.assignee_id for u in self.staff):
            people.append((Text("(deactivated staff member)"), v.assignee_id))
        yield from self.row("date", "Day", Input(v.starts_at.date().isoformat(), id="move-date",
                                                 compact=True, placeholder=DATE_HINT))
        yield from self.row("start", "Start", Input(f"{v.starts_at:%H:%M}", id="move-time",
                                                    compact=True, classes="short",
                                                    placeholder="09:30 or 2pm"))
        yield from self.row("duration", "Minutes", Input(str(v.duration_minutes),
                                                         id="move-minutes", compact=True,
                                                         classes="short"))
        yield from self.row("assignee", "Who", Select(people, value=v.assignee_id or NOBODY,
                                                     allow_blank=False, id="move-assignee",
                                                     compact=True))

    def check_field(self, widget_id: str, value: str) -> None:
        if widget_id == "move-date":
            parse_day(value, self.today, "date")
        elif widget_id == "move-time":
            parse_time(value, "start")
        elif widget_id == "move-minutes":
            self._minutes(value)

    @staticmethod
    def _minutes(value: str) -> int:
        text = value.strip()
        if not text.isdigit():
            raise ValidationError("duration", f"'{text[:10]}' is not a whole number of minutes")
        return int(text)

    def gather(self) -> jobs.VisitData:
        day = parse_day(self.text("move-date"), self.today, "date")
        if day is None:
            raise ValidationError("date", "is required")
        start = parse_time(self.text("move-time"), "start")
        who = self.query_one("#move-assignee", Select).value
        return jobs.VisitData(
            starts_at=dt.datetime.combine(day, start),
            duration_minutes=self._minutes(self.text("move-minutes")),
            assignee_id=who if isinstance(who, int) and who != NOBODY else None,
        )

    def submit(self, payload: jobs.VisitData) -> int:
        jobs.move_visit(self.db, self.view.id, payload, expected_version=self.view.version)
        return self.view.id

    def succeeded(self, result: int, payload: jobs.VisitData) -> None:
        self.notice(f"Moved the visit of {render.one_line(self.view.job_number)} to "
                    f"{payload.starts_at:%a %Y-%m-%d %H:%M}.")
        self.dismiss(result)
