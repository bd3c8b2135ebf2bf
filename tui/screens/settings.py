"""Settings (``F2`` or "Settings" in the palette): business profile, tax rates, numbering with
a live preview, integration keys, the three privacy toggles, the queued analytics payload,
the license and the data export — one section at a time, picked from the list on the left.

Decisions where the issue is silent:

- The profile and the default payment terms are saved together in one transaction
  (:func:`core.business.update_several`); the numbering patterns on their own. A refused
  save names the field under it and in a notification; nothing is written.
- Keys are typed into masked inputs and written by :meth:`config.secrets.Secrets.set` to the
  0600 secrets file; afterwards only :meth:`~config.secrets.Secret.masked` is shown, and the
  input is cleared. A key set by an environment variable is shown as such (that wins).
- Privacy toggles act at once: analytics off deletes the queue, AI consent off disables the
  assistant (it reads the toggle before every request), local storage off asks first and
  then deletes the state file. Turning analytics or AI on needs no question.
- "Check now" runs the app's background round when the app has one (so the status line and
  the next-check timer follow), otherwise a plain check in a worker.
- Locked integrations (tier) stay visible and editable, with the reason next to them; only
  "Test connection" is refused, with the same reason.
- Text messages: the quiet hours, the time zone and the four templates are saved together
  (``ctrl+s``) in one transaction; a refused save names the field (the template) and writes
  nothing. Each template is previewed as it is typed with a real record
  (:mod:`core.message_preview`: the next visit, the latest unpaid invoice, the latest sent
  proposal), or example values when there is none. "Reset" asks, then puts the built-in text
  back at once. While a save or reset runs, another one is refused ("still saving").
- A reload (after saving keys, say) never overwrites unsaved edits of the profile, the
  numbering patterns or the templates; saving text messages re-reads only that section.
- Two people editing the same settings (a shared PostgreSQL database): each section remembers
  the settings versions its fields were filled from, and a save over someone else's newer
  save is refused with the stale-record message; nothing is written and the edits stay on
  screen. A reload fills a section anew (with the newer version) only when it has no
  unsaved edits, so escape and reopen Settings to see the latest. Resetting a template
  takes the version it wrote.
- Visit reminders (``ctrl+r``, or "Send visit reminders…" in the palette): a dry run first
  lists who would be texted and who is skipped and why; a question; then the send in a
  worker and what happened. The day defaults to tomorrow (today, tomorrow or a date; a day
  before today is refused).
  "Sync now" (``f8``) runs what ``tssg-crm sync`` runs and shows its whole report.
- "Request deletion of my account data" says exactly what is sent (instance id, license key
  masked, the URL) before it sends anything; one quick retry only, as a person is waiting.
- Every task's outcome (reminders, sync, deletion, export, a save) is also said in a notice,
  which outlives the screen: leaving Settings while a task runs loses nothing. A reminder
  check that ends after leaving asks nothing; the notice says how to send.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import (
    Button,
    ContentSwitcher,
    DataTable,
    Input,
    Label,
    OptionList,
    Select,
    Static,
    Switch,
    TextArea,
)
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from config import AppPaths
from config.privacy import TOGGLES, load_privacy, set_toggle
from config.secrets import load_secrets
from config.settings import ConfigError
from core import (
    analytics,
    business,
    catalog,
    licensing,
    message_preview,
    messaging,
    numbering,
    tiers,
)
from core.errors import DomainError, StaleRecord, ValidationError
from tui import render
from tui.screens.base import CrmScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.sms_dialog import problem_text
from tui.widgets import table_fill
from tui.widgets.key_hints import KeyHints
from tui.widgets.section_bar import SectionBar

if TYPE_CHECKING:
    from tui.app import CrmApp

SECTIONS: tuple[tuple[str, str], ...] = (
    ("business", "Business"),
    ("tax", "Tax rates"),
    ("numbering", "Numbering"),
    ("integrations", "Integrations"),
    ("privacy", "Privacy"),
    ("analytics", "Analytics data"),
    ("messages", "Text messages"),
    ("license", "License"),
    ("data", "Your data"),
)

BUSINESS_FIELDS = (  # input id suffix, label, settings key, field
    ("name", "Name", "business", "name"),
    ("address", "Address", "business", "address"),
    ("phone", "Phone", "business", "phone"),
    ("email", "Email", "business", "email"),
    ("tax_id", "Tax id", "business", "tax_id"),
    ("terms", "Terms (days)", "defaults", "payment_terms_days"),
)
# validation field name -> input id (what core.business names in its ValidationError)
BUSINESS_ERRORS = {
    "business name": "b-name", "business address": "b-address", "business phone": "b-phone",
    "business email": "b-email", "tax id": "b-tax_id", "currency": "b-currency",
    "payment terms (days)": "b-terms",
}

# integration -> (feature id for the tier, [(secret name, label)], has a connection test)
INTEGRATIONS: tuple[tuple[str, str, str | None, tuple[tuple[str, str], ...]], ...] = (
    ("stripe", "Stripe", "integrations.stripe", (("stripe_api_key", "API key"),)),
    ("twilio", "Twilio", "integrations.twilio",
     (("twilio_account_sid", "Account SID"), ("twilio_auth_token", "Auth token"))),
    ("usps", "USPS", "integrations.usps",
     (("usps_client_id", "Client id"), ("usps_client_secret", "Client secret"))),
    ("ai", "AI provider", "ai.assistant", (("ai_api_key", "API key"),)),
    ("license", "License", None, (("license_key", "License key"),)),
)
TESTABLE = ("stripe", "twilio", "usps")
REMINDERS_FEATURES = ("automation.reminders", "integrations.twilio")

QUIET_FIELDS = (  # input id suffix, label, messaging setting key, placeholder
    ("quiet_start", "Quiet from", "quiet_hours_start", "21:00"),
    ("quiet_end", "Quiet until", "quiet_hours_end", "08:00"),
    ("timezone", "Time zone", "timezone", "empty: this computer's, e.g. America/Chicago"),
)
# validation field name -> widget id (what core.messaging names in its ValidationError)
MESSAGE_ERRORS = {
    "quiet hours start": "msg-quiet_start", "quiet hours end": "msg-quiet_end",
    "time zone": "msg-timezone",
    **{f"{kind.label} template": f"tpl-{name}" for name, kind in messaging.TEMPLATES.items()},
}
# a person is waiting for the answer: one quick retry, then say what went wrong
DELETION_RETRIES, DELETION_BACKOFF = 1, 0.5


@dataclass
class SettingsData:
    """Everything the screen shows, read in one worker."""

    profile: dict[str, Any]
    defaults: dict[str, Any]
    patterns: dict[str, str]
    tax_rates: list[catalog.TaxRateRow]
    tier: str
    license: licensing.LicenseStatus
    notices: list[licensing.Notice]
    masked: dict[str, str] = field(default_factory=dict)
    secrets_problem: str = ""
    messaging: dict[str, Any] = field(default_factory=dict)  # quiet hours, time zone
    templates: dict[str, str] = field(default_factory=dict)  # name -> current text
    samples: dict[str, message_preview.Sample] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)  # settings key -> stored version


# the settings keys behind each section's fields (what a save passes its versions for)
PROFILE_KEYS, NUMBERING_KEYS, MESSAGE_KEYS = ("business", "defaults"), ("numbering",), ("messaging",)


def _when(value: Any) -> str:
    return str(value) if value else "never"


def reminder_day(value: str, today: dt.date) -> dt.date:
    """The reminders' day as typed: today, tomorrow or a date like 2026-03-31 (not before
    today: those visits are over, a reminder would only confuse the client)."""
    word = value.strip().lower()
    if word in ("", "tomorrow"):
        return today + dt.timedelta(days=1)
    if word == "today":
        return today
    try:
        day = dt.date.fromisoformat(word)
    except ValueError:
        raise ValidationError("day", f"'{render.one_line(value)[:30]}' is not a day; type "
                              "today, tomorrow or a date like 2026-03-31") from None
    if day < today:
        raise ValidationError("day", f"{day.isoformat()} is in the past; reminders are for "
                              "today or a later day")
    return day


def day_words(day: dt.date) -> str:
    return f"{day:%A}, {day:%B} {day.day}, {day.year}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def reminder_text(report: Any, *, dry_run: bool) -> str:
    """A reminder run's report (:class:`integrations.twilio_sms.ReminderReport`) in lines."""
    lines = [f"Reminders for {day_words(report.day)}:"]
    done = report.would_send if dry_run else report.sent
    if done:
        lines.append(f"{'Would text' if dry_run else 'Sent'} {len(done)}:")
        lines += [f"  {render.one_line(line)}" for line in done]
    elif not report.skipped and not report.failed and not report.stopped:
        lines.append("No visits that day are waiting for a reminder.")
    else:
        lines.append("Nobody would be texted." if dry_run else "Nothing was sent.")
    if report.skipped:
        lines.append(f"Skipped {len(report.skipped)}:")
        lines += [f"  {render.one_line(line)}" for line in report.skipped]
    if report.failed:
        lines.append(f"Not sent {len(report.failed)}:")
        lines += [f"  {render.one_line(line)}" for line in report.failed]
    if report.stopped:
        lines.append(f"Stopped: {render.one_line(report.stopped)}")
    return "\n".join(lines)


