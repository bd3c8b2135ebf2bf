"""Adding a task from anywhere (``t``), and editing one: title, due date, priority, who does
it, notes, and the record it is about.

Quick-add links the task to the record the current screen shows: a screen says which with a
``task_link()`` method returning ``(kind, id)`` (kind: client, contact, proposal, job, visit
or invoice); a ``…DetailScreen`` without one is asked for an ``invoice_id``, ``job_id``,
``proposal_id`` or ``client_id`` attribute, so the other sections' detail screens link
without knowing about tasks. The link can be unticked before saving. ``enter`` in the title
saves at once, so "t, type, enter" adds a task.

Decisions where the issue is silent: a new task has no due date unless one is typed (it is
listed under "No date"); dates are typed as in every dialog (``fri``, ``+3``, ``2026-03-20``).
While the dialog has unsaved changes they are kept as a draft (:mod:`tui.drafts`), restored
into the Tasks section.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Checkbox, Input, Select, TextArea
from textual.widgets._select import InvalidSelectValueError

from core import tasks
from core.errors import NotFound
from core.records import LinkedRecord, TaskView, linked_records, task_view
from core.staff import UserRow, list_users
from core.tasks import TaskData
from tui import render
from tui.drafts import Draft
from tui.screens.invoice_dialogs import DATE_HINT, FormDialog, form_bindings, parse_day

PRIORITIES: tuple[tuple[str, str], ...] = (("Low", "low"), ("Normal", "normal"), ("High", "high"))
NOBODY = 0  # the Select value of "Nobody" (user ids start at 1)
DETAIL_ATTRIBUTES = ("invoice", "job", "proposal", "client")


def current_record(screen: Any) -> tuple[str, int] | None:
    """The record the screen shows, as ``(kind, id)``, or None (see the module docstring)."""
    link = getattr(screen, "task_link", None)
    if callable(link):
        value = link()
        if value is not None:
            return value
    if type(screen).__name__.endswith("DetailScreen"):
        for kind in DETAIL_ATTRIBUTES:
            ident = getattr(screen, f"{kind}_id", None)
            if isinstance(ident, int) and not isinstance(ident, bool):
                return (kind, ident)
    return None


@dataclass(frozen=True)
class _Loaded:
    task: TaskView | None
    link: LinkedRecord | None
    staff: list[UserRow]


class TaskDialog(FormDialog[int]):
    """A new task (optionally linked) or an existing one; dismisses with the task id."""

    WHAT = "task"
    BINDINGS = form_bindings("task_form")
    DRAFT_KIND = "task"
    DRAFT_MODE = "tasks"
    DRAFT_NOUN = "task"

    def __init__(self, *, link: tuple[str, int] | None = None, task_id: int | None = None,
                 today: dt.date | None = None, due: dt.date | None = None) -> None:
        super().__init__()
        self.link = link
        self.task_id = task_id
        self._today = today
        self.due = due
        self.loaded: _Loaded | None = None
        self.draft_version: int | None = None  # a restored draft's version (see apply_draft)

    @property
    def today(self) -> dt.date:
        return self._today or self.crm.today

    def form_title(self) -> str:
        return "New task" if self.task_id is None else "Edit task"

    def form_rows(self) -> ComposeResult:
        yield from self.row("title", "Title", Input(id="task-title", compact=True,
                                                    placeholder="What needs doing?"))
        yield from self.row("due date", "Due", Input(self.due.isoformat() if self.due else "",
                                                     id="task-due", compact=True,
                                                     placeholder=f"optional; {DATE_HINT}"))
        yield from self.row("priority", "Priority", Select(PRIORITIES, value="normal",
                                                          allow_blank=False, id="task-priority",
                                                          compact=True))
        yield from self.row("assignee", "Who", Select([(Text("Nobody"), NOBODY)], value=NOBODY,
                                                     allow_blank=False, id="task-assignee",
                                                     compact=True))
        yield from self.row("notes", "Notes", TextArea(id="task-notes", compact=True))
        yield from self.row("linked record", "About",
                            Checkbox("Not linked to a record", False, id="task-link",
                                     compact=True, disabled=True))

    # ------------------------------------------------------------------ loading

    def prepare(self) -> None:
        self.query_one(".form-dialog").loading = True
        self.run_worker(self._load, thread=True, exclusive=True, group="task-dialog-load",
                        exit_on_error=False)

    def _load(self) -> None:
        try:
            task = task_view(self.db, self.task_id) if self.task_id is not None else None
        except NotFound as exc:
            self.app.call_from_thread(self._gone, exc)
            return
        link = self.link
        if task is not None:
            link = (task.linked_type, task.linked_id) if task.linked_type and task.linked_id else None
        record = linked_records(self.db, [link])[link] if link is not None else None
        staff = list_users(self.db)
        self.app.call_from_thread(self._populate, _Loaded(task, record, staff))

    def _gone(self, error: NotFound) -> None:
        self.notice(str(error), severity="error")
        self.dismiss(None)

    def _populate(self, loaded: _Loaded) -> None:
        self.loaded = loaded
        task = loaded.task
        assignee = self.query_one("#task-assignee", Select)
        people = [(Text("Nobody"), NOBODY)] + [(render.plain(u.name), u.id) for u in loaded.staff]
        if task is not None and task.assignee_id and all(u.id != task.assignee_id
                                                         for u in loaded.staff):
            people.append((Text("(deactivated staff member)"), task.assignee_id))
        assignee.set_options(people)
        assignee.value = task.assignee_id if task and task.assignee_id else NOBODY
        if task is not None:
            self.query_one("#task-title", Input).value = render.one_line(task.title)
            self.query_one("#task-due", Input).value = (
                task.due_date.isoformat() if task.due_date else "")
            self.query_one("#task-priority", Select).value = task.priority
            self.query_one("#task-notes", TextArea).text = task.notes
        box = self.query_one("#task-link", Checkbox)
        if loaded.link is not None:
            box.label = render.plain(f"Link to {loaded.link.label}")
            box.value = True
            box.disabled = False
        self.query_one(".form-dialog").loading = False
        self.ready()

    # ------------------------------------------------------------------ saving

    def check_field(self, widget_id: str, value: str) -> None:
        if widget_id == "task-due":
            parse_day(value, self.today, "due date")

    def gather(self) -> TaskData:
        due = parse_day(self.text("task-due"), self.today, "due date")
        priority = self.query_one("#task-priority", Select).value
        who = self.query_one("#task-assignee", Select).value
        linked = self.loaded.link if self.loaded is not None else None
        keep_link = linked is not None and self.query_one("#task-link", Checkbox).value
        return TaskData(
            title=self.text("task-title"),
            notes=self.query_one("#task-notes", TextArea).text,
            due_date=due,
            priority=str(priority),
            assignee_id=who if isinstance(who, int) and who != NOBODY else None,
            linked_type=linked.kind if keep_link and linked else None,
            linked_id=linked.id if keep_link and linked else None,
        )

    def submit(self, payload: TaskData) -> int:
        if self.task_id is None:
            return tasks.create_task(self.db, payload)
        version = self.loaded.task.version if self.loaded and self.loaded.task else None
        tasks.edit_task(self.db, self.task_id, payload,
                        expected_version=self.draft_version or version)
        return self.task_id

    def succeeded(self, result: int, payload: TaskData) -> None:
        title = render.one_line(payload.title)
        if self.task_id is not None:
            self.notice(f"Saved the task “{title}”.")
        else:
            due = payload.due_date
            when = f", due {due.isoformat()}" if isinstance(due, dt.date) else ""
            self.notice(f"Added the task “{title}”{when}.")
        self.dismiss(result)

    # ------------------------------------------------------------------ drafts

    def draft_record_id(self) -> int | None:
        return self.task_id

    @classmethod
    def for_draft(cls, draft: Draft) -> TaskDialog:
        kind, ident = draft.values.get("link_kind"), _draft_int(draft.values.get("link_id"))
        link = (kind, ident) if isinstance(kind, str) and ident is not None else None
        return cls(task_id=draft.record_id, link=link)

    def draft_values(self) -> dict[str, Any]:
        who = self.query_one("#task-assignee", Select).value
        linked = self.loaded.link if self.loaded is not None else None
        return {
            "version": self.loaded.task.version if self.loaded and self.loaded.task else None,
            "title": self.text("task-title"),
            "due": self.text("task-due"),
            "priority": self.query_one("#task-priority", Select).value,
            "assignee": who if isinstance(who, int) else NOBODY,
            "notes": self.query_one("#task-notes", TextArea).text,
            "linked": self.query_one("#task-link", Checkbox).value,
            "link_kind": linked.kind if linked else None,
            "link_id": linked.id if linked else None,
        }

    async def apply_draft(self, values: dict[str, Any]) -> None:
        def text(key: str) -> str:
            value = values.get(key)
            return value if isinstance(value, str) else ""

        self.query_one("#task-title", Input).value = text("title")
        self.query_one("#task-due", Input).value = text("due")
        self.query_one("#task-notes", TextArea).text = text("notes")
        for widget_id, value in (("#task-priority", text("priority") or "normal"),
                                 ("#task-assignee", _draft_int(values.get("assignee")) or NOBODY)):
            with contextlib.suppress(InvalidSelectValueError):  # hand-edited, or staff gone
                self.query_one(widget_id, Select).value = value
        box = self.query_one("#task-link", Checkbox)
        if not box.disabled:
            box.value = values.get("linked") is not False
        version = _draft_int(values.get("version"))
        task = self.loaded.task if self.loaded else None
        if task is not None and version is not None and version != task.version:
            # keep the version the draft was made from: saving over the newer change is
            # refused with the usual message instead of silently undoing it
            self.draft_version = version
            self.notice("This task was changed elsewhere after your draft was kept; saving it "
                        "will be refused. Copy what you need, then reopen the task.",
                        severity="warning")
        self.query_one("#task-title").focus()


def _draft_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def quick_task_dialog(screen: Any, today: dt.date) -> TaskDialog:
    """The task dialog for ``t`` on ``screen``: linked to what it shows, due on the day it
    shows (the schedule's ``task_due()``), if any."""
    due_of = getattr(screen, "task_due", None)
    due = due_of() if callable(due_of) else None
    return TaskDialog(link=current_record(screen), today=today, due=due)
