""""Text the client": a dialog that previews the message a template makes for a record
(:func:`core.messaging.compose`, filled with the real data) and sends it through Twilio
(:func:`integrations.twilio_sms.send_draft`) only when the user presses the send key.

Decisions where the issue is silent: why it cannot be sent (locked tier, no consent, opted
out, quiet hours) is shown in the dialog before anything is tried, and the send key then only
repeats that reason; quiet hours are checked against ``now`` (the real clock unless a test
passes one). The dialog also hosts :func:`app_secrets`, which the invoice's payment-link dialog
shares.

More decisions, for texting from a client, a visit and a proposal:

* No template is about a client alone, so from a client the message is typed by hand
  (:data:`core.messaging.CUSTOM`): a text box starts with "Hi <first name>, ", the count of
  characters and SMS parts follows the typing, and ``ctrl+s`` sends (``s`` is a letter
  there). Bad text (empty, too long) is named under the box and nothing is written.
* A record with more than one template (a visit: reminder and "on my way") opens on the one
  the screen chose; ``t`` switches to the next and previews it again.
* A visit template sent by hand counts as that visit's reminder (the same row ``tssg-crm
  remind`` claims), so the nightly run does not text it again; a visit that had it already
  may be texted again by hand (the dialog says it was sent before).
* A proposal still in draft is not texted: the client would be told about something they
  cannot see yet. Sending it (``s`` on the proposal) comes first.
* No lost edits: a hand-typed message that differs from the "Hi <first name>, " it started
  with makes the dialog dirty, so escape asks "Discard this message?" (Discard / Keep
  editing, the forms' shared question) and quitting over it asks too (it is one of the
  app's open forms). A template's text, or the greeting untouched, closes at once. The
  typed text is not kept as a draft: a text is short and tied to the moment it is sent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Label, Static, TextArea
from textual.worker import Worker, WorkerState

from config.secrets import Secrets, load_secrets
from core import business, licensing, messaging, proposals, tiers
from core.errors import DomainError, ValidationError
from tui import render
from tui.screens.base import CrmModal
from tui.screens.cancel_form import cancel_form

SMS_FEATURE = "integrations.twilio"


def app_secrets(app: object) -> Secrets:
    """The app's secrets file (with the ``TSSG_CRM_*`` environment overrides)."""
    return load_secrets(app.app_files().secrets_file)  # type: ignore[attr-defined]


def problem_text(error: Exception) -> str:
    """An error in words: "Stripe refused the API key: ..." for an integration's, else the
    domain error as :func:`tui.render.error_text` words it."""
    service, message = getattr(error, "service", None), getattr(error, "message", None)
    if isinstance(service, str) and isinstance(message, str):
        # some of the words name the service already ("Twilio refused the Auth Token")
        said = message if message.startswith(service) else f"{service} {message}"
        return render.one_line(said)
    return render.error_text(error)


def greeting(draft: messaging.Draft) -> str:
    """How a hand-typed text starts: "Hi Ana, " (the contact's first name)."""
    words = (draft.contact_name or draft.client_name).split()
    return f"Hi {words[0]}, " if words else ""


@dataclass(frozen=True)
class SmsPreview:
    draft: messaging.Draft
    blocked: str | None  # the first reason it may not be sent now, in words
    sent_before: bool = False  # a visit that already had this template


