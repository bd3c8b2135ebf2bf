""""Text the client": a dialog that previews the message a template makes for a record
(:func:`core.messaging.compose`, filled with the real data) and sends it through Twilio
(:func:`integrations.twilio_sms.send_draft`) only when the user presses the send key.

Decisions where the issue is silent: why it cannot be sent (locked tier, no consent, opted
out, quiet hours) is shown in the dialog before anything is tried, and the send key then only
repeats that reason; quiet hours are checked against ``now`` (the real clock unless a test
passes one). The dialog also hosts :func:`app_secrets`, which the invoice's payment-link dialog
shares.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Label, Static
from textual.worker import Worker, WorkerState

from config.secrets import Secrets, load_secrets
from core import business, licensing, messaging, tiers
from core.errors import DomainError
from tui import render
from tui.screens.base import CrmModal

SMS_FEATURE = "integrations.twilio"


def app_secrets(app: object) -> Secrets:
    """The app's secrets file (with the ``TSSG_CRM_*`` environment overrides)."""
    return load_secrets(app.app_files().secrets_file)  # type: ignore[attr-defined]


def problem_text(error: Exception) -> str:
    """An error in words: "Stripe refused the API key: ..." for an integration's, else the
    domain error as :func:`tui.render.error_text` words it."""
    service, message = getattr(error, "service", None), getattr(error, "message", None)
    if isinstance(service, str) and isinstance(message, str):
        return render.one_line(f"{service} {message}")
    return render.error_text(error)


@dataclass(frozen=True)
class SmsPreview:
    draft: messaging.Draft
    blocked: str | None  # the first reason it may not be sent now, in words


class SmsDialog(CrmModal[bool]):
    """Dismisses with True once Twilio took the message; escape closes without sending."""

    CSS_PATH = ["dialogs.tcss", "sms_dialog.tcss"]
    BINDINGS = [
        Binding("s", "send", "Send", id="sms.send"),
        Binding("escape", "close", "Close", id="sms.close"),
    ]

    def __init__(self, related_type: str, related_id: int, template: str, *,
                 now: dt.datetime | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.related_type, self.related_id, self.template = related_type, related_id, template
        self.now = now
        self.preview: SmsPreview | None = None
        self.sending = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog sms-dialog"):
            yield Label("Text the client", classes="dialog-title")
            yield Static(id="sms-to")
            yield Static(id="sms-body")
            yield Static(id="sms-blocked")
            yield Static(id="sms-hint", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#sms-body").loading = True
        self._hint(Content("Preparing the message…"))
        self.load()

    def _hint(self, text: Content) -> None:
        self.query_one("#sms-hint", Static).update(text)

    # ------------------------------------------------------------------ preview

    @work(thread=True, exclusive=True, group="sms-preview", exit_on_error=False)
    def load(self) -> None:
        try:
            draft = messaging.compose(self.db, self.related_type, self.related_id,
                                      self.template)
            with self.db.read() as s:
                settings = business.get(s, "messaging")
            tier = licensing.effective_tier(self.crm.app_files(), self.crm.config)
        except DomainError as exc:
            self.app.call_from_thread(self._failed, exc)
            return
        blocked = (tiers.lock_reason(tier, SMS_FEATURE) or draft.blocked
                   or messaging.quiet_hours_reason(settings, self.now))
        self.app.call_from_thread(self._show, SmsPreview(draft, blocked))

    def _show(self, preview: SmsPreview) -> None:
        self.preview = preview
        d = preview.draft
        to = d.contact_name or d.client_name
        phone = render.phone(d.to_phone) if d.to_phone else "no number"
        self.query_one("#sms-to", Static).update(Content.assemble(
            ("To ", "dim"), render.one_line(to), (f"  {phone}", "dim"),
            ("  ·  ", "dim"), (f"{len(d.body)} characters, {d.segments} "
                               f"{'part' if d.segments == 1 else 'parts'}", "dim")))
        body = self.query_one("#sms-body", Static)
        body.loading = False
        body.update(render.paragraph(d.body))
        blocked = self.query_one("#sms-blocked", Static)
        blocked.update(render.paragraph(preview.blocked or ""))
        blocked.display = preview.blocked is not None
        send, close = self.crm.key_for("sms.send", "s"), self.crm.key_for("sms.close", "escape")
        if preview.blocked:
            self._hint(Content.assemble(("Cannot be sent now.  ", "bold"), f"{close} closes"))
        else:
            self._hint(Content.assemble((f"{send}", "bold"), " sends it now  ·  ",
                                        (f"{close}", "bold"), " closes without sending"))

    def _failed(self, error: Exception) -> None:
        self.sending = False
        text = problem_text(error)
        self.query_one("#sms-body").loading = False
        blocked = self.query_one("#sms-blocked", Static)
        blocked.update(render.paragraph(text))
        blocked.display = True
        self.notice(text, severity="error", title="Not sent")

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
        self._send(self.preview.draft)

    @work(thread=True, exclusive=True, group="sms-send", exit_on_error=False)
    def _send(self, draft: messaging.Draft) -> None:
        from config.settings import ConfigError
        from integrations.http import IntegrationError
        from integrations.twilio_sms import TwilioGateway, send_draft

        tier = licensing.effective_tier(self.crm.app_files(), self.crm.config)
        try:
            gateway = TwilioGateway.from_config(self.crm.config, app_secrets(self.app))
            try:
                send_draft(self.db, gateway, tier, draft, now=self.now)
            finally:
                gateway.close()
        except (DomainError, IntegrationError, ConfigError) as exc:
            self.app.call_from_thread(self._send_failed, exc)
            return
        self.app.call_from_thread(self._sent, draft)

    def _send_failed(self, error: Exception) -> None:
        self.crm.note_data_changed()  # a failed send is still in the message log
        self._failed(error)
        close = self.crm.key_for("sms.close", "escape")
        self._hint(Content.assemble(("Not sent.  ", "bold"), f"{close} closes"))

    def _sent(self, draft: messaging.Draft) -> None:
        self.crm.note_data_changed()
        who = draft.contact_name or draft.client_name
        self.notice(f"Texted {render.one_line(who)} ({render.phone(draft.to_phone)}).")
        self.dismiss(True)

    def action_close(self) -> None:
        if not self.sending:
            self.dismiss(False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "sms-send":
            self.sending = False
        super().on_worker_state_changed(event)
