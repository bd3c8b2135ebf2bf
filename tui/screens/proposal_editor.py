"""One proposal: the editor of a draft, and the same page read-only once it has been sent,
with one key per lifecycle step (send, approve, decline, request changes, convert to a job).

The editor gathers client (found as you type), the client's service address, title,
valid-until date, terms, deposit and the line items (:mod:`tui.widgets.line_items`), checks
them as the user goes, and saves with :func:`core.proposals.create_proposal` /
:func:`core.proposals.edit_proposal` on ``ctrl+s`` (nothing is written until the service
accepts all of it; a refusal is shown under the field it names). Escape on a changed form asks.

Decisions where the issue is silent:

- A deposit is typed like a discount: ``25%`` or an amount (``150.00``); the amount it
  comes to is shown live under the totals.
- An empty valid-until means the business default on a new proposal (today + the proposal
  validity days) and "keep the current date" on an edit, as the service defines it.
- Terms start with the business's proposal terms on a new proposal.
- The notes stored on a proposal are kept as they are (this editor does not show them).
- Only a draft can be edited; a sent, approved or declined proposal opens read-only, and the
  lifecycle keys work there as in the list. A draft is sent from the list (``s``) after
  saving, so what is sent is always what was saved.
- Lifecycle keys run the service straight away; decline asks for an optional reason and
  request changes for the client's note first. A refusal shows the service's own reason.
- After converting to a job the job opens (section 3), ready for its visits.
- ``m`` texts the client the "proposal ready" template (:mod:`tui.screens.sms_dialog`), from
  the read-only page and the list; a draft is refused there with the reason (send it first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Select, TextArea
from textual.worker import Worker, WorkerState, get_current_worker

from core import business, jobs, money, proposals
from core.errors import DomainError, NotFound, ValidationError
from core.lists import AddressRow, list_addresses
from core.models import Proposal
from core.overview import client_names
from core.proposals import ProposalData
from core.text import clean_text
from tui import render
from tui.drafts import DraftForm
from tui.screens.base import CrmScreen
from tui.screens.cancel_form import cancel_form
from tui.screens.client_picking import ClientPicking, form_row
from tui.screens.sms_dialog import SmsDialog
from tui.screens.visit_dialogs import NoteDialog
from tui.widgets.key_hints import KeyHints
from tui.widgets.line_items import (
    LineChoices,
    LineItemsEditor,
    format_discount,
    load_choices,
    parse_discount,
)
from tui.widgets.section_bar import SectionBar

# validation field name -> the widget that shows it
FIELDS = {
    "client": "p-client",
    "service address": "p-address",
    "title": "p-title",
    "valid until": "p-valid",
    "terms": "p-terms",
    "deposit": "p-deposit",
    "deposit kind": "p-deposit",
}


# --------------------------------------------------------------------------- lifecycle keys


class ProposalActions:
    """The lifecycle keys, shared by the list and the proposal page.

    A screen using it says which proposal the keys act on (:meth:`proposal_target`) and
    what to do once one succeeded (:meth:`lifecycle_done`)."""

    app: Any
    crm: Any
    db: Any
    notice: Any

    LIFECYCLE_BINDINGS = [
        Binding("s", "send", "Send", id="proposals.send"),
        Binding("a", "approve", "Approve", id="proposals.approve"),
        Binding("d", "decline", "Decline", id="proposals.decline"),
        Binding("c", "request_changes", "Changes", id="proposals.request_changes"),
        Binding("j", "convert", "To job", id="proposals.convert"),
        Binding("m", "text_client", "Text", id="proposals.text_client"),
    ]

    def proposal_target(self) -> int | None:
        raise NotImplementedError

    def lifecycle_done(self, proposal_id: int) -> None:
        raise NotImplementedError

    def action_send(self) -> None:
        self._start("send")

    def action_approve(self) -> None:
        self._start("approve")

    def action_convert(self) -> None:
        self._start("convert")

    def action_text_client(self) -> None:
        proposal_id = self.proposal_target()
        if proposal_id is not None:
            self.app.push_screen(SmsDialog("proposal", proposal_id, "proposal_ready"))

    def action_decline(self) -> None:
        self._ask("decline", NoteDialog("Decline proposal", "Why did the client say no? "
                                        "(optional, kept in the history)", confirm="Decline"))

    def action_request_changes(self) -> None:
        self._ask("changes", NoteDialog(
            "Changes requested", "What did the client ask to change? The proposal goes back "
            "to draft as its next revision.", confirm="Record", required=True))

    def _ask(self, kind: str, dialog: NoteDialog) -> None:
        proposal_id = self.proposal_target()
        if proposal_id is None:
            return

        def answered(note: object) -> None:
            if isinstance(note, str):
                self._run_lifecycle(kind, proposal_id, note)

        self.app.push_screen(dialog, answered)

    def _start(self, kind: str) -> None:
        proposal_id = self.proposal_target()
        if proposal_id is not None:
            self._run_lifecycle(kind, proposal_id, "")

    @work(thread=True, exclusive=True, group="proposal-lifecycle", exit_on_error=False)
    def _run_lifecycle(self, kind: str, proposal_id: int, note: str) -> None:
        db, today = self.db, self.crm.today
        try:
            if kind == "send":
                proposals.send_proposal(db, proposal_id, today=today)
            elif kind == "approve":
                proposals.approve_proposal(db, proposal_id, today=today)
            elif kind == "decline":
                proposals.decline_proposal(db, proposal_id, reason=note, today=today)
            elif kind == "changes":
                proposals.request_changes(db, proposal_id, note, today=today)
            else:
                job_id = proposals.convert_to_job(db, proposal_id, today=today)
                job = jobs.get(db, job_id)
                self.app.call_from_thread(self._converted, proposal_id, job_id, job.number)
                return
            p = proposals.get(db, proposal_id)
        except DomainError as exc:
            self.app.call_from_thread(self._refused, exc)
            return
        self.app.call_from_thread(self._done, kind, p)

    def _refused(self, error: DomainError) -> None:
        self.notice(render.error_text(error), severity="error", title="Not done")

    def _done(self, kind: str, p: Proposal) -> None:
        label = p.number or f"draft #{p.id}"
        message = {
            "send": f"Sent proposal {label}.",
            "approve": f"Approved proposal {label}. Press j to turn it into a job.",
            "decline": f"Declined proposal {label}.",
            "changes": f"Proposal {label} is a draft again (revision {p.revision}); "
                       "edit it and send it again.",
        }[kind]
        self.crm.note_data_changed()
        self.notice(message)
        self.lifecycle_done(p.id)

    def _converted(self, proposal_id: int, job_id: int, job_number: str) -> None:
        self.crm.note_data_changed()
        self.notice(f"Created job {job_number}. Press v there to schedule its visits.")
        self.lifecycle_done(proposal_id)
        open_job: Callable[[int], None] | None = getattr(self.crm, "open_job", None)
        if open_job is not None:
            open_job(job_id)


# --------------------------------------------------------------------------- the page


@dataclass(frozen=True)
class _Loaded:
    proposal: Proposal | None
    client_name: str
    addresses: list[AddressRow]
    choices: LineChoices
    default_terms: str
    valid_days: int


class ProposalEditorScreen(DraftForm, ClientPicking, ProposalActions, CrmScreen[int | None]):
    """Dismisses with the proposal's id once saved, or None. While a draft proposal has
    unsaved changes they are kept as an autosaved draft (:mod:`tui.drafts`)."""

    DRAFT_KIND = "proposal"
    DRAFT_MODE = "proposals"
    DRAFT_NOUN = "proposal"
    CLIENT_FIELD = "p-client"
    ADDRESS_FIELD = "p-address"

    CSS_PATH = "proposal_editor.tcss"
    HELP_TITLE = "Proposal"
    TEXT_ENTRY = True
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="proposal_form.save"),
        Binding("escape", "cancel", "Back", id="proposal_form.cancel"),
        *ProposalActions.LIFECYCLE_BINDINGS,
    ]

    def __init__(self, proposal_id: int | None = None) -> None:
        super().__init__()
        self.proposal_id = proposal_id
        self.proposal: Proposal | None = None
        self.read_only = False
        self._initial: tuple[object, ...] | None = None
        self._saving = False
        self._notes = ""

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield SectionBar("proposals")
        with VerticalScroll(id="proposal-form"):
            with Horizontal(classes="title-row"):
                yield Label("New proposal" if self.proposal_id is None else "Proposal",
                            id="form-title", markup=False)
                yield self.draft_status()
            yield Label("", id="p-summary", markup=False)
            yield Label("", id="p-changes", markup=False)
            yield Label("", id="form-error", classes="field-error", markup=False)
            yield from self.client_rows()
            yield from form_row("Title", Input(id="p-title", compact=True,
                                               placeholder="e.g. Spring clean-up"))
            with Horizontal(classes="form-row"):
                yield Label("Valid to", classes="field-label", markup=False)
                yield Input(id="p-valid", compact=True, classes="date", placeholder="YYYY-MM-DD")
                yield Label("Deposit", classes="field-label", markup=False)
                yield Input(id="p-deposit", compact=True, classes="short",
                            placeholder="25%/150.00")
                yield Label("", id="p-deposit-amount", markup=False)
            for widget_id in ("p-valid", "p-deposit"):
                yield Label("", id=f"{widget_id}-error", classes="field-error", markup=False)
            yield from form_row("Terms", TextArea(id="p-terms", compact=True))
            yield Label("Line items", classes="form-section", markup=False)
            yield LineItemsEditor(id="p-lines")
        yield KeyHints()

    def on_mount(self) -> None:
        self.crm.open_forms.add(self)
        for label in self.query(".field-error"):
            label.display = False
        for widget_id in ("#p-client-matches", "#p-changes", "#p-summary"):
            self.query_one(widget_id).display = False
        self.query_one("#proposal-form").loading = True
        self._load(self.proposal_id)

    def on_unmount(self) -> None:
        self.crm.open_forms.discard(self)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("send", "approve", "decline", "request_changes", "convert", "text_client"):
            return self.read_only
        if action == "save":
            return not self.read_only
        return True

    # ------------------------------------------------------------------ loading

    @work(thread=True, exclusive=True, group="proposal-load", exit_on_error=False)
    def _load(self, proposal_id: int | None) -> None:
        db = self.db
        try:
            p = proposals.get(db, proposal_id) if proposal_id is not None else None
        except NotFound as exc:
            self.app.call_from_thread(self._gone, exc)
            return
        name, addresses = "", []
        if p is not None:
            name = client_names(db, [p.client_id]).get(p.client_id, "")
            addresses = list_addresses(db, client_id=p.client_id, limit=200).rows
        defaults = business.load(db, "defaults")
        loaded = _Loaded(p, name, addresses, load_choices(db, proposals.as_proposal_data(p).lines
                                                           if p else []),
                         defaults.get("proposal_terms") or "", int(defaults["proposal_valid_days"]))
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._populate, loaded)

    def _gone(self, error: NotFound) -> None:
        self.notice(str(error), severity="error")
        self.draft_finished()  # a draft of a proposal that is gone cannot be saved
        self.dismiss(None)

    async def _populate(self, loaded: _Loaded) -> None:
        p = loaded.proposal
        editor = self.query_one(LineItemsEditor)
        self._show_addresses(loaded.addresses, p.address_id if p else None)
        if p is None:
            self.query_one("#p-terms", TextArea).text = clean_text(loaded.default_terms)
            valid = self.crm.today + dt.timedelta(days=loaded.valid_days)
            self.query_one("#p-valid", Input).placeholder = f"{valid.isoformat()}"
            await editor.load(loaded.choices)
        else:
            data = proposals.as_proposal_data(p)
            self.proposal, self.client_id, self._notes = p, p.client_id, p.notes
            self._set_client_text(loaded.client_name)
            self.query_one("#p-title", Input).value = render.one_line(p.title)
            self.query_one("#p-valid", Input).value = p.valid_until.isoformat() if p.valid_until else ""
            self.query_one("#p-deposit", Input).value = self._deposit_text(p)
            self.query_one("#p-terms", TextArea).text = clean_text(p.terms)
            await editor.load(loaded.choices, data.lines, p.discount_kind, p.discount_value)
            self._show_header(p)
        self.read_only = p is not None and p.status != "draft"
        for widget in self.query("#proposal-form Input, #proposal-form Select, "
                                 "#proposal-form TextArea"):
            widget.disabled = self.read_only
        self.query_one("#proposal-form").loading = False
        self._initial = self._values()
        self._show_deposit()
        self.refresh_bindings()
        self.query_one(KeyHints).refresh_hints()
        if self.read_only:
            self.query_one("#proposal-form").focus()
            return
        if p is None:
            self.query_one("#p-client").focus()
        else:
            self.query_one("#p-title").focus()
        await self.draft_ready(self.proposal_id)

    @staticmethod
    def _deposit_text(p: Proposal) -> str:
        if p.deposit_kind == "none":
            return ""
        return format_discount(p.deposit_kind, p.deposit_value)

    def _show_header(self, p: Proposal) -> None:
        today = self.crm.today
        status = proposals.effective_status(p, today)
        number = p.number or f"draft #{p.id}"
        title = Text(f"Proposal {number}", style="bold", end="")
        if p.title:
            title.append(f"  {render.one_line(p.title)}", style="")
        self.query_one("#form-title", Label).update(title)
        facts = [render.status(status) if status != "expired" else "Expired",
                 f"revision {p.revision}"]
        if p.valid_until:
            facts.append(f"valid until {p.valid_until.isoformat()}")
        facts.append(f"total {money.format_money(p.total_cents, p.currency)}")
        if p.job_id is not None:
            facts.append("converted to a job")
        summary = self.query_one("#p-summary", Label)
        summary.update(render.content("  ·  ".join(facts)))
        summary.display = True
        changes = self.query_one("#p-changes", Label)
        if p.status == "draft" and p.changes_requested:
            changes.update(render.paragraph(f"The client asked for changes: {p.changes_requested}"))
            changes.display = True
        else:
            changes.display = False

    # ------------------------------------------------------------------ state

    def _values(self) -> tuple[object, ...]:
        return (
            self.client_id,
            self.query_one("#p-address", Select).value,
            self.query_one("#p-title", Input).value,
            self.query_one("#p-valid", Input).value,
            self.query_one("#p-deposit", Input).value,
            self.query_one("#p-terms", TextArea).text,
            self.query_one(LineItemsEditor).values(),
        )

    @property
    def is_dirty(self) -> bool:
        return not self.read_only and self._initial is not None and self._values() != self._initial

    def gather(self) -> ProposalData:
        """What the form says, as the service's input; raises ValidationError on bad syntax."""
        client_id = self.picked_client()
        editor = self.query_one(LineItemsEditor)
        lines = editor.lines()
        discount_kind, discount_value = editor.discount()
        deposit_kind, deposit_value = parse_discount(self.query_one("#p-deposit", Input).value,
                                                     "deposit")
        return ProposalData(
            client_id=client_id,
            title=self.query_one("#p-title", Input).value,
            address_id=self.picked_address(),
            lines=lines,
            discount_kind=discount_kind,
            discount_value=discount_value,
            deposit_kind=deposit_kind,
            deposit_value=deposit_value,
            valid_until=self.query_one("#p-valid", Input).value.strip() or None,
            terms=self.query_one("#p-terms", TextArea).text,
            notes=self._notes,
        )

    # ------------------------------------------------------------------ errors

    def _show_field_error(self, widget_id: str, message: str) -> None:
        label = self.query_one(f"#{widget_id}-error", Label)
        label.update(render.content(message))
        label.display = bool(message)
        self.query_one(f"#{widget_id}").set_class(bool(message), "-error")

    def show_error(self, error: DomainError) -> None:
        field = getattr(error, "field", "")
        widget_id = FIELDS.get(field) if isinstance(error, ValidationError) else None
        self.show_form_error(error, widget_id, "proposal-form")

    @on(Input.Changed)
    @on(TextArea.Changed)
    def _edited(self, event: Input.Changed | TextArea.Changed) -> None:
        widget = event.input if isinstance(event, Input.Changed) else event.text_area
        if widget.id in FIELDS.values() and widget.has_class("-error"):
            self._show_field_error(widget.id, "")
        if widget.id == "p-deposit":
            self._show_deposit()

    @on(Input.Blurred, "#p-valid, #p-deposit")
    def _check_field(self, event: Input.Blurred) -> None:
        if self._initial is None or self._saving:
            return
        try:
            if event.input.id == "p-valid":
                validate_date = event.value.strip()
                if validate_date:
                    dt.date.fromisoformat(validate_date)
            else:
                parse_discount(event.value, "deposit")
        except ValueError:
            self._show_field_error("p-valid", f"Valid until: '{event.value[:30]}' is not a date "
                                   "like 2026-03-31")
        except ValidationError as exc:
            self._show_field_error("p-deposit", render.error_text(exc))

    @on(LineItemsEditor.Changed)
    def _lines_changed(self) -> None:
        self._show_deposit()

    def _show_deposit(self) -> None:
        label = self.query_one("#p-deposit-amount", Label)
        totals = self.query_one(LineItemsEditor).totals
        try:
            kind, value = parse_discount(self.query_one("#p-deposit", Input).value, "deposit")
        except ValidationError:
            label.update("")
            return
        if kind == "none" or totals is None:
            label.update(render.plain("no deposit" if kind == "none" else "", style="dim"))
            return
        currency = self.query_one(LineItemsEditor).choices.currency
        try:
            cents = money.deposit_cents(totals.total_cents, kind, value)
        except ValidationError as exc:
            label.update(render.plain(exc.message, style="dim"))
            return
        label.update(render.plain(f"= {money.format_money(cents, currency)} on approval",
                                  style="dim"))

    # ------------------------------------------------------------------ actions

    def action_save(self) -> None:
        if self._saving or self._initial is None or self.read_only:
            return
        self.query_one("#form-error").display = False
        try:
            data = self.gather()
        except ValidationError as exc:
            self.show_error(exc)
            return
        self._saving = True
        self._save(data, self.proposal.version if self.proposal else None)

    @work(thread=True, exclusive=True, group="proposal-save", exit_on_error=False)
    def _save(self, data: ProposalData, version: int | None) -> None:
        try:
            if self.proposal_id is None:
                proposal_id = proposals.create_proposal(self.db, data, today=self.crm.today)
            else:
                proposal_id = self.proposal_id
                proposals.edit_proposal(self.db, proposal_id, data, expected_version=version,
                                        today=self.crm.today)
        except DomainError as exc:
            self.app.call_from_thread(self._save_failed, exc)
            return
        self.app.call_from_thread(self._saved, proposal_id, data.title)

    def _save_failed(self, error: DomainError) -> None:
        self._saving = False
        self.show_error(error)

    def _saved(self, proposal_id: int, title: str) -> None:
        self._saving = False
        self._initial = self._values()
        self.draft_finished()
        self.crm.note_data_changed()
        what = f" {render.one_line(title)}" if title.strip() else ""
        send = self.crm.key_for("proposals.send", "s")
        self.notice(f"Saved the draft proposal{what}. Press {send} in the list to send it.")
        self.dismiss(proposal_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "proposal-save":
            self._saving = False
        super().on_worker_state_changed(event)

    def action_cancel(self) -> None:
        if self.close_client_matches():
            return
        if self.read_only:  # a sent proposal: nothing typed here to lose
            self.dismiss(None)
            return
        cancel_form(self, "Discard your changes to this proposal?")

    # ------------------------------------------------------------------ drafts

    @classmethod
    def restored_form_closed(cls, app: Any, result: Any) -> None:
        """A restored draft was saved or dropped: nothing more to open."""

    def draft_label(self, values: dict[str, Any]) -> str:
        return str(values.get("title") or values.get("client_name") or "")

    def draft_values(self) -> dict[str, Any]:
        return {
            "version": self.proposal.version if self.proposal else None,
            **self.client_draft_values(),
            "title": self.query_one("#p-title", Input).value,
            "valid_until": self.query_one("#p-valid", Input).value,
            "deposit": self.query_one("#p-deposit", Input).value,
            "terms": self.query_one("#p-terms", TextArea).text,
            "lines": self.query_one(LineItemsEditor).draft_values(),
        }

    async def apply_draft(self, values: dict[str, Any]) -> None:
        def text(key: str) -> str:
            value = values.get(key)
            return value if isinstance(value, str) else ""

        self.apply_client_draft(values)
        self.query_one("#p-title", Input).value = text("title")
        self.query_one("#p-valid", Input).value = text("valid_until")
        self.query_one("#p-deposit", Input).value = text("deposit")
        self.query_one("#p-terms", TextArea).text = text("terms")
        lines = values.get("lines")
        await self.query_one(LineItemsEditor).apply_draft(lines if isinstance(lines, dict) else {})
        version = values.get("version")
        if self.proposal is not None and isinstance(version, int) and version != self.proposal.version:
            # saving the draft over the newer change is refused with the usual message
            self.proposal.version = version
            self.notice("This proposal was changed elsewhere after your draft was kept; saving "
                        "it will be refused. Copy what you need, then reopen it.",
                        severity="warning")

    # lifecycle keys (read-only page)

    def proposal_target(self) -> int | None:
        return self.proposal_id if self.read_only else None

    def lifecycle_done(self, proposal_id: int) -> None:
        self.query_one("#proposal-form").loading = True
        self._load(proposal_id)