class SmsDialog(CrmModal[bool]):
    """Dismisses with True once Twilio took the message; escape closes without sending (with
    None, asking first when a typed message was edited).

    ``template`` is a :data:`core.messaging.TEMPLATES` name, or ``messaging.CUSTOM`` for a
    message typed in the dialog; ``templates`` the others ``t`` cycles through (with
    ``template`` among them)."""

    CSS_PATH = ["dialogs.tcss", "sms_dialog.tcss"]
    HELP_TITLE = "Text the client"
    BINDINGS = [
        Binding("s", "send", "Send", id="sms.send"),
        Binding("ctrl+s", "send_typed", "Send", id="sms.send_typed"),
        Binding("t", "next_template", "Other template", id="sms.template"),
        Binding("escape", "close", "Close", id="sms.close"),
    ]

    def __init__(self, related_type: str, related_id: int, template: str, *,
                 templates: Sequence[str] = (), now: dt.datetime | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.related_type, self.related_id, self.template = related_type, related_id, template
        self.templates = tuple(templates) if template in templates else (template,)
        self.typed = template == messaging.CUSTOM
        self.now = now
        self.preview: SmsPreview | None = None
        self.sending = False
        self._started_with: str | None = None  # the typed box's text before any typing

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog sms-dialog"):
            yield Label(self._title(), id="sms-title", classes="dialog-title", markup=False)
            yield Static(id="sms-to")
            if self.typed:
                yield TextArea(id="sms-text", compact=True, disabled=True)
            yield Static(id="sms-body")
            yield Static(id="sms-blocked")
            yield Static(id="sms-hint", classes="dialog-hint")

    def _title(self) -> str:
        kind = messaging.TEMPLATES.get(self.template)
        return f"Text the client · {kind.label}" if kind else "Text the client"

    def on_mount(self) -> None:
        self.crm.open_forms.add(self)
        self.query_one("#sms-body").display = not self.typed
        self.query_one("#sms-blocked").display = False
        self.query_one("#sms-to" if self.typed else "#sms-body").loading = True
        self._hint(Content("Preparing the message…"))
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "send":
            return not self.typed
        if action == "send_typed":
            return self.typed
        if action == "next_template":
            return len(self.templates) > 1
        return True

    def _hint(self, text: Content) -> None:
        self.query_one("#sms-hint", Static).update(text)

    # ------------------------------------------------------------------ preview

    @work(thread=True, exclusive=True, group="sms-preview", exit_on_error=False)
    def load(self) -> None:
        template = self.template
        try:
            draft = messaging.compose(self.db, self.related_type, self.related_id, template,
                                      body="Hi" if self.typed else None)
            with self.db.read() as s:
                settings = business.get(s, "messaging")
            tier = licensing.effective_tier(self.crm.app_files(), self.crm.config)
            not_yet = self._record_not_ready()
            sent_before = (self.related_type == "visit" and self.related_id in
                           messaging.reminded(self.db, [self.related_id], template))
        except DomainError as exc:
            self.app.call_from_thread(self._failed, exc)
            return
        blocked = (tiers.lock_reason(tier, SMS_FEATURE) or draft.blocked or not_yet
                   or messaging.quiet_hours_reason(settings, self.now))
        self.app.call_from_thread(self._show, template, SmsPreview(draft, blocked, sent_before))

    def _record_not_ready(self) -> str | None:
        """Why the record itself is not worth texting about yet (a draft proposal)."""
        if self.related_type != "proposal":
            return None
        p = proposals.get(self.db, self.related_id)
        if p.status != "draft":
            return None
        return (f"Proposal {p.number or f'draft #{p.id}'} is a draft: send it first, so the "
                "client is told about what you saved.")

    def _show(self, template: str, preview: SmsPreview) -> None:
        if template != self.template:
            return  # the user switched templates meanwhile; that preview is on its way
        self.preview = preview
        d = preview.draft
        if self.typed:
            box = self.query_one("#sms-text", TextArea)
            box.disabled = preview.blocked is not None
            if not box.text:
                box.text = greeting(d)
                box.move_cursor(box.document.end)
            if self._started_with is None:
                self._started_with = box.text
            if not box.disabled:
                box.focus()
            self._show_to(d, box.text.strip())
        else:
            self._show_to(d, d.body)
            body = self.query_one("#sms-body", Static)
            body.loading = False
            body.update(render.paragraph(d.body))
        self._show_blocked(preview.blocked)
        self._ready_hint()

    def _show_to(self, d: messaging.Draft, body: str) -> None:
        to = d.contact_name or d.client_name
        phone = render.phone(d.to_phone) if d.to_phone else "no number"
        segments = messaging.sms_segments(body)
        widget = self.query_one("#sms-to", Static)
        widget.loading = False
        widget.update(Content.assemble(
            ("To ", "dim"), render.one_line(to), (f"  {phone}", "dim"),
            ("  ·  ", "dim"), (f"{len(body)} characters, {segments} "
                               f"{'part' if segments == 1 else 'parts'}", "dim")))

    def _show_blocked(self, text: str | None) -> None:
        blocked = self.query_one("#sms-blocked", Static)
        blocked.update(render.paragraph(text or ""))
        blocked.display = bool(text)

    def _ready_hint(self) -> None:
        preview = self.preview
        if preview is None:
            return
        close = self.crm.shown_key("sms.close", "escape")
        if preview.blocked:
            self._hint(Content.assemble(("Cannot be sent now.  ", "bold"), f"{close} closes"))
            return
        send = (self.crm.shown_key("sms.send_typed", "ctrl+s") if self.typed
                else self.crm.shown_key("sms.send", "s"))
        parts: list[str | tuple[str, str]] = []
        if preview.sent_before:
            parts.append("This visit had this text before.  ")
        parts += [(send, "bold"), " sends it again" if preview.sent_before else " sends it now"]
        if len(self.templates) > 1:
            following = self.templates[(self.templates.index(self.template) + 1)
                                       % len(self.templates)]
            label = messaging.TEMPLATES[following].label
            parts += ["  ·  ", (self.crm.shown_key("sms.template", "t"), "bold"), f" {label}"]
        parts += ["  ·  ", (close, "bold"), " closes without sending"]
        self._hint(Content.assemble(*parts))

    @on(TextArea.Changed, "#sms-text")
    def _typed(self, event: TextArea.Changed) -> None:
        if self.preview is not None:
            self._show_to(self.preview.draft, event.text_area.text.strip())
            if not self.preview.blocked and not self.sending:
                self._show_blocked(None)  # a complaint about the old text no longer applies

    def _failed(self, error: Exception) -> None:
        self.sending = False
        text = problem_text(error)
        self.query_one("#sms-to").loading = False
        self.query_one("#sms-body").loading = False
        self._show_blocked(text)
        self.notice(text, severity="error", title="Not sent")

    def action_next_template(self) -> None:
        if len(self.templates) < 2 or self.sending:
            return
        i = self.templates.index(self.template)
        self.template = self.templates[(i + 1) % len(self.templates)]
        self.preview = None
        self.query_one("#sms-title", Label).update(self._title())
        self.query_one("#sms-body").loading = True
        self._show_blocked(None)
        self._hint(Content("Preparing the message…"))
        self.load()

    # ------------------------------------------------------------------ sending

    def action_send(self) -> None:
        if self.preview is None or self.sending:
            return
        if self.preview.blocked:
            self.notice(render.one_line(self.preview.blocked), severity="warning",
                        title="Not sent")
            return
        self.sending = True
        self._hint(Content("Sending…"))
        typed = self.query_one("#sms-text", TextArea).text if self.typed else None
        self._send(self.preview, typed)

    def action_send_typed(self) -> None:
        self.action_send()

    @work(thread=True, exclusive=True, group="sms-send", exit_on_error=False)
    def _send(self, preview: SmsPreview, typed: str | None) -> None:
        from config.settings import ConfigError
        from integrations.http import IntegrationError
        from integrations.twilio_sms import TwilioGateway, send_draft

        draft = preview.draft
        if typed is not None:
            try:  # what was typed, checked as the message (nothing is written if it is bad)
                draft = messaging.compose(self.db, draft.related_type, self.related_id,
                                          messaging.CUSTOM, contact_id=draft.contact_id,
                                          body=typed)
            except ValidationError as exc:
                self.app.call_from_thread(self._invalid, exc)
                return
        # a visit template sent by hand is that visit's reminder, unless it had one already
        claim = self.related_type == "visit" and not preview.sent_before
        tier = licensing.effective_tier(self.crm.app_files(), self.crm.config)
        try:
            gateway = TwilioGateway.from_config(self.crm.config, app_secrets(self.app))
            try:
                try:
                    send_draft(self.db, gateway, tier, draft, now=self.now, reminder=claim)
                except messaging.AlreadyReminded:
                    # the scheduled run texted this visit between the preview and the key:
                    # nothing more goes out unless the user asks again, knowing it
                    self.app.call_from_thread(self._reminded_meanwhile)
                    return
            finally:
                gateway.close()
        except (DomainError, IntegrationError, ConfigError) as exc:
            self.app.call_from_thread(self._send_failed, exc)
            return
        self.app.call_from_thread(self._sent, draft)

    def _reminded_meanwhile(self) -> None:
        self.sending = False
        if self.preview is not None:
            self.preview = dataclasses.replace(self.preview, sent_before=True)
        self.crm.note_data_changed()
        text = ("The scheduled reminders texted this visit a moment ago, so nothing more "
                "was sent.")
        self._show_blocked(text)
        self.notice(text, severity="warning", title="Already sent")
        self._ready_hint()  # now offers to send it again, knowingly

    def _invalid(self, error: ValidationError) -> None:
        self.sending = False
        self._show_blocked(render.error_text(error))
        self._ready_hint()
        self.query_one("#sms-text", TextArea).focus()

    def _send_failed(self, error: Exception) -> None:
        self.crm.note_data_changed()  # a failed send is still in the message log
        self._failed(error)
        close = self.crm.shown_key("sms.close", "escape")
        self._hint(Content.assemble(("Not sent.  ", "bold"), f"{close} closes"))

    def _sent(self, draft: messaging.Draft) -> None:
        self.crm.note_data_changed()
        who = draft.contact_name or draft.client_name
        self.notice(f"Texted {render.one_line(who)} at {render.phone(draft.to_phone)}.")
        self.dismiss(True)

    @property
    def is_dirty(self) -> bool:
        """A typed message was edited (and not sent)."""
        if not self.typed or self._started_with is None:
            return False
        return self.query_one("#sms-text", TextArea).text != self._started_with

    def draft_finished(self) -> None:
        """Nothing to clean up: the dialog keeps no draft (see the module docstring)."""

    def action_close(self) -> None:
        if not self.sending:
            cancel_form(self, "Discard this message?")

    def on_unmount(self) -> None:
        self.crm.open_forms.discard(self)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "sms-send":
            self.sending = False
        super().on_worker_state_changed(event)