def open_reminders(app: Any) -> None:
    """The palette's "Send visit reminders…": Settings → Integrations, the reminder flow."""
    screen = app.screen
    if isinstance(screen, SettingsScreen):
        screen.action_remind()
    else:
        app.push_screen(SettingsScreen("integrations", then="remind"))


class SettingsScreen(CrmScreen[None]):
    CSS_PATH = "settings.tcss"
    HELP_TITLE = "Settings"
    TEXT_ENTRY = True
    BINDINGS = [
        Binding("escape", "back", "Back", id="settings.back"),
        Binding("ctrl+s", "save", "Save", id="settings.save"),
        Binding("ctrl+r", "remind", "Send reminders", id="settings.remind"),
        Binding("f8", "sync", "Sync now", id="settings.sync"),
        Binding("f5", "reload", "Reload", id="settings.reload", show=False),
    ]

    def __init__(self, section: str = "business", *, then: str | None = None) -> None:
        super().__init__()
        self.start_section = section
        self.then = then  # "remind": start the reminder flow once shown (the palette)
        self.data: SettingsData | None = None
        self._loaded_profile: tuple[str, ...] = ()
        self._loaded_patterns: dict[str, str] = {}
        self._loaded_messages: dict[str, str] = {}
        # settings key -> the version the fields on screen were filled from (stale check)
        self._versions: dict[str, int] = {}
        self._reminder_check: int = 0  # which dry run's answer is awaited
        self._previews: dict[str, int] = {}  # template -> the preview asked for last
        self._messages_job: Worker[None] | None = None  # a text-messages save or reset
        self._app: CrmApp | None = None  # kept from mounting: see crm

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield SectionBar("")
        with Horizontal(id="settings"):
            yield OptionList(*(Option(title, id=key) for key, title in SECTIONS),
                             id="settings-sections")
            with ContentSwitcher(initial=self.start_section, id="settings-panels"):
                yield from self._business_panel()
                yield from self._tax_panel()
                yield from self._numbering_panel()
                yield from self._integrations_panel()
                yield from self._privacy_panel()
                yield from self._analytics_panel()
                yield from self._messages_panel()
                yield from self._license_panel()
                yield from self._data_panel()
        yield KeyHints()

    @staticmethod
    def _row(label: str, widget: Any) -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Label(label, classes="settings-label", markup=False)
            yield widget
        yield Label("", id=f"{widget.id}-error", classes="field-error", markup=False)

    def _business_panel(self) -> ComposeResult:
        with VerticalScroll(id="business", classes="panel"):
            yield Label("Business profile", classes="panel-title", markup=False)
            for key, label, _setting, _field in BUSINESS_FIELDS[:5]:
                yield from self._row(label, Input(id=f"b-{key}", compact=True))
            yield from self._row("Currency", Select(
                [(c, c) for c in business.CURRENCIES], value="USD", allow_blank=False,
                id="b-currency", compact=True))
            yield from self._row("Terms (days)", Input(id="b-terms", compact=True,
                                                       type="integer"))
            yield Button("Save (ctrl+s)", id="business-save", compact=True)

    def _tax_panel(self) -> ComposeResult:
        with VerticalScroll(id="tax", classes="panel"):
            yield Label("Tax rates", classes="panel-title", markup=False)
            table: DataTable[Any] = DataTable(id="tax-table", cursor_type="row")
            yield table
            yield Label("Add a tax rate", classes="panel-subtitle", markup=False)
            yield from self._row("Name", Input(id="t-name", compact=True,
                                               placeholder="e.g. State sales tax"))
            yield from self._row("Rate (%)", Input(id="t-rate", compact=True,
                                                   placeholder="e.g. 8.875"))
            yield Button("Add tax rate", id="tax-add", compact=True)

    def _numbering_panel(self) -> ComposeResult:
        with VerticalScroll(id="numbering", classes="panel"):
            yield Label("Numbering patterns", classes="panel-title", markup=False)
            yield Static(Content("Fields: {seq} (or {seq:04} for four digits), {year}, "
                                 "{month}. Numbers are given when a document is issued or sent."),
                         classes="panel-help")
            for doc in numbering.DOC_TYPES:
                title = doc.replace("_", " ").capitalize()
                yield from self._row(title, Input(id=f"n-{doc}", compact=True))
                yield Label("", id=f"n-{doc}-preview", classes="preview", markup=False)
            yield Button("Save (ctrl+s)", id="numbering-save", compact=True)

    def _integrations_panel(self) -> ComposeResult:
        with VerticalScroll(id="integrations", classes="panel"):
            yield Label("Integration keys", classes="panel-title", markup=False)
            yield Static(Content("Keys are kept in a private file (mode 0600) on this computer, "
                                 "never in the database or an export, and never shown again "
                                 "in full."), classes="panel-help")
            for name, title, _feature, secrets in INTEGRATIONS:
                with Vertical(classes="integration", id=f"int-{name}"):
                    yield Label(title, classes="panel-subtitle", markup=False)
                    yield Label("", id=f"lock-{name}", classes="lock", markup=False)
                    for secret, label in secrets:
                        with Horizontal(classes="form-row"):
                            yield Label(label, classes="settings-label", markup=False)
                            yield Label("", id=f"m-{secret}", classes="masked", markup=False)
                            yield Input(id=f"k-{secret}", password=True, compact=True,
                                        placeholder="type a new value")
                    with Horizontal(classes="buttons"):
                        yield Button("Save keys", id=f"save-{name}", compact=True)
                        if name in TESTABLE:
                            yield Button("Test connection", id=f"test-{name}", compact=True)
                    yield Label("", id=f"result-{name}", classes="result", markup=False)
                    if name == "twilio":
                        yield from self._reminders_block()
                        yield from self._sync_block()

    def _reminders_block(self) -> ComposeResult:
        with Vertical(classes="integration", id="int-reminders"):
            yield Label("Visit reminders", classes="panel-subtitle", markup=False)
            yield Label("", id="lock-reminders", classes="lock", markup=False)
            yield Static(Content("Texts the visit reminder to the client of each visit on "
                                 "that day, once per visit ever. You see the list first "
                                 "and are asked before anything is sent."),
                         classes="panel-help")
            yield from self._row("Day", Input(id="remind-day", compact=True,
                                              placeholder="today, tomorrow or 2026-03-31"))
            with Horizontal(classes="buttons"):
                yield Button("Send reminders… (ctrl+r)", id="remind-run", compact=True)
            yield Static("", id="remind-result", classes="result")

    def _sync_block(self) -> ComposeResult:
        with Vertical(classes="integration", id="int-sync"):
            yield Label("Payments and message status", classes="panel-subtitle", markup=False)
            yield Static(Content("Records paid Stripe payment links and refreshes the "
                                 "delivery status of texts. The app also does this every "
                                 "couple of minutes while it runs."), classes="panel-help")
            with Horizontal(classes="buttons"):
                yield Button("Sync now (f8)", id="sync-run", compact=True)
            yield Static("", id="sync-result", classes="result")

    def _messages_panel(self) -> ComposeResult:
        with VerticalScroll(id="messages", classes="panel"):
            yield Label("Text messages", classes="panel-title", markup=False)
            yield Label("", id="lock-messages", classes="lock", markup=False)
            yield Label("Quiet hours", classes="panel-subtitle", markup=False)
            yield Static(Content("No texts are sent between these times (in the time zone "
                                 "below); reminders wait for the next run. The same time "
                                 "twice means no quiet hours."), classes="panel-help")
            for key, label, _setting, hint in QUIET_FIELDS:
                yield from self._row(label, Input(id=f"msg-{key}", compact=True,
                                                  placeholder=hint))
            yield Label("Templates", classes="panel-subtitle", markup=False)
            yield Static(Content("A placeholder in braces is filled in from the record the "
                                 "text is about. The preview uses a real record when there "
                                 "is one."), classes="panel-help")
            for name, kind in messaging.TEMPLATES.items():
                with Vertical(classes="template", id=f"tpl-{name}-box"):
                    yield Label(kind.label, classes="template-title", markup=False)
                    yield TextArea(id=f"tpl-{name}", compact=True, soft_wrap=True,
                                   tab_behavior="focus")
                    yield Label("", id=f"tpl-{name}-error", classes="field-error",
                                markup=False)
                    yield Static(Content("Placeholders: " + " ".join(
                        "{" + p + "}" for p in kind.placeholders)), classes="placeholders")
                    yield Label("", id=f"tpl-{name}-about", classes="preview-about",
                                markup=False)
                    yield Static("", id=f"tpl-{name}-preview", classes="payload")
                    yield Button("Reset to the built-in text", id=f"reset-{name}",
                                 compact=True)
            yield Button("Save (ctrl+s)", id="messages-save", compact=True)

    def _privacy_panel(self) -> ComposeResult:
        with VerticalScroll(id="privacy", classes="panel"):
            yield Label("Privacy", classes="panel-title", markup=False)
            for toggle in TOGGLES:
                with Horizontal(classes="toggle-row"):
                    yield Switch(id=f"p-{toggle.field}")
                    yield Label(toggle.label, id=f"p-{toggle.field}-label",
                                classes="toggle-label", markup=False)
                if toggle.field == "ai_consent":  # the assistant's tier, beside its consent
                    yield Label("", id="lock-ai-consent", classes="lock", markup=False)
                yield Static(Content(toggle.explanation), classes="toggle-text")

    def _analytics_panel(self) -> ComposeResult:
        with VerticalScroll(id="analytics", classes="panel"):
            yield Label("Analytics data waiting to be sent", classes="panel-title", markup=False)
            yield Static("", id="analytics-payload", classes="payload")
            yield Button("Refresh", id="analytics-refresh", compact=True)

    def _license_panel(self) -> ComposeResult:
        with VerticalScroll(id="license", classes="panel"):
            yield Label("License", classes="panel-title", markup=False)
            yield Static("", id="license-status")
            yield Label("Last check", classes="panel-subtitle", markup=False)
            yield Static("", id="license-last-check", classes="payload")
            yield Vertical(id="license-notices")
            yield Button("Check now", id="license-check", compact=True)

    def _data_panel(self) -> ComposeResult:
        with VerticalScroll(id="data", classes="panel"):
            yield Label("Your data", classes="panel-title", markup=False)
            yield Static(Content("Export every record as JSON and CSV in one zip archive, with "
                                 "a manifest and checksums. Keys and passwords are never "
                                 "included. This works on every tier."), classes="panel-help")
            yield from self._row("Zip file", Input(id="export-path", compact=True))
            yield Button("Export everything", id="export-run", compact=True)
            yield Label("", id="export-result", classes="result", markup=False)
            yield Button("Import clients from CSV…", id="import-open", compact=True)
            yield Label("Your license account", classes="panel-subtitle", markup=False)
            yield Static(Content("Ask the license server to delete what it keeps about this "
                                 "copy's license account. Your business data on this computer "
                                 "is not touched. You see exactly what is sent first."),
                         classes="panel-help")
            yield Button("Request deletion of my account data…", id="deletion-run",
                         compact=True)
            yield Static("", id="deletion-result", classes="result")

    # ------------------------------------------------------------------ loading

    @property
    def crm(self) -> CrmApp:
        # A thread worker has no active-app context, so ``self.app`` is found through the DOM;
        # once Settings is left that fails, and a task's answer would be lost with the error.
        return self._app if self._app is not None else super().crm

    @property
    def paths(self) -> AppPaths:
        return self.crm.app_files()

    def on_mount(self) -> None:
        self._app = self.crm
        self.crm.open_forms.add(self)  # q asks before quitting over unsaved edits here too
        sections = self.query_one("#settings-sections", OptionList)
        sections.highlighted = [key for key, _ in SECTIONS].index(self.start_section)
        sections.focus()
        default_zip = Path.cwd() / f"tssg-crm-export-{self.crm.today:%Y%m%d}.zip"
        self.query_one("#export-path", Input).value = str(default_zip)
        self.query_one("#remind-day", Input).value = (
            self.crm.today + dt.timedelta(days=1)).isoformat()
        self._show_privacy()
        self.action_reload()
        if self.then == "remind":
            self.call_after_refresh(self.action_remind)

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="settings-load", exit_on_error=False)
    def _load(self) -> None:
        paths, config = self.paths, self.crm.config
        values, versions = business.load_versioned(
            self.db, [*PROFILE_KEYS, *NUMBERING_KEYS, *MESSAGE_KEYS])
        data = SettingsData(
            profile=values["business"],
            defaults=values["defaults"],
            patterns=values["numbering"],
            tax_rates=catalog.list_tax_rates(self.db, include_inactive=True),
            tier=licensing.effective_tier(paths, config),
            license=licensing.status(paths, config),
            notices=licensing.pending_notices(paths, self.crm.app_version),
            messaging=values["messaging"],
            templates=messaging.all_templates(self.db),
            samples=message_preview.find_samples(self.db, self.crm.today),
            versions=versions,
        )
        try:
            secrets = load_secrets(paths.secrets_file)
            for _name, _title, _feature, names in INTEGRATIONS:
                for secret, _label in names:
                    value = secrets.get(secret)
                    shown = value.masked() if value else "not set"
                    if secret in secrets.from_env:
                        shown += " (environment)"
                    data.masked[secret] = shown
        except DomainError as exc:
            data.secrets_problem = str(exc)
        except Exception as exc:  # ConfigError: bad permissions, bad TOML
            data.secrets_problem = str(exc)
        self.crm.call_from_thread(self._show, data)

    def _show(self, data: SettingsData) -> None:
        if not self.is_attached:  # Settings was left while this was read
            return
        self.data = data
        # a reload (after saving keys, say) never overwrites what the user is still editing
        if not self._profile_dirty():
            for key, _label, setting, name in BUSINESS_FIELDS:
                source = data.profile if setting == "business" else data.defaults
                self.query_one(f"#b-{key}", Input).value = render.one_line(source.get(name, ""))
            self.query_one("#b-currency", Select).value = data.profile.get("currency", "USD")
            self._loaded_profile = self._profile_values()
            self._take_versions(data, PROFILE_KEYS)
        if not self._numbering_dirty():
            for doc in numbering.DOC_TYPES:
                self.query_one(f"#n-{doc}", Input).value = data.patterns.get(doc, "")
            self._loaded_patterns = self._pattern_values()
            self._take_versions(data, NUMBERING_KEYS)
        self._show_tax_rates(data.tax_rates)
        self._show_integrations(data)
        self._show_messages(data)
        self._show_license(data)
        self._show_analytics()
        lock = tiers.lock_reason(data.tier, "ai.assistant")
        self.query_one("#lock-ai-consent", Label).update(
            render.content(f"Locked: {lock}" if lock else ""))

    def _take_versions(self, data: SettingsData, keys: tuple[str, ...]) -> None:
        """The fields of ``keys`` now show ``data``: later saves start from its versions."""
        self._versions.update({k: data.versions[k] for k in keys if k in data.versions})

    def _expected(self, keys: tuple[str, ...]) -> dict[str, int]:
        return {k: self._versions[k] for k in keys if k in self._versions}

    def _stale(self, error: StaleRecord) -> None:
        """Someone saved these settings since they were shown: say so; the edits stay."""
        self.notice(render.error_text(error), severity="error", title="Not saved")

    def _show_tax_rates(self, rows: list[catalog.TaxRateRow]) -> None:
        cells: list[list[Text | str]] = [
            [render.plain(row.name), render.plain(f"{row.rate.normalize():f} %"),
             render.plain("yes" if row.active else "no")] for row in rows]
        keys: list[str | None] = [str(row.id) for row in rows]
        if not rows:
            cells, keys = [[render.plain("No tax rates yet"), "", ""]], [None]
        table_fill.fill(self.query_one("#tax-table", DataTable), ("Name", "Rate", "In use"),
                        cells, keys=keys)

    def _show_integrations(self, data: SettingsData) -> None:
        for name, _title, feature, secrets in INTEGRATIONS:
            lock = tiers.lock_reason(data.tier, feature) if feature else None
            self.query_one(f"#lock-{name}", Label).update(
                render.content(f"Locked: {lock}" if lock else ""))
            for secret, _label in secrets:
                shown = data.masked.get(secret, data.secrets_problem or "not set")
                self.query_one(f"#m-{secret}", Label).update(render.content(shown))

    def _message_values(self) -> dict[str, str]:
        values = {key: self.query_one(f"#msg-{key}", Input).value for key, *_ in QUIET_FIELDS}
        for name in messaging.TEMPLATES:
            values[name] = self.query_one(f"#tpl-{name}", TextArea).text
        return values

    def _messages_dirty(self) -> bool:
        return bool(self._loaded_messages) and self._message_values() != self._loaded_messages

    def _show_messages(self, data: SettingsData) -> None:
        saved = {key: str(data.messaging.get(setting) or "")
                 for key, _label, setting, _hint in QUIET_FIELDS}
        saved.update(data.templates)
        if not self._messages_dirty():  # never overwrite what the user is still editing
            for key, *_ in QUIET_FIELDS:
                self.query_one(f"#msg-{key}", Input).value = saved[key]
            for name in messaging.TEMPLATES:
                area = self.query_one(f"#tpl-{name}", TextArea)
                if area.text != saved[name]:
                    area.load_text(saved[name])
            self._take_versions(data, MESSAGE_KEYS)
        self._loaded_messages = saved
        lock = tiers.lock_reason(data.tier, "integrations.twilio")
        self.query_one("#lock-messages", Label).update(render.content(
            f"Locked: {lock} The templates can be edited now." if lock else ""))
        lock = next((r for f in REMINDERS_FEATURES if (r := tiers.lock_reason(data.tier, f))),
                    None)
        self.query_one("#lock-reminders", Label).update(
            render.content(f"Locked: {lock}" if lock else ""))
        for name in messaging.TEMPLATES:
            self._preview_template(name)

    def _show_license(self, data: SettingsData) -> None:
        status = data.license
        lines = [f"Tier in force: {status.tier.capitalize()} ({status.state})", status.message]
        if status.license_id:
            lines.append(f"License id: {status.license_id}")
        lines.append(f"Instance id: {status.instance_id}")
        self.query_one("#license-status", Static).update(
            Content("\n".join(render.one_line(line) for line in lines)))
        check = licensing.last_check(self.paths)
        if check:
            outcome = "ok" if check.get("ok") else "failed"
            text = (f"When: {_when(check.get('at'))} ({outcome})\n"
                    f"To: {render.one_line(check.get('url', ''))}\n"
                    f"Result: {render.one_line(check.get('message', ''))}\n"
                    "Sent exactly (license key masked here):\n"
                    + json.dumps(check.get("sent", {}), indent=2, sort_keys=True,
                                 ensure_ascii=False))
        else:
            text = ("No check has run yet. A check sends only: "
                    + ", ".join(licensing.CHECK_FIELDS) + ".")
        self.query_one("#license-last-check", Static).update(Content(text))
        box = self.query_one("#license-notices", Vertical)
        box.remove_children()
        for index, notice in enumerate(data.notices):
            box.mount(Static(Content(f"{notice.title}: {notice.text} {notice.url}".strip()),
                             classes="notice"))
            box.mount(Button("Dismiss this notice", id=f"ack-{index}", compact=True))

    def _show_analytics(self) -> None:
        if not analytics.enabled(self.paths):
            text = "Anonymous analytics is off: nothing is counted, queued or sent."
        else:
            batch = analytics.pending_batch(self.paths, self.crm.app_version)
            text = ("Nothing is queued yet." if batch is None else
                    "This is exactly what the next batch sends:\n"
                    + json.dumps(batch, indent=2, sort_keys=True, ensure_ascii=False))
        self.query_one("#analytics-payload", Static).update(Content(text))

    def _show_privacy(self) -> None:
        settings = load_privacy(self.paths)
        with self.prevent(Switch.Changed):
            for toggle in TOGGLES:
                on = getattr(settings, toggle.field)
                self.query_one(f"#p-{toggle.field}", Switch).value = on
                # the state in words too: a colour alone is lost in some terminals
                self.query_one(f"#p-{toggle.field}-label", Label).update(
                    f"{toggle.label}: {'on' if on else 'off'}")

    # ------------------------------------------------------------------ navigation

    @on(OptionList.OptionHighlighted, "#settings-sections")
    def _section_picked(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self.query_one("#settings-panels", ContentSwitcher).current = event.option.id

    @on(OptionList.OptionSelected, "#settings-sections")
    def _section_entered(self, event: OptionList.OptionSelected) -> None:
        # enter: into the section's first field (the scrolling panel itself is skipped)
        panel = self.query_one(f"#{event.option.id}")
        first = next((w for w in panel.query("Input, Select, Switch, Button, DataTable")
                      if w.focusable), None)
        if first is not None:
            first.focus()

    def _profile_values(self) -> tuple[str, ...]:
        values = [self.query_one(f"#b-{key}", Input).value for key, *_ in BUSINESS_FIELDS]
        return (*values, str(self.query_one("#b-currency", Select).value))

    def _profile_dirty(self) -> bool:
        return bool(self._loaded_profile) and self._profile_values() != self._loaded_profile

    def _pattern_values(self) -> dict[str, str]:
        return {doc: self.query_one(f"#n-{doc}", Input).value for doc in numbering.DOC_TYPES}

    def _numbering_dirty(self) -> bool:
        return bool(self._loaded_patterns) and self._pattern_values() != self._loaded_patterns

    def on_unmount(self) -> None:
        self.crm.open_forms.discard(self)

    @property
    def is_dirty(self) -> bool:
        return bool(self._unsaved())

    def _unsaved(self) -> list[str]:
        if self.data is None:
            return []
        parts = []
        if self._profile_dirty():
            parts.append("the business profile")
        if self._numbering_dirty():
            parts.append("the numbering patterns")
        if self._messages_dirty():
            parts.append("the text messages")
        return parts

    def action_back(self) -> None:
        unsaved = self._unsaved()
        if not unsaved:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen(f"There are unsaved changes in {' and '.join(unsaved)}."
                                           " Leave and lose them?", yes="Leave",
                                           no="Keep editing"), answered)

    def action_save(self) -> None:
        current = self.query_one("#settings-panels", ContentSwitcher).current
        if current == "numbering":
            self._save_numbering()
        elif current == "messages":
            self._save_messages()
        else:
            self._save_business()

    def _go_to(self, section: str) -> None:
        self.query_one("#settings-sections", OptionList).highlighted = [
            key for key, _ in SECTIONS].index(section)
        self.query_one("#settings-panels", ContentSwitcher).current = section

    # ------------------------------------------------------------------ errors

    def _clear_errors(self) -> None:
        for label in self.query(".field-error"):
            label.display = False
        for widget in self.query(".-error"):
            widget.remove_class("-error")

    def _field_error(self, widget_id: str, error: DomainError) -> None:
        message = render.error_text(error)
        if not self.is_attached:  # Settings was left while saving: the notice still says it
            self.notice(message, severity="error")
            return
        label = self.query_one(f"#{widget_id}-error", Label)
        label.update(render.content(message))
        label.display = True
        widget = self.query_one(f"#{widget_id}")
        widget.add_class("-error")
        widget.focus()
        self.notice(message, severity="error")

    def _show_result(self, selector: str, content: Content) -> None:
        """A task's outcome in its place, unless Settings was left while the task ran (the
        caller says the outcome in a notice too, which outlives the screen)."""
        if self.is_attached:
            self.query_one(selector, Static).update(content)

    # ------------------------------------------------------------------ business profile

    @on(Button.Pressed, "#business-save")
    def _save_business(self) -> None:
        self._clear_errors()
        profile = {key: self.query_one(f"#b-{key}", Input).value
                   for key, _l, setting, _f in BUSINESS_FIELDS if setting == "business"}
        profile["currency"] = str(self.query_one("#b-currency", Select).value)
        terms = self.query_one("#b-terms", Input).value.strip()
        self._write_business(profile, terms, self._profile_values(),
                             self._expected(PROFILE_KEYS))

    @work(thread=True, exclusive=True, group="settings-save", exit_on_error=False)
    def _write_business(self, profile: dict[str, Any], terms: str,
                        shown: tuple[str, ...], versions: dict[str, int]) -> None:
        try:
            saved = business.save_several(self.db, {
                "business": profile,
                "defaults": {"payment_terms_days": terms},
            }, expected_versions=versions)
        except ValidationError as exc:
            widget_id = BUSINESS_ERRORS.get(exc.field, "b-name")
            self.crm.call_from_thread(self._field_error, widget_id, exc)
            return
        except StaleRecord as exc:
            self.crm.call_from_thread(self._stale, exc)
            return
        self.crm.call_from_thread(self._business_saved, saved.values["business"]["name"], shown,
                                  saved.versions)

    def _business_saved(self, name: str, shown: tuple[str, ...],
                        versions: dict[str, int]) -> None:
        self.crm.business_name = name
        self.crm.note_data_changed()
        self.notice("Business profile saved.")
        if self.is_attached:
            self._loaded_profile = shown  # what was saved; typed since then is still unsaved
            self._versions.update(versions)
            self.action_reload()

    # ------------------------------------------------------------------ tax rates

    @on(Button.Pressed, "#tax-add")
    def _add_tax_rate(self) -> None:
        self._clear_errors()
        self._create_tax_rate(self.query_one("#t-name", Input).value,
                              self.query_one("#t-rate", Input).value.strip())

    @work(thread=True, exclusive=True, group="settings-save", exit_on_error=False)
    def _create_tax_rate(self, name: str, rate: str) -> None:
        try:
            catalog.create_tax_rate(self.db, catalog.TaxRateData(name=name, rate=rate))
        except ValidationError as exc:
            widget_id = "t-rate" if "rate" in exc.field and "name" not in exc.field else "t-name"
            self.crm.call_from_thread(self._field_error, widget_id, exc)
            return
        self.crm.call_from_thread(self._tax_rate_added, name)

    def _tax_rate_added(self, name: str) -> None:
        self.crm.note_data_changed()
        self.notice(f"Tax rate {render.one_line(name)} added.")
        if self.is_attached:
            self.query_one("#t-name", Input).value = ""
            self.query_one("#t-rate", Input).value = ""
            self.action_reload()

    # ------------------------------------------------------------------ numbering

    @on(Input.Changed, "#numbering Input")
    def _preview_number(self, event: Input.Changed) -> None:
        assert event.input.id is not None
        preview = self.query_one(f"#{event.input.id}-preview", Label)
        try:
            shown = "Next: " + numbering.preview(event.value, self.crm.today)
            preview.remove_class("-bad")
        except ValidationError as exc:
            shown = exc.message
            preview.add_class("-bad")
        preview.update(render.content(shown))

    @on(Button.Pressed, "#numbering-save")
    def _save_numbering(self) -> None:
        self._clear_errors()
        patterns = {doc: self.query_one(f"#n-{doc}", Input).value for doc in numbering.DOC_TYPES}
        self._write_numbering(patterns, self._expected(NUMBERING_KEYS))

    @work(thread=True, exclusive=True, group="settings-save", exit_on_error=False)
    def _write_numbering(self, patterns: dict[str, str], versions: dict[str, int]) -> None:
        try:
            saved = business.save_several(self.db, {"numbering": patterns},
                                          expected_versions=versions)
        except ValidationError as exc:
            doc = next((d for d in numbering.DOC_TYPES if exc.field.startswith(d)), "invoice")
            self.crm.call_from_thread(self._field_error, f"n-{doc}", exc)
            return
        except StaleRecord as exc:
            self.crm.call_from_thread(self._stale, exc)
            return
        self.crm.call_from_thread(self._numbering_saved, patterns, saved.versions)

    def _numbering_saved(self, patterns: dict[str, str], versions: dict[str, int]) -> None:
        self.notice("Numbering patterns saved.")
        if self.is_attached:
            self._loaded_patterns = patterns
            self._versions.update(versions)

    # ------------------------------------------------------------------ integrations

    @on(Button.Pressed, "#integrations Button")
    def _integration_button(self, event: Button.Pressed) -> None:
        button_id = event.button.id or ""
        action, _, name = button_id.partition("-")
        if action == "save":
            self._save_keys(name)
        elif action == "test":
            self.query_one(f"#result-{name}", Label).update(render.content("Testing…"))
            self._test_connection(name)

    def _save_keys(self, name: str) -> None:
        entry = next(i for i in INTEGRATIONS if i[0] == name)
        typed = {secret: self.query_one(f"#k-{secret}", Input).value.strip()
                 for secret, _label in entry[3]}
        typed = {k: v for k, v in typed.items() if v}
        if not typed:
            self.notice("Type a key first; an empty field leaves the saved key as it is.",
                        severity="warning")
            return
        for secret in typed:
            self.query_one(f"#k-{secret}", Input).value = ""  # never kept on screen
        self._write_keys(name, typed)

    @work(thread=True, exclusive=True, group="settings-keys", exit_on_error=False)
    def _write_keys(self, name: str, typed: dict[str, str]) -> None:
        try:
            secrets = load_secrets(self.paths.secrets_file)
            for secret, value in typed.items():
                secrets.set(secret, value)
        except Exception as exc:  # ConfigError: the file is unreadable or too open
            self.crm.call_from_thread(self.notice, str(exc), severity="error")
            return
        finally:
            typed.clear()  # drop the only plain copies
        self.crm.call_from_thread(self._keys_saved, name)

    def _keys_saved(self, name: str) -> None:
        title = next(i[1] for i in INTEGRATIONS if i[0] == name)
        self.notice(f"{title} keys saved.")
        if self.is_attached:
            self.action_reload()

    @work(thread=True, exclusive=False, group="settings-test", exit_on_error=False)
    def _test_connection(self, name: str) -> None:
        from integrations.http import IntegrationError
        from integrations.sync import test_connection

        try:
            tier = licensing.effective_tier(self.paths, self.crm.config)
            secrets = load_secrets(self.paths.secrets_file)
            answer = test_connection(name, self.crm.config, secrets, tier)
            severity = "information"
        except (IntegrationError, DomainError) as exc:
            answer, severity = str(exc), "error"
        except Exception as exc:  # ConfigError from the secrets file
            answer, severity = str(exc), "error"
        self.crm.call_from_thread(self._tested, name, answer, severity)

    def _tested(self, name: str, answer: str, severity: str) -> None:
        self._show_result(f"#result-{name}", render.content(answer))
        self.notice(answer, severity=severity)

    # ------------------------------------------------------------------ visit reminders, sync

    def action_remind(self) -> None:
        """``ctrl+r``: a dry run for the day typed, then (asked) the send."""
        self._go_to("integrations")
        self._clear_errors()
        try:
            day = reminder_day(self.query_one("#remind-day", Input).value, self.crm.today)
        except ValidationError as exc:
            self._field_error("remind-day", exc)
            return
        result = self.query_one("#remind-result", Static)
        result.update(render.content(f"Checking who gets a reminder on {day_words(day)}…"))
        self._focus_later("#remind-run", "#remind-result")
        self._reminder_check += 1
        self._reminder_dry_run(day, self._reminder_check)

    @on(Button.Pressed, "#remind-run")
    def _remind_pressed(self) -> None:
        self.action_remind()

    def _focus_later(self, button: str, result: str) -> None:
        """Focus ``button`` and show ``result`` once the switched-to panel has its layout."""
        def show() -> None:
            self.query_one(button).focus(scroll_visible=False)
            self.query_one(result).scroll_visible(animate=False)

        self.call_after_refresh(show)

    def _remind(self, day: dt.date, *, dry_run: bool) -> tuple[Any, str]:
        """(the report, "") or (None, what went wrong in words); runs in a worker."""
        from integrations.http import IntegrationError
        from integrations.sync import remind

        try:
            tier = licensing.effective_tier(self.paths, self.crm.config)
            secrets = load_secrets(self.paths.secrets_file)
            return remind(self.db, self.crm.config, secrets, tier, day, dry_run=dry_run), ""
        except (IntegrationError, DomainError) as exc:
            return None, problem_text(exc)
        except ConfigError as exc:  # the secrets file is unreadable or too open
            return None, render.one_line(exc)

    @work(thread=True, exclusive=True, group="settings-remind", exit_on_error=False)
    def _reminder_dry_run(self, day: dt.date, check: int) -> None:
        report, problem = self._remind(day, dry_run=True)
        # the send would stop at once in quiet hours: say so now rather than ask
        quiet = messaging.quiet_hours_reason(business.load(self.db, "messaging"))
        self.crm.call_from_thread(self._dry_run_done, day, check, report, problem, quiet)

    def _dry_run_done(self, day: dt.date, check: int, report: Any, problem: str,
                      quiet: str | None) -> None:
        if check != self._reminder_check:
            return  # a newer check was asked for
        if report is None:
            self._show_result("#remind-result", render.paragraph(problem))
            self.notice(problem, severity="error")
            return
        count = len(report.would_send)
        if not self.is_attached:  # Settings was left meanwhile: say what was found, ask nothing
            said = f"No reminders to send for {day_words(day)}."
            if count:
                key = self.crm.key_for("settings.remind", "ctrl+r")
                said = (f"{_plural(count, 'visit reminder')} to send for {day_words(day)}; "
                        f"nothing was sent. Press {key} in Settings to send them.")
            self.notice(said)
            return
        result = self.query_one("#remind-result", Static)
        text = reminder_text(report, dry_run=True)
        if count and quiet:
            text += f"\n{quiet}"
        result.update(render.paragraph(text))
        self.call_after_refresh(result.scroll_visible, animate=False)
        if not count:
            self.notice(f"No reminders to send for {day_words(day)}.")
            return
        if quiet:
            self.notice(quiet, severity="warning")
            return
        listed = [render.one_line(line) for line in report.would_send[:6]]
        if count > 6:
            listed.append(f"… and {count - 6} more")
        question = [f"Text {_plural(count, 'visit reminder')} for {day_words(day)} now?", "",
                    *listed]
        if report.skipped:
            question += ["", f"{len(report.skipped)} skipped: the reasons are listed in "
                         "Settings."]
        question += ["", "Each visit gets this reminder once, however often this runs."]

        def answered(yes: bool | None) -> None:
            if yes:
                result.update(render.content(f"Sending reminders for {day_words(day)}…"))
                self._send_reminders(day)
            else:
                self.notice("No reminders were sent.")

        self.app.push_screen(ConfirmScreen("\n".join(question), yes="Send", no="Cancel"),
                             answered)

    @work(thread=True, exclusive=True, group="settings-remind", exit_on_error=False)
    def _send_reminders(self, day: dt.date) -> None:
        report, problem = self._remind(day, dry_run=False)
        self.crm.call_from_thread(self._reminders_sent, day, report, problem)

    def _reminders_sent(self, day: dt.date, report: Any, problem: str) -> None:
        self.crm.note_data_changed()  # texts may have gone out: the other screens catch up
        if report is None:
            self._show_result("#remind-result", render.paragraph(problem))
            self.notice(problem, severity="error")
            return
        self._show_result("#remind-result", render.paragraph(reminder_text(report,
                                                                           dry_run=False)))
        said = f"Sent {_plural(len(report.sent), 'visit reminder')} for {day_words(day)}."
        if report.stopped:
            self.notice(f"{said} {render.one_line(report.stopped)}", severity="warning")
        elif report.failed:
            self.notice(f"{said} {len(report.failed)} could not be sent; see Settings.",
                        severity="warning")
        else:
            self.notice(said)

    def action_sync(self) -> None:
        """``f8``: what ``tssg-crm sync`` does, with its whole report."""
        self._go_to("integrations")
        self.query_one("#sync-result", Static).update(
            render.content("Checking payment links and text messages…"))
        self._focus_later("#sync-run", "#sync-result")
        self._run_sync()

    @on(Button.Pressed, "#sync-run")
    def _sync_pressed(self) -> None:
        self.action_sync()

    @work(thread=True, exclusive=True, group="settings-sync", exit_on_error=False)
    def _run_sync(self) -> None:
        from integrations.http import IntegrationError
        from integrations.sync import sync_all

        try:
            tier = licensing.effective_tier(self.paths, self.crm.config)
            secrets = load_secrets(self.paths.secrets_file)
            report = sync_all(self.db, self.crm.config, secrets, tier)
        except (IntegrationError, DomainError) as exc:
            self.crm.call_from_thread(self._synced, [], [problem_text(exc)], [])
            return
        except ConfigError as exc:
            self.crm.call_from_thread(self._synced, [], [render.one_line(exc)], [])
            return
        # the whole report: here a delivered text is news too (the poll keeps those quiet)
        changes = [*report.events, *getattr(report, "routine", [])]
        self.crm.call_from_thread(self._synced, changes, report.errors, report.notes)

    def _synced(self, events: list[str], errors: list[str], notes: list[str]) -> None:
        lines = [render.one_line(line) for line in (*events, *errors, *notes)]
        if not events and not errors:
            lines.insert(0, "Nothing changed.")
        self._show_result("#sync-result", render.paragraph("\n".join(lines)))
        self.crm.note_data_changed()  # payments or message states may have changed
        if errors:
            self.notice(render.one_line(errors[0]), severity="warning")
        else:
            self.notice(f"Sync done: {_plural(len(events), 'change') if events else 'nothing changed'}.")

    # ------------------------------------------------------------------ text messages

    @on(TextArea.Changed, "#messages TextArea")
    def _template_changed(self, event: TextArea.Changed) -> None:
        name = (event.text_area.id or "").removeprefix("tpl-")
        if name in messaging.TEMPLATES:
            self._preview_template(name)

    def _preview_template(self, name: str) -> None:
        if self.data is None:
            return
        text = self.query_one(f"#tpl-{name}", TextArea).text
        # exclusive does not stop a thread already running: each answer carries its number
        asked = self._previews[name] = self._previews.get(name, 0) + 1
        self.run_worker(partial(self._make_preview, name, text, asked), thread=True,
                        exclusive=True, group=f"settings-preview-{name}", exit_on_error=False)

    def _make_preview(self, name: str, text: str, asked: int) -> None:
        samples = self.data.samples if self.data is not None else {}
        sample = samples.get(messaging.TEMPLATES[name].record)
        try:
            shown = message_preview.preview(self.db, name, text, sample, self.crm.today)
        except DomainError as exc:  # text that could not be saved, or the record is gone
            self.crm.call_from_thread(self._show_preview, name, asked, None,
                                      render.error_text(exc))
            return
        self.crm.call_from_thread(self._show_preview, name, asked, shown, "")

    def _show_preview(self, name: str, asked: int, shown: message_preview.Preview | None,
                      problem: str) -> None:
        if asked != self._previews.get(name) or not self.is_attached:
            return  # the preview of an older text, finished after a newer one (or left)
        about = self.query_one(f"#tpl-{name}-about", Label)
        box = self.query_one(f"#tpl-{name}-preview", Static)
        if shown is None:
            about.update(render.content(f"No preview: {problem}"))
            about.add_class("-bad")
            box.update(Content(""))
            box.display = False
            return
        about.remove_class("-bad")
        parts = _plural(shown.segments, "part")
        about.update(render.content(f"Preview {shown.about} · {len(shown.body)} characters, "
                                    f"{parts}:"))
        body = render.paragraph(shown.body)
        if shown.note:
            body = Content.assemble(body, ("\nWould not be sent now: "
                                           + render.one_line(shown.note), "italic"))
        box.update(body)
        box.display = True

    def _messages_busy(self) -> bool:
        """A text-messages save or reset is still running: say so (the caller starts none)."""
        job = self._messages_job
        if job is None or job.state not in (WorkerState.PENDING, WorkerState.RUNNING):
            return False
        self.notice("Still saving the text messages; try again in a moment.",
                    severity="warning")
        return True

    @on(Button.Pressed, "#messages-save")
    def _save_messages(self) -> None:
        if self._messages_busy():
            return
        self._clear_errors()
        values = self._message_values()
        changes: dict[str, Any] = {setting: values[key]
                                   for key, _label, setting, _hint in QUIET_FIELDS}
        changes["templates"] = {name: values[name] for name in messaging.TEMPLATES}
        self._messages_job = self._write_messages(changes, values, self._expected(MESSAGE_KEYS))

    @work(thread=True, exclusive=True, group="settings-messages", exit_on_error=False)
    def _write_messages(self, changes: dict[str, Any], values: dict[str, str],
                        versions: dict[str, int]) -> None:
        try:  # quiet hours, time zone and every template: all saved, or nothing
            saved = business.save_several(self.db, {"messaging": changes},
                                          expected_versions=versions)
        except ValidationError as exc:
            widget_id = MESSAGE_ERRORS.get(exc.field, "msg-quiet_start")
            self.crm.call_from_thread(self._field_error, widget_id, exc)
            return
        except StaleRecord as exc:
            self.crm.call_from_thread(self._stale, exc)
            return
        self.crm.call_from_thread(self._messages_saved, values, saved.versions)

    def _messages_saved(self, values: dict[str, str], versions: dict[str, int]) -> None:
        self.notice("Text message settings saved.")
        if self.is_attached:
            self._loaded_messages = values  # saved: the reload may now show the cleaned values
            self._versions.update(versions)
            self._reload_messages()  # only these: other sections may hold unsaved edits

    @work(thread=True, exclusive=True, group="settings-messages-load", exit_on_error=False)
    def _reload_messages(self) -> None:
        values, versions = business.load_versioned(self.db, list(MESSAGE_KEYS))
        templates = messaging.all_templates(self.db)
        self.crm.call_from_thread(self._messages_reloaded, values["messaging"], templates,
                                  versions)

    def _messages_reloaded(self, settings: dict[str, Any], templates: dict[str, str],
                           versions: dict[str, int]) -> None:
        if self.data is None or not self.is_attached:
            return
        self.data.messaging, self.data.templates = settings, templates
        self.data.versions.update(versions)
        self._show_messages(self.data)

    @on(Button.Pressed, ".template Button")
    def _reset_pressed(self, event: Button.Pressed) -> None:
        name = (event.button.id or "").removeprefix("reset-")
        kind = messaging.TEMPLATES.get(name)
        if kind is None or self._messages_busy():
            return
        area = self.query_one(f"#tpl-{name}", TextArea)
        if area.text == kind.default and self._loaded_messages.get(name) == kind.default:
            self.notice(f"The {kind.label.lower()} template is already the built-in text.")
            return

        def answered(yes: bool | None) -> None:
            if yes and not self._messages_busy():
                self._messages_job = self._reset_template(name)

        self.app.push_screen(ConfirmScreen(
            f"Put back the built-in {kind.label.lower()} text? Your own version is deleted.\n\n"
            f"{kind.default}", yes="Reset", no="Keep mine"), answered)

    @work(thread=True, exclusive=True, group="settings-messages", exit_on_error=False)
    def _reset_template(self, name: str) -> None:
        text = messaging.reset_template(self.db, name)
        versions = business.load_versioned(self.db, list(MESSAGE_KEYS))[1]
        self.crm.call_from_thread(self._template_reset, name, text, versions)

    def _template_reset(self, name: str, text: str, versions: dict[str, int]) -> None:
        self.notice(f"The {messaging.TEMPLATES[name].label.lower()} template is the built-in "
                    "text again.")
        if not self.is_attached:
            return
        self._versions.update(versions)  # the reset is this screen's own save
        self._loaded_messages[name] = text
        self.query_one(f"#tpl-{name}", TextArea).load_text(text)
        self.query_one(f"#tpl-{name}-error", Label).display = False
        self.query_one(f"#tpl-{name}").remove_class("-error")

    # ------------------------------------------------------------------ privacy

    @on(Switch.Changed, "#privacy Switch")
    def _toggle(self, event: Switch.Changed) -> None:
        name = (event.switch.id or "").removeprefix("p-")
        if name == "local_storage" and not event.value:
            def answered(yes: bool | None) -> None:
                if yes:
                    self._set_toggle(name, False)
                else:
                    self._show_privacy()  # put the switch back

            self.app.push_screen(ConfirmScreen(
                "Turn local storage off? The file with your preferences and unsaved form "
                "drafts is deleted now, and drafts are not kept from then on.",
                yes="Turn off", no="Keep on"), answered)
            return
        self._set_toggle(name, event.value)

    def _set_toggle(self, name: str, on: bool) -> None:
        set_toggle(self.paths, name, on)  # carries out the promise: deletes what "off" says
        self._show_privacy()
        self._show_analytics()
        label = next(t.label for t in TOGGLES if t.field == name)
        done = {
            ("analytics", False): " The queue was deleted.",
            ("ai_consent", False): " The assistant is disabled.",
            ("local_storage", False): " The local state file was deleted.",
        }.get((name, on), "")
        self.notice(f"{label}: {'on' if on else 'off'}.{done}")

    # ------------------------------------------------------------------ analytics, license

    @on(Button.Pressed, "#analytics-refresh")
    def _refresh_analytics(self) -> None:
        self._show_analytics()

    @on(Button.Pressed, "#license-check")
    def _check_now(self) -> None:
        self.query_one("#license-status", Static).update(Content("Checking with the license "
                                                                 "server…"))
        background = self.crm.background
        if background is not None:
            background.listeners.append(self._after_background_check)
            background.run_round()
        else:
            self._plain_check()

    def _after_background_check(self, view: Any) -> None:
        if view.checking:
            return
        background = self.crm.background
        if background is not None and self._after_background_check in background.listeners:
            background.listeners.remove(self._after_background_check)
        if view.problem:
            self.notice(view.problem, severity="warning")
        else:
            self.notice(f"License checked: {view.tier_text}.")
        if self.is_attached:
            self.action_reload()

    @work(thread=True, exclusive=True, group="license", exit_on_error=False)
    def _plain_check(self) -> None:
        from integrations.license_client import check_now

        try:
            secrets = load_secrets(self.paths.secrets_file)
        except Exception:
            secrets = None
        result = check_now(self.paths, self.crm.config, secrets,
                           app_version=self.crm.app_version)
        self.crm.call_from_thread(self._checked, render.one_line(result.message), result.ok)

    def _checked(self, message: str, ok: bool) -> None:
        self.notice(message, severity="information" if ok else "warning")
        if self.is_attached:
            self.action_reload()

    @on(Button.Pressed, "#license-notices Button")
    def _acknowledge(self, event: Button.Pressed) -> None:
        if self.data is None:
            return
        index = int((event.button.id or "ack-0").removeprefix("ack-"))
        if index < len(self.data.notices):
            licensing.acknowledge(self.paths, self.data.notices[index])
            self.notice("Notice dismissed.")
        self.action_reload()

    # ------------------------------------------------------------------ data

    @on(Button.Pressed, "#export-run")
    def _export(self) -> None:
        self._clear_errors()
        raw = self.query_one("#export-path", Input).value.strip()
        dest = Path(raw).expanduser() if raw else Path()
        problem = ""
        if not raw:
            problem = "type where the zip file should go"
        elif dest.is_dir():
            problem = "that is a folder; add a file name ending in .zip"
        elif not dest.parent.is_dir():
            problem = f"the folder {dest.parent} does not exist"
        elif dest.exists():
            problem = "a file with that name exists; choose another name"
        if problem:
            self._field_error("export-path", ValidationError("zip file", problem))
            return
        self.query_one("#export-result", Label).update(render.content("Exporting…"))
        self._run_export(dest)

    @work(thread=True, exclusive=True, group="settings-export", exit_on_error=False)
    def _run_export(self, dest: Path) -> None:
        from core import export

        summary = export.export_all(self.db, dest)
        text = f"Exported {summary.total_rows:,} records to {summary.path}."
        self.crm.call_from_thread(self._exported, text)

    def _exported(self, text: str) -> None:
        self._show_result("#export-result", render.content(text))
        self.notice(text)

    @on(Button.Pressed, "#import-open")
    def _open_import(self) -> None:
        from tui.screens.import_clients import ImportClientsScreen

        self.app.push_screen(ImportClientsScreen())

    @on(Button.Pressed, "#deletion-run")
    def _ask_deletion(self) -> None:
        if self.data is None:
            return
        from integrations.license_client import deletion_url

        key = self.data.masked.get("license_key") or "not set"
        question = ("Ask the license server to delete your license account data?\n\n"
                    f"This sends exactly these two things to {deletion_url(self.crm.config)}:\n"
                    f"  instance id: {self.data.license.instance_id}\n"
                    f"  license key: {key}\n\n"
                    "Nothing else is sent, and your business data on this computer is not "
                    "touched.")

        def answered(yes: bool | None) -> None:
            if yes:
                self.query_one("#deletion-result", Static).update(
                    render.content("Sending the deletion request…"))
                self._request_deletion()

        self.app.push_screen(ConfirmScreen(question, yes="Send request", no="Cancel"),
                             answered)

    @work(thread=True, exclusive=True, group="settings-deletion", exit_on_error=False)
    def _request_deletion(self) -> None:
        from integrations.http import IntegrationError, RetryPolicy
        from integrations.license_client import request_deletion

        try:
            secrets = load_secrets(self.paths.secrets_file)
            answer = request_deletion(self.paths, self.crm.config, secrets,
                                      policy=RetryPolicy(retries=DELETION_RETRIES,
                                                         backoff=DELETION_BACKOFF,
                                                         max_backoff=DELETION_BACKOFF))
        except IntegrationError as exc:
            text = problem_text(exc).rstrip(".")
            self.crm.call_from_thread(self._deletion_answered,
                                      f"{text}. The deletion request did not go through; "
                                      "nothing was deleted. Try again later.", False)
            return
        except ConfigError as exc:
            self.crm.call_from_thread(self._deletion_answered, render.one_line(exc), False)
            return
        self.crm.call_from_thread(self._deletion_answered,
                                  f"The license server answered: {render.one_line(answer)}",
                                  True)

    def _deletion_answered(self, text: str, ok: bool) -> None:
        self._show_result("#deletion-result", render.content(text))
        self.notice(text, severity="information" if ok else "error")  # shown after leaving too
