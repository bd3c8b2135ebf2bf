"""Dialogs of the jobs section: schedule visits (a rule, with a live preview of the dates it
makes), complete a visit with its service log, and a note dialog the proposal and job
screens use to ask for a reason or the client's requested changes.

Each dialog gathers input and checks it with the core's own parsers as the user types; the
service call stays with the screen that opened the dialog, which shows a refusal. Decisions
where the issue is silent: times are typed as ``08:30``, dates as ``2026-03-31``; a
repeating schedule ends either on a date or after a number of visits (the rule needs exactly
one, so typing one clears the other); the preview lists at most ``PREVIEW_LIMIT`` dates and
then says how many more; the time spent on a visit starts at its scheduled length.

The schedule fields (ids ``s-date`` … ``s-assignee``), how they are read and their preview
are module functions (:func:`schedule_rows`, :func:`read_schedule`,
:func:`schedule_preview`, ...) so the new-job form (:mod:`tui.screens.job_form`) shows the
same fields with the same checks as this dialog.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, TextArea

from core import validate
from core.errors import ValidationError
from core.jobs import ScheduleData, ServiceLogData, preview_schedule
from core.recurrence import Rule
from core.staff import UserRow
from tui import render
from tui.screens.base import CrmModal

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


class _FormDialog(CrmModal[object]):
    """Shared behaviour: ctrl+s confirms, escape cancels, errors under the field named."""

    CSS_PATH = ["dialogs.tcss", "visit_dialogs.tcss"]
    TEXT_ENTRY = True
    FIELDS: dict[str, str] = {}  # validation field -> widget id

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")

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

    def action_cancel(self) -> None:
        self.dismiss(None)


# --------------------------------------------------------------------------- a note


class NoteDialog(_FormDialog):
    """Ask for a piece of text (a reason, the changes a client asked for). Dismisses with the
    text, or None when cancelled; a required note cannot be confirmed empty."""

    BINDINGS = [
        Binding("ctrl+s", "confirm", "Confirm", id="note_dialog.confirm"),
        Binding("escape", "cancel", "Cancel", id="note_dialog.cancel"),
    ]
    FIELDS = {"note": "note-text"}

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
        self.dismiss(text)


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
        self.dismiss(ScheduleRequest(data))


# --------------------------------------------------------------------------- complete a visit


@dataclass(frozen=True)
class CompletionRequest:
    log: ServiceLogData


class CompleteVisitDialog(_FormDialog):
    """Write what happened at a visit: time spent, notes, materials, who did it. Dismisses
    with a :class:`CompletionRequest` (not yet saved) or None."""

    BINDINGS = [
        Binding("ctrl+s", "confirm", "Complete", id="complete_dialog.confirm"),
        Binding("escape", "cancel", "Cancel", id="complete_dialog.cancel"),
    ]
    FIELDS = {"time spent": "l-minutes", "notes": "l-notes", "materials": "l-materials",
              "technician": "l-technician", "date": "l-date"}

    def __init__(self, visit_label: str, minutes: int, staff: Sequence[UserRow],
                 technician_id: int | None, today: dt.date) -> None:
        super().__init__()
        self.visit_label, self.minutes = visit_label, minutes
        self.staff, self.technician_id, self.today = list(staff), technician_id, today

    def compose(self) -> ComposeResult:
        known = {u.id for u in self.staff}
        with Vertical(classes="dialog complete-dialog"):
            yield Label(f"Complete visit: {render.one_line(self.visit_label)}", markup=False,
                        classes="dialog-title")
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
        try:
            log = self.request()
        except ValidationError as exc:
            self.show_error(exc)
            return
        self.dismiss(CompletionRequest(log))
