"""A job made directly (not from a proposal), and the same form to edit a job.

``n`` on the jobs list or "New job" in the command palette opens :class:`JobFormScreen`;
``JobFormScreen(client_id=...)`` starts it for one client, ``JobFormScreen(job_id=...)``
edits a job. The form is laid out like the proposal editor's: the client found as you type
and the client's service address (:mod:`tui.screens.client_picking`, shared with the proposal
editor), title, description, billing, the line items with the discount on all
(:class:`tui.widgets.line_items.LineItemsEditor`) and, on a new job only, a first schedule
with the schedule dialog's own fields and live preview of the visit dates
(:mod:`tui.screens.visit_dialogs`).

``ctrl+s`` saves through :func:`core.jobs.create_job` (the job and its visits in one
transaction), then the job's page opens; an edit saves through :func:`core.jobs.edit_job`
with the version the form was opened with, so a save over someone else's newer change is
refused with the service's message. A refusal shows under the field it names and nothing is
written. Escape on a changed form asks first; unsaved changes are kept as a draft
(:mod:`tui.drafts`).

Decisions where the brief is silent:

- The schedule is optional: its date starts empty, and an empty date makes an unscheduled
  job whose visits are planned later (``v`` on its page).
- Billing follows the repeat choice (per visit for a repeating schedule, per job otherwise,
  as the service defaults it) until the user picks one.
- A job cannot move to another client (the service refuses it), so an edit shows the client
  without letting it change.
- An edit sends the lines only when the line table was changed, so the title of a job whose
  lines are already invoiced can still be corrected.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, TextArea
from textual.widgets.select import InvalidSelectValueError
from textual.worker import Worker, WorkerState, get_current_worker

from core import jobs, validate
from core.errors import DomainError, NotFound, ValidationError
from core.jobs import JobData, ScheduleData, preview_schedule
from core.lines import LineData, as_line_data
from core.lists import AddressRow, list_addresses
from core.models import Job
from core.overview import client_names
from core.staff import UserRow, list_users
from core.text import clean_text
from tui import render
from tui.drafts import DraftForm
from tui.screens.base import CrmScreen
from tui.screens.cancel_form import cancel_form
from tui.screens.client_picking import NO_ADDRESS, ClientPicking, form_row
from tui.screens.visit_dialogs import (
    NOBODY,
    REPEATS,
    SCHEDULE_FIELDS,
    read_schedule,
    schedule_end_typed,
    schedule_preview,
    schedule_rows,
    staff_options,
    sync_repeat_fields,
)
from tui.widgets.key_hints import KeyHints
from tui.widgets.line_items import LineChoices, LineItemsEditor, load_choices
from tui.widgets.section_bar import SectionBar

BILLING = (
    ("per_job", "Per job", "one invoice for the whole job"),
    ("per_visit", "Per visit", "each visit is invoiced once it is done"),
)
# validation field name -> the widget that shows it
FIELDS = {
    "client": "j-client",
    "service address": "j-address",
    "title": "j-title",
    "description": "j-desc",
    "billing": "j-billing",
    **SCHEDULE_FIELDS,
}
NARROW_WIDTH = 90
SCHEDULE_INPUTS = ("s-date", "s-time", "s-duration", "s-interval", "s-until", "s-count")


@dataclass(frozen=True)
class _Loaded:
    job: Job | None
    client_id: int | None
    client_name: str
    addresses: list[AddressRow]
    choices: LineChoices
    lines: list[LineData]
    staff: list[UserRow]


class JobFormScreen(DraftForm, ClientPicking, CrmScreen[int | None]):
    """Dismisses with the job's id once saved (a new job's page then opens), or None."""

    DRAFT_KIND = "job"
    DRAFT_MODE = "jobs"
    DRAFT_NOUN = "job"
    CLIENT_FIELD = "j-client"
    ADDRESS_FIELD = "j-address"

    CSS_PATH = "job_form.tcss"
    HELP_TITLE = "Job form"
    TEXT_ENTRY = True
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="job_form.save"),
        Binding("escape", "cancel", "Back", id="job_form.cancel"),
    ]

    def __init__(self, job_id: int | None = None, *, client_id: int | None = None) -> None:
        super().__init__()
        self.job_id = job_id
        self.job: Job | None = None
        self.client_id = client_id
        self._initial: tuple[object, ...] | None = None
        self._initial_lines: tuple[object, ...] | None = None
        self._saving = False
        self._billing_auto = job_id is None  # billing follows the repeat until picked

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield SectionBar("jobs")
        with VerticalScroll(id="job-form"):
            with Horizontal(classes="title-row"):
                yield Label("New job" if self.job_id is None else "Edit job",
                            id="form-title", markup=False)
                yield self.draft_status()
            yield Label("", id="form-error", classes="field-error", markup=False)
            yield from self.client_rows()
            yield from form_row("Title", Input(id="j-title", compact=True,
                                               placeholder="e.g. Weekly office clean"))
            yield from form_row("Details", TextArea(id="j-desc", compact=True))
            with Horizontal(classes="form-row"):
                yield Label("Billing", classes="field-label", markup=False)
                yield Select([(Text(label), key) for key, label, _hint in BILLING],
                             value="per_job", allow_blank=False, id="j-billing", compact=True)
                yield Label("", id="j-billing-hint", markup=False)
            yield Label("", id="j-billing-error", classes="field-error", markup=False)
            yield Label("Line items", classes="form-section", markup=False)
            yield LineItemsEditor(id="j-lines")
            if self.job_id is None:
                yield Label("First visits", classes="form-section", markup=False)
                with Horizontal(id="j-schedule"):
                    with Vertical(id="j-schedule-fields"):
                        yield from schedule_rows(None, [])
                        yield Label("", id="schedule-error", classes="field-error",
                                    markup=False)
                    yield Static("", id="s-preview")
        yield KeyHints()

    def on_mount(self) -> None:
        self.crm.open_forms.add(self)
        for label in self.query(".field-error"):
            label.display = False
        self.query_one("#j-client-matches").display = False
        self._show_billing_hint()
        self.query_one("#job-form").loading = True
        self._load()

    def on_unmount(self) -> None:
        self.crm.open_forms.discard(self)

    def on_resize(self) -> None:
        # below 90 columns the preview goes under the fields: beside them it would be cut
        for schedule in self.query("#j-schedule"):
            schedule.set_class(self.size.width < NARROW_WIDTH, "-narrow")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save":
            return self._initial is not None
        return True

    # ------------------------------------------------------------------ loading

    @work(thread=True, exclusive=True, group="job-form-load", exit_on_error=False)
    def _load(self) -> None:
        db = self.db
        job = None
        try:
            if self.job_id is not None:
                job = jobs.get(db, self.job_id)
        except NotFound as exc:
            self.app.call_from_thread(self._gone, exc)
            return
        client_id = job.client_id if job is not None else self.client_id
        name, addresses = "", []
        if client_id is not None:
            name = client_names(db, [client_id]).get(client_id, "")
            if not name:  # a client that is gone: pick another
                client_id = None
            else:
                addresses = list_addresses(db, client_id=client_id, limit=200).rows
        lines = [as_line_data(row) for row in job.lines] if job is not None else []
        staff = list_users(db) if job is None else []
        loaded = _Loaded(job, client_id, name, addresses, load_choices(db, lines), lines, staff)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._populate, loaded)

    def _gone(self, error: NotFound) -> None:
        self.notice(str(error), severity="error")
        self.draft_finished()  # a draft of a job that is gone cannot be saved
        self.dismiss(None)

    async def _populate(self, loaded: _Loaded) -> None:
        job = loaded.job
        editor = self.query_one(LineItemsEditor)
        self.client_id = loaded.client_id
        if loaded.client_id is not None:
            self._set_client_text(loaded.client_name)
        self._show_addresses(loaded.addresses, job.address_id if job else None)
        if job is None:
            await editor.load(loaded.choices)
            self.query_one("#s-assignee", Select).set_options(staff_options(loaded.staff))
            self.query_one("#s-assignee", Select).value = NOBODY
            self._refresh_schedule()
        else:
            self.job = job
            title = Text(f"Edit job {job.number}", style="bold", end="")
            self.query_one("#form-title", Label).update(title)
            self.query_one("#j-client", Input).disabled = True  # a job stays with its client
            self.query_one("#j-title", Input).value = render.one_line(job.title)
            self.query_one("#j-desc", TextArea).text = clean_text(job.description)
            self.query_one("#j-billing", Select).value = job.billing
            await editor.load(loaded.choices, loaded.lines, job.discount_kind,
                              job.discount_value)
        self._show_billing_hint()
        self.query_one("#job-form").loading = False
        self._initial = self._values()
        self._initial_lines = editor.values()
        self.refresh_bindings()
        self.query_one(KeyHints).refresh_hints()
        self.query_one("#j-client" if self.client_id is None else "#j-title").focus()
        await self.draft_ready(self.job_id)

    # ------------------------------------------------------------------ state

    def _schedule_values(self) -> dict[str, str]:
        if self.job_id is not None:
            return {}
        values = {widget_id: self.query_one(f"#{widget_id}", Input).value
                  for widget_id in SCHEDULE_INPUTS}
        for widget_id in ("s-repeat", "s-assignee"):
            value = self.query_one(f"#{widget_id}", Select).value
            values[widget_id] = str(value) if value is not Select.NULL else ""
        return values

    def _values(self) -> tuple[object, ...]:
        return (
            self.client_id,
            self.query_one("#j-address", Select).value,
            self.query_one("#j-title", Input).value,
            self.query_one("#j-desc", TextArea).text,
            self.query_one("#j-billing", Select).value,
            self.query_one(LineItemsEditor).values(),
            tuple(sorted(self._schedule_values().items())),
        )

    @property
    def is_dirty(self) -> bool:
        return self._initial is not None and self._values() != self._initial

    def gather(self) -> tuple[JobData, ScheduleData | None]:
        """What the form says, as the service's input; raises ValidationError on bad syntax."""
        client_id = self.picked_client()
        title = self.query_one("#j-title", Input).value
        validate.required_line(title, "title", 300)  # the service's check, before the lines'
        editor = self.query_one(LineItemsEditor)
        changed_lines = self.job is None or editor.values() != self._initial_lines
        lines = editor.lines() if changed_lines else None
        if self.job is not None and not changed_lines:
            discount_kind, discount_value = self.job.discount_kind, self.job.discount_value
        else:
            discount_kind, discount_value = editor.discount()
        billing = self.query_one("#j-billing", Select).value
        data = JobData(
            client_id=client_id,
            title=title,
            address_id=self.picked_address(),
            description=self.query_one("#j-desc", TextArea).text,
            lines=lines,
            billing=billing if isinstance(billing, str) else None,
            discount_kind=discount_kind,
            discount_value=discount_value,
        )
        schedule = None
        if self.job_id is None and self.query_one("#s-date", Input).value.strip():
            schedule = read_schedule(self)
            preview_schedule(schedule)  # the rule's own checks (an end, the visit cap)
        return data, schedule

    # ------------------------------------------------------------------ errors

    def _show_field_error(self, widget_id: str, message: str) -> None:
        label_id = "schedule-error" if widget_id.startswith("s-") else f"{widget_id}-error"
        label = self.query_one(f"#{label_id}", Label)
        label.update(render.content(message))
        label.display = bool(message)
        if widget_id.startswith("s-"):
            for widget in self.query("#j-schedule-fields .-error"):
                widget.set_class(False, "-error")
        self.query_one(f"#{widget_id}").set_class(bool(message), "-error")

    def show_error(self, error: DomainError) -> None:
        field = getattr(error, "field", "")
        widget_id = FIELDS.get(field) if isinstance(error, ValidationError) else None
        if widget_id is not None and self.job_id is not None and widget_id.startswith("s-"):
            widget_id = None  # no schedule part in an edit
        self.show_form_error(error, widget_id, "job-form")

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Select.Changed)
    def _edited(self, event: Input.Changed | TextArea.Changed | Select.Changed) -> None:
        if isinstance(event, Input.Changed):
            widget: Widget = event.input
        elif isinstance(event, TextArea.Changed):
            widget = event.text_area
        else:
            widget = event.select
        widget_id = widget.id or ""
        if widget_id in FIELDS.values() and widget.has_class("-error"):
            self._show_field_error(widget_id, "")
        if widget_id == "j-billing":
            self._show_billing_hint()
            if self._billing_auto and isinstance(event, Select.Changed) and (
                    event.value != self._auto_billing()):
                self._billing_auto = False  # picked by hand: it no longer follows the repeat
        if widget_id.startswith("s-") and self.job_id is None:
            if isinstance(event, Input.Changed):
                schedule_end_typed(self, event)
            if widget_id == "s-repeat" and self._billing_auto:
                self.query_one("#j-billing", Select).value = self._auto_billing()
            self._refresh_schedule()

    def _auto_billing(self) -> str:
        repeat = self.query_one("#s-repeat", Select).value
        return "per_job" if repeat in ("once", Select.NULL) else "per_visit"

    def _show_billing_hint(self) -> None:
        billing = self.query_one("#j-billing", Select).value
        hint = next((h for key, _label, h in BILLING if key == billing), "")
        self.query_one("#j-billing-hint", Label).update(render.plain(hint, style="dim"))

    def _refresh_schedule(self) -> None:
        if self.job_id is not None:
            return
        sync_repeat_fields(self)
        preview = self.query_one("#s-preview", Static)
        if not self.query_one("#s-date", Input).value.strip():
            schedule = self.crm.key_for("job.schedule", "v")
            preview.update(render.plain(
                "No visits yet. Type a date to schedule them now, or leave it empty and "
                f"press {schedule} on the job's page later.", style="dim"))
            return
        text, _ok = schedule_preview(self)
        text.no_wrap = False  # beside the fields the "… and N more" line may need two rows
        preview.update(text)

    # ------------------------------------------------------------------ actions

    def action_save(self) -> None:
        if self._saving or self._initial is None:
            return
        self.query_one("#form-error").display = False
        try:
            data, schedule = self.gather()
        except ValidationError as exc:
            self.show_error(exc)
            return
        self._saving = True
        self._save(data, schedule, self.job.version if self.job else None)

    @work(thread=True, exclusive=True, group="job-form-save", exit_on_error=False)
    def _save(self, data: JobData, schedule: ScheduleData | None, version: int | None) -> None:
        try:
            if self.job_id is None:
                job_id = jobs.create_job(self.db, data, schedule, today=self.crm.today)
            else:
                job_id = self.job_id
                jobs.edit_job(self.db, job_id, data, expected_version=version)
            job = jobs.get(self.db, job_id)
        except DomainError as exc:
            self.app.call_from_thread(self._save_failed, exc)
            return
        self.app.call_from_thread(self._saved, job_id, job.number, len(job.visits))

    def _save_failed(self, error: DomainError) -> None:
        self._saving = False
        self.show_error(error)

    def _saved(self, job_id: int, number: str, visits: int) -> None:
        self._saving = False
        self._initial = self._values()
        self.draft_finished()
        self.crm.note_data_changed()
        if self.job_id is not None:
            self.notice(f"Saved job {number}.")
            self.dismiss(job_id)
            return
        if visits:
            self.notice(f"Created job {number} with {visits} visit{'s' if visits != 1 else ''}.")
        else:
            schedule = self.crm.key_for("job.schedule", "v")
            self.notice(f"Created job {number}. Press {schedule} there to schedule its visits.")
        self.dismiss(job_id)
        self.crm.open_job(job_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "job-form-save":
            self._saving = False
        super().on_worker_state_changed(event)

    def action_cancel(self) -> None:
        if not self.close_client_matches():
            cancel_form(self, "Discard your changes to this job?")

    # ------------------------------------------------------------------ drafts

    def draft_label(self, values: dict[str, Any]) -> str:
        return str(values.get("title") or values.get("client_name") or "")

    def draft_values(self) -> dict[str, Any]:
        billing = self.query_one("#j-billing", Select).value
        return {
            "version": self.job.version if self.job else None,
            **self.client_draft_values(),
            "title": self.query_one("#j-title", Input).value,
            "description": self.query_one("#j-desc", TextArea).text,
            "billing": billing if isinstance(billing, str) else None,
            "billing_auto": self._billing_auto,
            "lines": self.query_one(LineItemsEditor).draft_values(),
            "schedule": self._schedule_values(),
        }

    async def apply_draft(self, values: dict[str, Any]) -> None:
        def text(key: str, data: dict[str, Any] = values) -> str:
            value = data.get(key)
            return value if isinstance(value, str) else ""

        if self.job is None:
            self.apply_client_draft(values)
        else:
            address = values.get("address_id")
            with contextlib.suppress(InvalidSelectValueError):  # an address gone since
                self.query_one("#j-address", Select).value = (
                    address if isinstance(address, int) else NO_ADDRESS)
        self.query_one("#j-title", Input).value = text("title")
        self.query_one("#j-desc", TextArea).text = text("description")
        if text("billing") in {key for key, _label, _hint in BILLING}:
            self.query_one("#j-billing", Select).value = text("billing")
        self._billing_auto = self.job is None and values.get("billing_auto") is True
        lines = values.get("lines")
        await self.query_one(LineItemsEditor).apply_draft(lines if isinstance(lines, dict) else {})
        schedule = values.get("schedule")
        if self.job_id is None and isinstance(schedule, dict):
            for widget_id in SCHEDULE_INPUTS:
                self.query_one(f"#{widget_id}", Input).value = text(widget_id, schedule)
            if text("s-repeat", schedule) in {key for key, _label in REPEATS}:
                self.query_one("#s-repeat", Select).value = text("s-repeat", schedule)
            assignee = text("s-assignee", schedule)
            with contextlib.suppress(InvalidSelectValueError):  # someone no longer on staff
                self.query_one("#s-assignee", Select).value = (
                    int(assignee) if assignee.isdigit() else NOBODY)
            self._refresh_schedule()
        version = values.get("version")
        if self.job is not None and isinstance(version, int) and version != self.job.version:
            # saving the draft over the newer change is refused with the usual message
            self.job.version = version
            self.notice("This job was changed elsewhere after your draft was kept; saving "
                        "it will be refused. Copy what you need, then reopen it.",
                        severity="warning")


def new_job(app: Any, client_id: int | None = None) -> None:
    """Open the new-job form (for ``client_id`` when given); once saved, the job's page."""
    app.push_screen(JobFormScreen(client_id=client_id))
