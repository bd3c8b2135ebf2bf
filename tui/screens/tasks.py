"""Section 6, Tasks: open tasks grouped overdue, due today, upcoming and without a date
(the task buckets of :func:`core.lists.list_tasks`), or the tasks already done.

Each group is read a keyset page at a time, in order, as the cursor nears the end of what is
loaded; a group's heading is a row of its own. ``x`` completes the task under the cursor, or
reopens a done one: the row stays where it is, marked, so a slip is undone with the same key.
``enter`` opens the record the task is about (a client, invoice, job, proposal, or a visit on
the schedule); a task about nothing opens for editing. ``n`` adds a task here, as ``t`` does
anywhere; ``e`` edits, ``d`` deletes (after asking), ``f`` switches between open and done.
``/`` searches the tasks of that view by title or client name (:mod:`tui.screens.list_search`):
the hits replace the groups until escape, and every key above works on the highlighted hit.

Decisions where the issue is silent: the overdue group lists the oldest first; done tasks
list the latest due date first. A section whose opener is not built yet says so and names
the record instead.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.color import Color
from textual.containers import Vertical
from textual.widgets import DataTable, Label
from textual.worker import get_current_worker

from core import tasks
from core.errors import DomainError
from core.list_search import find_tasks
from core.lists import TaskRow, list_tasks
from core.paging import Cursor
from core.records import LinkedRecord, linked_records
from tui import render
from tui.screens.base import CrmScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.list_search import SEARCH_LIMIT, ListSearch
from tui.widgets.key_hints import KeyHints
from tui.widgets.section_bar import SectionBar

PAGE_SIZE = 100
PREFETCH_MARGIN = 20
NARROW = 90
OPEN_GROUPS: tuple[tuple[str, str], ...] = (
    ("overdue", "Overdue"),
    ("today", "Due today"),
    ("upcoming", "Upcoming"),
    ("no_date", "No date"),
)
VIEWS = (("open", "Open tasks"), ("done", "Done"))
PRIORITY_LABELS = {"low": "low", "normal": "", "high": "HIGH"}
KIND_NAMES = {"client": "client", "contact": "contact", "proposal": "proposal", "job": "job",
              "visit": "visit", "invoice": "invoice"}


@dataclass
class _Stream:
    """Where the reading of the current view has got to."""

    group: int = 0  # index into the view's groups
    cursor: Cursor | None = None
    done: bool = False
    headed: set[int] = field(default_factory=set)  # groups whose heading row is shown


@dataclass(frozen=True)
class _Page:
    group: int
    rows: list[TaskRow]
    next_cursor: Cursor | None
    links: dict[tuple[str, int], LinkedRecord]


def column_widths(width: int) -> dict[str, int]:
    fixed = {"mark": 3, "due": 10, "priority": 4}
    columns = 5 if width < NARROW else 6
    rest = max(width - 2 - 2 * columns - sum(fixed.values()), 30)
    if columns == 5:
        title = rest * 55 // 100
        return {"mark": 3, "title": title, "due": 10, "priority": 4, "about": rest - title}
    title, client = rest * 40 // 100, rest * 22 // 100
    return {"mark": 3, "title": title, "due": 10, "priority": 4, "client": client,
            "about": rest - title - client}


class TaskListScreen(ListSearch, CrmScreen[None]):
    CSS_PATH = "tasks.tcss"
    HELP_TITLE = "Tasks"
    SEARCH_ID = "tasks"
    SEARCH_PLACEHOLDER = "Search tasks by title or client…"
    SEARCH_NOUN = "tasks"
    BINDINGS = [
        Binding("slash", "search", "Search", id="tasks.search"),
        Binding("enter", "open", "Open", id="tasks.open", show=False),
        Binding("n", "new", "New", id="tasks.new"),
        Binding("x", "complete", "Done", id="tasks.complete"),
        Binding("x", "reopen", "Reopen", id="tasks.reopen"),
        Binding("e", "edit", "Edit", id="tasks.edit"),
        Binding("d", "delete", "Delete", id="tasks.delete"),
        Binding("f", "cycle_view", "Open/done", id="tasks.view"),
        Binding("escape", "clear_search", "Clear search", id="tasks.clear_search", show=False),
        Binding("down", "to_results", "To the hits", id="tasks.to_results", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view_index = 0
        self._generation = 0
        self._stream = _Stream()
        self._loading = False
        self._tasks: dict[str, TaskRow] = {}  # row key -> task
        self._order: list[tuple[str, str]] = []  # the rows drawn: ("group", index) / ("task", key)
        self._links: dict[tuple[str, int], LinkedRecord] = {}
        self._shown = 0
        self._widths: dict[str, int] = {}
        self._seen_data_version = -1
        self._styles: dict[str, Style] = {}
        self._busy = False

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield SectionBar("tasks")
        with Vertical(id="tasks-body"):
            yield self.search_box()
            yield Label("", id="task-list-status", markup=False)
            yield DataTable(id="task-table", cursor_type="row", zebra_stripes=False)
            yield self.search_results()
        yield KeyHints()

    @property
    def table(self) -> DataTable[object]:
        return self.query_one("#task-table", DataTable)

    @property
    def view_key(self) -> str:
        return VIEWS[self.view_index][0]

    def groups(self) -> tuple[tuple[str, str], ...]:
        return OPEN_GROUPS if self.view_key == "open" else (("done", "Done"),)

    def on_mount(self) -> None:
        self._read_theme()
        self._set_columns()
        self.focus_list()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._theme_changed())

    def on_screen_resume(self) -> None:
        if self._seen_data_version != self.crm.data_version:
            self._seen_data_version = self.crm.data_version
            self.reload()
            self.search_again()

    def on_resize(self) -> None:
        if column_widths(self.size.width) != self._widths:
            keep = self.highlighted_key()
            self._set_columns()
            self._redraw_all(keep)

    def _read_theme(self) -> None:
        variables = self.app.theme_variables
        self._styles = {
            name: Style(color=Color.parse(variables[name]).rich_color)
            for name in ("error", "warning", "success") if name in variables
        }

    def _theme_changed(self) -> None:
        self._read_theme()
        self._redraw_all()
        self._fill_results()

    def _redraw_all(self, keep: str | None = None) -> None:
        """Draw the rows already read again (new columns or colours), keeping the cursor."""
        table = self.table
        keep = keep or self.highlighted_key()
        table.clear()
        for kind, value in self._order:
            if kind == "group":
                self._add_heading(int(value), record=False)
            else:
                table.add_row(*self._cells(self._tasks[value]), key=value)
        if keep is not None:
            with contextlib.suppress(Exception):  # the row may be gone
                table.move_cursor(row=table.get_row_index(keep))

    def _set_columns(self) -> None:
        widths = column_widths(self.size.width or self.app.size.width)
        self._widths = widths
        table = self.table
        table.clear(columns=True)
        titles = {"mark": "", "title": "Task", "due": "Due", "priority": "", "client": "Client",
                  "about": "About"}
        for key, width in widths.items():
            table.add_column(titles[key], width=width, key=key)
        self.copy_columns_to_results()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # One key completes or reopens; the bottom line shows the one that applies.
        if action in ("complete", "reopen"):
            task = self.highlighted_task()
            if task is None:
                return action == "complete" if self.view_key == "open" else action == "reopen"
            return (task.status == "open") == (action == "complete")
        return True

    # ------------------------------------------------------------------ loading

    def reload(self) -> None:
        """Start again from the first group (after a save elsewhere, or a new view)."""
        self._generation += 1
        self._stream = _Stream()
        self._tasks = {}
        self._order = []
        self._shown = 0
        self.table.clear()
        self._loading = True
        self._fetch(self._generation, 0, None)
        self._show_status()

    def _fetch(self, generation: int, group: int, cursor: Cursor | None) -> None:
        key = self.groups()[group][0]
        self._fetch_in_thread(generation, group, key, cursor)

    @work(thread=True, exclusive=True, group="task-list", exit_on_error=False)
    def _fetch_in_thread(self, generation: int, group: int, key: str,
                         cursor: Cursor | None) -> None:
        if key == "done":
            page = list_tasks(self.db, today=self.crm.today, status="done", descending=True,
                              cursor=cursor, limit=PAGE_SIZE)
        else:
            page = list_tasks(self.db, today=self.crm.today, bucket=key, cursor=cursor,
                              limit=PAGE_SIZE)
        refs = [(r.linked_type, r.linked_id) for r in page.rows
                if r.linked_type is not None and r.linked_id is not None]
        links = linked_records(self.db, refs) if refs else {}
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_page, generation,
                                      _Page(group, page.rows, page.next_cursor, links))

    def _show_page(self, generation: int, page: _Page) -> None:
        if generation != self._generation:
            return  # the view changed while this page was on its way
        stream = self._stream
        self._links.update(page.links)
        if page.rows and page.group not in stream.headed:
            stream.headed.add(page.group)
            self._add_heading(page.group)
        for task in page.rows:
            self._add_task(task)
        if page.next_cursor is not None:
            stream.cursor = page.next_cursor
        elif page.group + 1 < len(self.groups()):
            stream.group, stream.cursor = page.group + 1, None
        else:
            stream.done = True
        self._loading = False
        self._skip_heading()
        self._show_status()
        self._maybe_fetch_more()

    def _add_heading(self, group: int, *, record: bool = True) -> None:
        if record:
            self._order.append(("group", str(group)))
        key, title = self.groups()[group]
        style = self._styles.get("error") if key == "overdue" else None
        heading = Text(title, style=Style(bold=True) + (style or Style()), no_wrap=True, end="")
        cells: list[object] = [Text("") for _ in self._widths]
        cells[1] = heading
        self.table.add_row(*cells, key=f"group:{key}")

    def _cells(self, task: TaskRow) -> list[object]:
        done = task.status == "done"
        strike = Style(strike=True, dim=True) if done else Style()
        error = self._styles.get("error", Style(bold=True))
        mark = render.plain("[x]" if done else "[ ]", style="dim" if done else "")
        title = render.plain(task.title, style=strike)
        if task.due_date is None:
            due = render.plain("")
        elif task.due_today and not done:
            due = render.plain("today", style=Style(bold=True))
        else:
            due = render.plain(task.due_date.isoformat(),
                               style=error if task.overdue and not done else strike)
        priority = render.plain(PRIORITY_LABELS.get(task.priority, task.priority),
                                style=self._styles.get("warning", Style(bold=True))
                                if task.priority == "high" else "dim")
        about = self._about(task)
        cells: list[object] = [mark, title, due, priority]
        if "client" in self._widths:
            cells.append(render.plain(task.client_name, style="dim" if done else ""))
        cells.append(about)
        return cells

    def _about(self, task: TaskRow) -> Text:
        if task.linked_type is None or task.linked_id is None:
            return render.plain("")
        record = self._links.get((task.linked_type, task.linked_id))
        if record is None:
            return render.plain(f"{KIND_NAMES.get(task.linked_type, task.linked_type)} "
                                f"#{task.linked_id}", style="dim")
        return render.plain(record.label, style="" if record.exists else "dim")

    def _add_task(self, task: TaskRow) -> None:
        key = f"task:{task.id}"
        self._tasks[key] = task
        self._order.append(("task", key))
        self._shown += 1
        self.table.add_row(*self._cells(task), key=key)

    def _redraw(self, key: str) -> None:
        task = self._tasks[key]
        for column, value in zip(self._widths, self._cells(task), strict=True):
            self.table.update_cell(key, column, value)

    def _maybe_fetch_more(self) -> None:
        table = self.table
        near_end = table.cursor_row >= table.row_count - PREFETCH_MARGIN
        stream = self._stream
        if near_end and not stream.done and not self._loading:
            self._loading = True
            self._fetch(self._generation, stream.group, stream.cursor)

    @on(DataTable.RowHighlighted, "#task-table")
    def _row_highlighted(self) -> None:
        self._maybe_fetch_more()
        self.refresh_bindings()
        self.query_one(KeyHints).refresh_hints()  # Done or Reopen

    def _skip_heading(self) -> None:
        """Start on the first task, not on the first group's heading."""
        table = self.table
        if table.cursor_row == 0 and table.row_count > 1 and self._row_key(0).startswith("group:"):
            table.move_cursor(row=1)

    def _row_key(self, index: int) -> str:
        return str(self.table.coordinate_to_cell_key((index, 0)).row_key.value)

    def _show_status(self) -> None:
        status = self.query_one("#task-list-status", Label)
        if self.searching:
            status.update(render.content(self.search_status()))
            return
        stream = self._stream
        if not self._shown and stream.done:
            if self.view_key == "open":
                key = self.crm.key_for("tasks.new", "n")
                quick = self.crm.key_for("app.quick_task", "t")
                text = f"Nothing to do. Press {key} here, or {quick} anywhere, to add a task."
            else:
                text = "No task has been done yet."
        else:
            more = ", more below" if not stream.done else ""
            text = f"{VIEWS[self.view_index][1]} · {self._shown} shown{more}"
        status.update(render.content(text))

    # ------------------------------------------------------------------ actions

    def highlighted_key(self) -> str | None:
        if self.showing_results:
            hit = self.highlighted_hit()
            return self.search_key(hit) if hit is not None else None
        table = self.table
        if not table.row_count:
            return None
        return self._row_key(table.cursor_row)

    def highlighted_task(self) -> TaskRow | None:
        key = self.highlighted_key()
        return self._task_for(key) if key else None

    def _task_for(self, key: str) -> TaskRow | None:
        if self.showing_results:
            return next((t for t in self.found if self.search_key(t) == key), None)
        return self._tasks.get(key)

    # ------------------------------------------------------------------ search

    def search_find(self, query: str) -> list[TaskRow]:
        found = find_tasks(self.db, query, today=self.crm.today, status=self.view_key,
                           limit=SEARCH_LIMIT)
        known = self._links  # filled by the list and earlier searches (a lookup per ref:
        refs = {(r.linked_type, r.linked_id) for r in found  # safe while the UI adds to it)
                if r.linked_type is not None and r.linked_id is not None
                and (r.linked_type, r.linked_id) not in known}
        if refs:  # the "About" column of records not seen yet; in before the hits are drawn
            links = linked_records(self.db, refs)
            self.app.call_from_thread(lambda: self._links.update(links))
        return found

    def search_cells(self, row: TaskRow) -> list[object]:
        return self._cells(row)

    def search_key(self, row: TaskRow) -> str:
        return f"task:{row.id}"

    @on(DataTable.RowHighlighted, ".list-results")
    def _hit_highlighted(self) -> None:
        self.refresh_bindings()
        self.query_one(KeyHints).refresh_hints()  # Done or Reopen

    @on(DataTable.RowSelected)  # the list or the search hits
    def action_open(self) -> None:
        task = self.highlighted_task()
        if task is None:
            return
        if task.linked_type is None or task.linked_id is None:
            self.action_edit()
            return
        record = self._links.get((task.linked_type, task.linked_id))
        open_linked(self, task.linked_type, task.linked_id, record)

    def action_new(self) -> None:
        from tui.screens.task_dialogs import TaskDialog

        self.app.push_screen(TaskDialog(today=self.crm.today))

    def action_edit(self) -> None:
        from tui.screens.task_dialogs import TaskDialog

        task = self.highlighted_task()
        if task is not None:
            self.app.push_screen(TaskDialog(task_id=task.id, today=self.crm.today))

    def action_complete(self) -> None:
        self._set_done(True)

    def action_reopen(self) -> None:
        self._set_done(False)

    def _set_done(self, done: bool) -> None:
        key = self.highlighted_key()
        task = self._task_for(key) if key else None
        if task is None or key is None or self._busy:
            return
        self._busy = True
        self._change(key, task.id, done)

    @work(thread=True, exclusive=True, group="task-change", exit_on_error=False)
    def _change(self, key: str, task_id: int, done: bool) -> None:
        try:
            if done:
                tasks.complete_task(self.db, task_id)
            else:
                tasks.reopen_task(self.db, task_id)
        except DomainError as exc:
            self.app.call_from_thread(self._change_failed, exc)
            return
        self.app.call_from_thread(self._changed, key, done)

    def _change_failed(self, error: DomainError) -> None:
        self._busy = False
        self.notice(render.error_text(error), severity="error")
        self.reload()

    def _changed(self, key: str, done: bool) -> None:
        self._busy = False
        self.crm.note_data_changed()
        self._seen_data_version = self.crm.data_version  # the row is redrawn, not reloaded
        status = "done" if done else "open"
        hit = self._task_for(key) if self.showing_results else None
        if hit is not None:  # marked among the hits; the list under them is read again
            hit.status = status
            for column, value in zip(self._widths, self._cells(hit), strict=True):
                self.results.update_cell(key, column, value)
            self.reload()
        elif key in self._tasks:
            self._tasks[key].status = status
            self._redraw(key)
        task = hit or self._tasks[key]
        self.refresh_bindings()
        self.query_one(KeyHints).refresh_hints()
        undo = self.crm.key_for("tasks.reopen" if done else "tasks.complete", "x")
        title = render.one_line(task.title)
        if done:
            self.notice(f"Done: {title}. Press {undo} to reopen it.")
        else:
            self.notice(f"Reopened: {title}.")

    def action_delete(self) -> None:
        task = self.highlighted_task()
        if task is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(task.id, task.title)

        self.app.push_screen(ConfirmScreen(f"Delete the task “{render.one_line(task.title)}”?",
                                           yes="Delete", no="Keep it"), answered)

    @work(thread=True, exclusive=True, group="task-change", exit_on_error=False)
    def _delete(self, task_id: int, title: str) -> None:
        try:
            tasks.delete_task(self.db, task_id)
        except DomainError as exc:
            self.app.call_from_thread(self._change_failed, exc)
            return
        self.app.call_from_thread(self._deleted, title)

    def _deleted(self, title: str) -> None:
        self.crm.note_data_changed()
        self._seen_data_version = self.crm.data_version
        self.notice(f"Deleted the task “{render.one_line(title)}”.")
        self.reload()
        self.search_again()

    def action_cycle_view(self) -> None:
        self.view_index = (self.view_index + 1) % len(VIEWS)
        self.reload()
        self.search_again()


def open_linked(screen: CrmScreen[object], kind: str, ident: int,
                record: LinkedRecord | None) -> None:
    """Go to the record a task is about, through the section that shows it."""
    crm = screen.crm
    if record is not None and not record.exists:
        screen.notice(f"The {kind} this task was about no longer exists.", severity="warning")
        return
    if kind in ("client", "contact"):
        client_id = ident if kind == "client" else record.client_id if record else None
        if client_id is not None:
            crm.open_client(client_id)
        return
    if kind == "visit":
        if record is not None and record.day is not None:
            crm.open_schedule(record.day, visit_id=ident)
        return
    opener = getattr(crm, f"open_{kind}", None)
    if opener is None:
        label = record.label if record else f"{kind} #{ident}"
        screen.notice(f"{label}: the {kind} screens cannot open it from here yet.",
                      severity="warning")
        return
    opener(ident)
