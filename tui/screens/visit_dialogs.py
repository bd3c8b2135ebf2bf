"""Dialogs of the jobs section: schedule visits (a rule, with a live preview of the dates it
makes), complete a visit with its service log, and a note dialog the proposal and job
screens use to ask for a reason or the client's requested changes.

Each dialog gathers input and checks it with the core's own parsers as the user types; the
service call stays with the screen that opened the dialog, which shows a refusal, except
the service log: :class:`CompleteVisitDialog` completes the visit itself and stays open
with the reason when that is refused, so what was typed is never lost.

No lost edits (as every form): escape on a dialog with something typed asks before
discarding it, and an open dialog counts as an open form, so quitting over it asks too.
Decisions where the issue is silent: only the service log keeps a draft (its notes and
materials are worth keeping; the schedule is a few fields picked in seconds, and a reason
or requested-changes note is a step of an action on a proposal or job that a restore at
start could not replay in its context). Other decisions: times are typed as ``08:30``, dates as ``2026-03-31``; a
repeating schedule ends either on a date or after a number of visits (the rule needs exactly
one, so typing one clears the other); the preview lists at most ``PREVIEW_LIMIT`` dates and
then says how many more; the time spent on a visit starts at its scheduled length.

The schedule fields (ids ``s-date`` … ``s-assignee``), how they are read and their preview
are module functions (:func:`schedule_rows`, :func:`read_schedule`,
:func:`schedule_preview`, ...) so the new-job form (:mod:`tui.screens.job_form`) shows the
same fields with the same checks as this dialog.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.events import Mount
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, TextArea
from textual.widgets._select import InvalidSelectValueError
from textual.worker import Worker, WorkerState

from core import jobs, validate
from core.errors import DomainError, NotFound, ValidationError
from core.jobs import ScheduleData, ServiceLogData, preview_schedule
from core.models import Visit
from core.recurrence import Rule
from core.staff import UserRow, list_users
from tui import render
from tui.drafts import Draft, DraftForm
from tui.screens.base import CrmModal
from tui.screens.cancel_form import cancel_form
from tui.screens.invoice_dialogs import field_values

PREVIEW_LIMIT = 8
NOBODY = 0  # the Select value of "Nobody yet" (user ids start at 1)
REPEATS = (
    ("once", "Once"),
    ("weekly", "Every week"),
    ("every_n_weeks", "Every N weeks"),
    ("monthly", "Every N months"),
)


def _field_row(label: str, *widgets: Widget) -> Horizontal:
    return Horizontal(Label(label, classes="field-label", markup=False), *widgets,
                      classes="form-row")


def staff_options(staff: Sequence[UserRow]) -> list[tuple[Text, int]]:
    return [(Text("Nobody yet"), NOBODY)] + [(render.plain(u.name), u.id) for u in staff]


def parse_minutes(text: str, field: str) -> int:
    """``90``, ``1:30`` or ``1h30`` as minutes; raises ValidationError naming ``field``."""
    raw = render.one_line(text).lower().replace(" ", "")
    if not raw:
        raise ValidationError(field, "is required (in minutes, e.g. 90 or 1:30)")
    hours, sep, rest = raw.replace("h", ":").partition(":")
    try:
        if sep:
            minutes = int(hours or "0") * 60 + int(rest.rstrip("m") or "0")
        else:
            minutes = int(raw.rstrip("m"))
    except ValueError:
        raise ValidationError(field, f"'{raw[:20]}' is not a number of minutes like 90 or 1:30") from None
    if minutes < 0:
        raise ValidationError(field, "must not be negative")
    return minutes


class _FormDialog(DraftForm, CrmModal[object]):
    """Shared behaviour: ctrl+s confirms, escape cancels (asking first when something was
    typed), errors under the field named. An open dialog is one of the app's open forms, so
    quitting over its unsaved text asks too; one with a ``DRAFT_KIND`` keeps that text as a
    draft while it is dirty (:mod:`tui.drafts`)."""

    CSS_PATH = ["dialogs.tcss", "visit_dialogs.tcss"]
    TEXT_ENTRY = True
    FIELDS: dict[str, str] = {}  # validation field -> widget id
    WHAT = "changes"  # "Discard this <WHAT>?"

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")
        self._initial: tuple[object, ...] | None = None  # what the fields started with

    @on(Mount)
    def _opened(self) -> None:
        self.crm.open_forms.add(self)
        # after the subclass's own on_mount has filled the fields in
        self.call_after_refresh(self.prepare)

    def on_unmount(self) -> None:
        self.crm.open_forms.discard(self)

    def prepare(self) -> None:
        """Fill the fields; a dialog that reads first does so in a worker, then calls
        :meth:`ready`."""
        self.ready()

    def ready(self) -> None:
        """The fields hold their starting values: from here on, changing them makes the
        dialog dirty (and, with a draft kind and a record, kept as a draft)."""
        self._initial = field_values(self)
        record_id = self.draft_record_id()
        if self.DRAFT_KIND and record_id is not None:
            self.call_later(self.draft_ready, record_id)

    def draft_record_id(self) -> int | None:
        """The record the dialog's draft goes back onto; None keeps no draft."""
        return None

    @property
    def is_dirty(self) -> bool:
        if self._draft.pending is not None:  # a restored draft not yet put back
            return True
        return self._initial is not None and field_values(self) != self._initial

    def show_error(self, error: ValidationError | Exception) -> None:
        message = render.error_text(error)
        widget_id = self.FIELDS.get(getattr(error, "field", ""), "")
        label = self.query_one("#dialog-error", Label)
        label.update(render.content(message))
        label.display = True
        for widget in self.query(".-error"):
            widget.set_class(False, "-error")
        if widget_id:
            target = self.query_one(f"#{widget_id}")
            target.set_class(True, "-error")
            target.focus()

    def clear_error(self) -> None:
        self.query_one("#dialog-error", Label).display = False
        for widget in self.query(".-error"):
            widget.set_class(False, "-error")

    def finish(self, result: object) -> None:
        """Confirmed: nothing left unsaved here (the opener saves ``result``, or the dialog
        saved it already)."""
        self._initial = field_values(self)
        self.draft_finished()
        self.dismiss(result)

    def action_cancel(self) -> None:
        cancel_form(self, f"Discard this {self.WHAT}?")


# --------------------------------------------------------------------------- a note


class NoteDialog(_FormDialog):
    """Ask for a piece of text (a reason, the changes a client asked for). Dismisses with the
    text, or None when cancelled; a required note cannot be confirmed empty."""

    BINDINGS = [
        Binding("ctrl+s", "confirm", "Confirm", id="note_dialog.confirm"),
        Binding("escape", "cancel", "Cancel", id="note_dialog.cancel"),
    ]
    FIELDS = {"note": "note-text"}
    WHAT = "note"

    def __init__(self, title: str, prompt: str, *, confirm: str = "Confirm",
                 required: bool = False) -> None:
        super().__init__()
        self.title_text, self.prompt, self.confirm_label = title, prompt, confirm
        self.required = required

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, markup=False, classes="dialog-title")
            yield Label(self.prompt, markup=False, classes="dialog-question")
            yield TextArea(id="note-text", compact=True)
            yield Label("", id="dialog-error", classes="field-error", markup=False)
            save = self.crm.key_for("note_dialog.confirm", "ctrl+s")
            yield Label(f"{save} {self.confirm_label.lower()} · escape cancels", markup=False,
                        classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#note-text").focus()

    def action_confirm(self) -> None:
        text = self.query_one("#note-text", TextArea).text
        if self.required and not text.strip():
            self.show_error(ValidationError("note", "write something first"))
            return
        self.finish(text)


# --------------------------------------------------------------------------- schedule

# validation field -> widget id, for the schedule fields below
SCHEDULE_FIELDS = {
    "start date": "s-date", "start time": "s-time", "duration": "s-duration",
    "repeat": "s-repeat", "interval": "s-interval", "until": "s-until", "count": "s-count",
    "ends": "s-until", "assignee": "s-assignee",
}


def schedule_rows(start: dt.date | None, staff: Sequence[UserRow]) -> list[Horizontal]:
    """The fields of a schedule rule, starting on ``start`` (None: the date left empty)."""
    return [
        _field_row(
            "Date", Input(start.isoformat() if start else "", id="s-date", compact=True,
                          classes="date", placeholder="YYYY-MM-DD"),
            Label("Time", classes="field-label", markup=False),
            Input("09:00", id="s-time", compact=True, classes="time"),
            Label("Minutes", classes="field-label", markup=False),
            Input("60", id="s-duration", compact=True, classes="time"),
        ),
        _field_row(
            "Repeat", Select([(Text(t), k) for k, t in REPEATS], value="once",
                             allow_blank=False, id="s-repeat", compact=True),
            Label("Every", classes="field-label", markup=False),
            Input("1", id="s-interval", compact=True, classes="tiny"),
        ),
        _field_row(
            "Until", Input("", id="s-until", compact=True, classes="date",
                           placeholder="YYYY-MM-DD"),
            Label("or visits", classes="field-label", markup=False),
            Input("", id="s-count", compact=True, classes="tiny", placeholder="n"),
        ),
        _field_row(
            "Who", Select(staff_options(staff), value=NOBODY, allow_blank=False,
                          id="s-assignee", compact=True),
        ),
    ]


def read_schedule(root: DOMNode) -> ScheduleData:
    """The schedule the fields under ``root`` describe; raises ValidationError naming the field."""
    repeat = root.query_one("#s-repeat", Select).value
    kind = repeat if isinstance(repeat, str) else "once"
    until = count = None
    interval = 1
    if kind != "once":
        if kind != "weekly":
            interval = validate.positive_int(root.query_one("#s-interval", Input).value or "1",
                                             "interval", maximum=52)
        until = validate.parse_date(root.query_one("#s-until", Input).value, "until")
        count_text = root.query_one("#s-count", Input).value.strip()
        count = validate.positive_int(count_text, "count", maximum=500) if count_text else None
    assignee = root.query_one("#s-assignee", Select).value
    start_date = validate.parse_date(root.query_one("#s-date", Input).value, "start date",
                                     required=True)
    assert start_date is not None  # required=True raises instead
    return ScheduleData(
        start_date=start_date,
        start_time=root.query_one("#s-time", Input).value,
        duration_minutes=parse_minutes(root.query_one("#s-duration", Input).value, "duration"),
        rule=Rule(kind, interval, until, count),
        assignee_id=assignee if isinstance(assignee, int) and assignee != NOBODY else None,
    )


def schedule_end_typed(root: DOMNode, event: Input.Changed) -> None:
    """An end date and a number of visits exclude each other: typing one clears the other."""
    if event.value.strip():
        other = {"s-until": "#s-count", "s-count": "#s-until"}.get(event.input.id or "")
        if other:
            root.query_one(other, Input).value = ""


def sync_repeat_fields(root: DOMNode) -> None:
    """Only a repeating rule has an end; only every N weeks/months an interval."""
    repeat = root.query_one("#s-repeat", Select).value
    recurring = repeat not in ("once", Select.NULL)
    for widget_id in ("#s-until", "#s-count"):
        root.query_one(widget_id).disabled = not recurring
    root.query_one("#s-interval").disabled = repeat not in ("every_n_weeks", "monthly")


def preview_text(starts: Sequence[dt.datetime]) -> Text:
    """``N visits:`` and the first ``PREVIEW_LIMIT`` starts, then how many more."""
    lines = Text(no_wrap=True, overflow="ellipsis")
    word = "visit" if len(starts) == 1 else "visits"
    lines.append(f"{len(starts)} {word}:\n", style="bold")
    for at in starts[:PREVIEW_LIMIT]:
        lines.append(f"  {at:%a %Y-%m-%d %H:%M}\n")
    if len(starts) > PREVIEW_LIMIT:
        lines.append(f"  … and {len(starts) - PREVIEW_LIMIT} more, the last on "
                     f"{starts[-1]:%a %Y-%m-%d}", style="dim")
    return lines


def schedule_preview(root: DOMNode) -> tuple[Text, bool]:
    """The preview of the fields under ``root``, and whether they make a valid schedule."""
    try:
        starts = preview_schedule(read_schedule(root))
    except ValidationError as exc:
        return Text(f"Preview: {render.error_text(exc)}", style="dim"), False
    return preview_text(starts), True


@dataclass(frozen=True)
class ScheduleRequest:
    data: ScheduleData


class ScheduleDialog(_FormDialog):
    """Schedule one visit or a repeating series, previewing the dates as the rule is typed.
    Dismisses with a :class:`ScheduleRequest` (not yet saved) or None."""

    BINDINGS = [
        Binding("ctrl+s", "confirm", "Schedule", id="schedule_dialog.confirm"),
        Binding("escape", "cancel", "Cancel", id="schedule_dialog.cancel"),
    ]
    FIELDS = SCHEDULE_FIELDS
    WHAT = "schedule"

    def __init__(self, job_label: str, staff: Sequence[UserRow], today: dt.date) -> None:
        super().__init__()
        self.job_label, self.staff, self.today = job_label, list(staff), today

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog schedule-dialog"):
            yield Label(f"Schedule visits: {render.one_line(self.job_label)}", markup=False,
                        classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield from schedule_rows(self.today, self.staff)
                yield Label("", id="dialog-error", classes="field-error", markup=False)
                yield Static("", id="s-preview")
            save = self.crm.key_for("schedule_dialog.confirm", "ctrl+s")
            yield Label(f"{save} schedules · escape cancels", markup=False, classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#s-date").focus()
        self._refresh()

    def request(self) -> ScheduleData:
        """The schedule the fields describe; raises ValidationError naming the field."""
        return read_schedule(self)

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self, event: Input.Changed | Select.Changed) -> None:
        if isinstance(event, Input.Changed):
            schedule_end_typed(self, event)
        self._refresh()

    def _refresh(self) -> None:
        sync_repeat_fields(self)
        text, ok = schedule_preview(self)
        self.query_one("#s-preview", Static).update(text)
        if ok:
            self.clear_error()

    def action_confirm(self) -> None:
        try:
            data = self.request()
            preview_schedule(data)  # the rule's own checks (an end, the visit cap)
        except ValidationError as exc:
            self.show_error(exc)
            return
        self.finish(ScheduleRequest(data))


# --------------------------------------------------------------------------- complete a visit


@dataclass(frozen=True)
class CompletionRequest:
    log: ServiceLogData
    job_id: int | None = None  # the visit's job, when the dialog knows it


@dataclass(frozen=True)
class _Loaded:
    visit: Visit | None  # None: the visit is gone
    job_label: str
    staff: list[UserRow]


class CompleteVisitDialog(_FormDialog):
    """Write what happened at a visit: time spent, notes, materials, who did it, and complete
    the visit (``visit_id``) with it. Dismisses with a :class:`CompletionRequest` once the
    visit is completed (saved here), or None when cancelled.

    Confirmed, the dialog completes the visit itself in a worker, expecting the version it
    was opened with. When that is refused (the visit was changed, cancelled or completed
    elsewhere meanwhile) it stays open with the service's reason under the fields and keeps
    what was typed and its draft; escape still asks before discarding it. Only a completed
    visit closes it (the job page under it then reloads).

    Its unsaved text is kept as a draft (kind ``visit_log``, one per visit). A draft restored
    at the next start reopens this dialog for the same visit, read afresh, with the minutes,
    date, technician, notes and materials typed; confirmed, it completes the visit the same
    way and then shows the job (there is no job page under it). It completes the visit as it
    is now: when the visit changed since the draft was kept (moved, reassigned), a notice
    says so and the title shows its current date.
    """

    BINDINGS = [
        Binding("ctrl+s", "confirm", "Complete", id="complete_dialog.confirm"),
        Binding("escape", "cancel", "Cancel", id="complete_dialog.cancel"),
    ]
    FIELDS = {"time spent": "l-minutes", "notes": "l-notes", "materials": "l-materials",
              "technician": "l-technician", "date": "l-date"}
    WHAT = "service log"
    DRAFT_KIND = "visit_log"
    DRAFT_MODE = "jobs"
    DRAFT_NOUN = "service log"

    def __init__(self, visit_label: str, minutes: int, staff: Sequence[UserRow],
                 technician_id: int | None, today: dt.date | None = None, *,
                 visit_id: int | None = None, job_id: int | None = None,
                 version: int | None = None, job_label: str = "") -> None:
        super().__init__()
        self.visit_label, self.minutes = visit_label, minutes
        self.staff, self.technician_id, self._today = list(staff), technician_id, today
        self.visit_id, self.job_id, self.version = visit_id, job_id, version
        self.job_label = job_label
        self.restored = False  # opened from a draft at start: loads the visit, saves itself
        self._loaded_version: int | None = None  # the visit's version, read on restore
        self._saving = False
        self.refused = False  # a save was refused: the opener's view of the visit is stale

    @property
    def today(self) -> dt.date:
        return self._today or self.crm.today

    def _title(self) -> str:
        # over the job page the job is known; a restored draft opens over the jobs list
        shown = self.restored and self.job_label
        job = f" · {render.one_line(self.job_label)}" if shown else ""
        return f"Complete visit: {render.one_line(self.visit_label)}{job}"

    def compose(self) -> ComposeResult:
        known = {u.id for u in self.staff}
        with Vertical(classes="dialog complete-dialog"):
            yield Label(self._title(), markup=False, classes="dialog-title", id="l-title")
            with VerticalScroll(classes="dialog-body"):
                yield _field_row(
                    "Minutes", Input(str(self.minutes), id="l-minutes", compact=True,
                                     classes="time"),
                    Label("Date", classes="field-label", markup=False),
                    Input(self.today.isoformat(), id="l-date", compact=True, classes="date"),
                )
                yield _field_row(
                    "Who", Select(staff_options(self.staff),
                                  value=self.technician_id if self.technician_id in known else NOBODY,
                                  allow_blank=False, id="l-technician", compact=True),
                )
                yield _field_row("Notes", TextArea(id="l-notes", compact=True))
                yield _field_row("Materials", TextArea(id="l-materials", compact=True))
                yield Label("", id="dialog-error", classes="field-error", markup=False)
                yield self.draft_status()
            save = self.crm.key_for("complete_dialog.confirm", "ctrl+s")
            yield Label(f"{save} completes the visit · escape cancels", markup=False,
                        classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#l-minutes").focus()

    def request(self) -> ServiceLogData:
        technician = self.query_one("#l-technician", Select).value
        return ServiceLogData(
            minutes_spent=parse_minutes(self.query_one("#l-minutes", Input).value, "time spent"),
            notes=self.query_one("#l-notes", TextArea).text,
            materials=self.query_one("#l-materials", TextArea).text,
            technician_id=technician if isinstance(technician, int) and technician != NOBODY
            else None,
            logged_on=validate.parse_date(self.query_one("#l-date", Input).value, "date"),
        )

    @on(Input.Changed)
    def _changed(self) -> None:
        self.clear_error()

    def action_confirm(self) -> None:
        if self._saving or self._initial is None:
            return
        try:
            log = self.request()
        except ValidationError as exc:
            self.show_error(exc)
            return
        self._saving = True
        self.clear_error()
        self._complete(log)

    def action_cancel(self) -> None:
        if not self._saving:  # the save on its way decides whether the dialog closes
            super().action_cancel()

    # ------------------------------------------------------------------ a restored draft

    def prepare(self) -> None:
        if not self.restored:
            self.ready()
            return
        self.query_one(".complete-dialog").loading = True
        self.run_worker(self._load, thread=True, exclusive=True, group="complete-dialog-load",
                        exit_on_error=False)

    def _load(self) -> None:
        visit, job_label = None, self.job_label
        if self.job_id is not None:
            try:
                job = jobs.get(self.db, self.job_id)
            except NotFound:
                job = None
            if job is not None:
                job_label = f"{job.number} {job.title}"
                visit = next((v for v in job.visits if v.id == self.visit_id), None)
        staff = [u for u in list_users(self.db, include_inactive=True)
                 if u.active or (visit is not None and u.id == visit.assignee_id)]
        self.app.call_from_thread(self._populate, _Loaded(visit, job_label, staff))

    def _populate(self, loaded: _Loaded) -> None:
        visit = loaded.visit
        self.job_label, self.staff = loaded.job_label, loaded.staff
        technician = self.query_one("#l-technician", Select)
        technician.set_options(staff_options(loaded.staff))
        if visit is not None:
            self.visit_label = f"{visit.starts_at:%a %Y-%m-%d %H:%M}"
            self.minutes = int((visit.ends_at - visit.starts_at).total_seconds() // 60)
            self.query_one("#l-minutes", Input).value = str(self.minutes)
            if visit.assignee_id in {u.id for u in loaded.staff}:
                technician.value = visit.assignee_id
            self._loaded_version = visit.version
        self.query_one("#l-title", Label).update(self._title())
        self.query_one(".complete-dialog").loading = False
        self.ready()
        if visit is None:  # the save is refused with the service's reason
            self.notice("The visit of this draft was not found. Copy what you need from it.",
                        severity="warning")

    # ------------------------------------------------------------------ saving

    @work(thread=True, exclusive=True, group="complete-dialog", exit_on_error=False)
    def _complete(self, log: ServiceLogData) -> None:
        assert self.visit_id is not None  # both openers name the visit
        # over the job page: the visit as that page showed it; restored: as read afresh
        expected = self._loaded_version if self.restored else self.version
        try:
            jobs.complete_visit(self.db, self.visit_id, log, expected_version=expected,
                                today=self.crm.today)
        except DomainError as exc:
            self.app.call_from_thread(self._refused, exc)
            return
        self.app.call_from_thread(self._completed, log)

    def _refused(self, error: DomainError) -> None:
        self._saving = False
        self.refused = True
        self.show_error(error)
        self.notice(render.error_text(error), severity="error", title="Not done")

    def _completed(self, log: ServiceLogData) -> None:
        self._saving = False
        self.crm.note_data_changed()
        self.notice("Visit completed and its service log saved.")
        self.finish(CompletionRequest(log, self.job_id))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "complete-dialog":
            self._saving = False  # an unexpected failure: the app reports it; let them retry
        super().on_worker_state_changed(event)

    # ------------------------------------------------------------------ drafts

    def draft_record_id(self) -> int | None:
        return self.visit_id

    def draft_values(self) -> dict[str, Any]:
        technician = self.query_one("#l-technician", Select).value
        return {
            "job_id": self.job_id,
            "job": self.job_label,
            "visit": self.visit_label,
            "version": self.version,
            "minutes": self.query_one("#l-minutes", Input).value,
            "date": self.query_one("#l-date", Input).value,
            "technician": technician if isinstance(technician, int) else NOBODY,
            "notes": self.query_one("#l-notes", TextArea).text,
            "materials": self.query_one("#l-materials", TextArea).text,
        }

    def draft_label(self, values: dict[str, Any]) -> str:
        visit, job = values.get("visit"), values.get("job")  # the date first: titles are long
        return " · ".join(str(p) for p in (visit, job) if isinstance(p, str) and p)

    @classmethod
    def describe_draft(cls, draft: Draft) -> str | None:
        label = render.one_line(draft.label)[:70]
        return f"Service log for the visit “{label}”" if label else "Service log for a visit"

    @classmethod
    def for_draft(cls, draft: Draft) -> CompleteVisitDialog:
        values = draft.values
        text = {k: values.get(k) if isinstance(values.get(k), str) else ""
                for k in ("visit", "job")}
        dialog = cls(str(text["visit"]), 0, [], None, visit_id=draft.record_id,
                     job_id=_draft_int(values.get("job_id")),
                     version=_draft_int(values.get("version")), job_label=str(text["job"]))
        dialog.restored = True
        return dialog

    @classmethod
    def restored_form_closed(cls, app: Any, result: Any) -> None:
        if isinstance(result, CompletionRequest) and result.job_id is not None:
            open_job = getattr(app, "open_job", None)
            if open_job is not None:
                open_job(result.job_id)  # the completed visit and its log, on the job page

    async def apply_draft(self, values: dict[str, Any]) -> None:
        def text(key: str) -> str:
            value = values.get(key)
            return value if isinstance(value, str) else ""

        self.query_one("#l-minutes", Input).value = text("minutes")
        self.query_one("#l-date", Input).value = text("date") or self.today.isoformat()
        self.query_one("#l-notes", TextArea).text = text("notes")
        self.query_one("#l-materials", TextArea).text = text("materials")
        with contextlib.suppress(InvalidSelectValueError):  # hand-edited, or staff gone
            self.query_one("#l-technician", Select).value = (
                _draft_int(values.get("technician")) or NOBODY)
        kept, loaded = _draft_int(values.get("version")), self._loaded_version
        if loaded is not None and kept is not None and kept != loaded:
            self.notice("This visit was changed after your draft was kept: check its date "
                        "in the title before completing it.", severity="warning")
        self.query_one("#l-notes").focus()


def _draft_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
