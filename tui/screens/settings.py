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
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
)
from textual.widgets.option_list import Option

from config import AppPaths
from config.privacy import TOGGLES, load_privacy, set_toggle
from config.secrets import load_secrets
from core import analytics, business, catalog, licensing, numbering, tiers
from core.errors import DomainError, ValidationError
from tui import render
from tui.screens.base import CrmScreen
from tui.screens.confirm import ConfirmScreen
from tui.widgets import table_fill
from tui.widgets.key_hints import KeyHints
from tui.widgets.section_bar import SectionBar

SECTIONS: tuple[tuple[str, str], ...] = (
    ("business", "Business"),
    ("tax", "Tax rates"),
    ("numbering", "Numbering"),
    ("integrations", "Integrations"),
    ("privacy", "Privacy"),
    ("analytics", "Analytics data"),
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


def _when(value: Any) -> str:
    return str(value) if value else "never"


class SettingsScreen(CrmScreen[None]):
    CSS_PATH = "settings.tcss"
    HELP_TITLE = "Settings"
    TEXT_ENTRY = True
    BINDINGS = [
        Binding("escape", "back", "Back", id="settings.back"),
        Binding("ctrl+s", "save", "Save", id="settings.save"),
        Binding("f5", "reload", "Reload", id="settings.reload", show=False),
    ]

    def __init__(self, section: str = "business") -> None:
        super().__init__()
        self.start_section = section
        self.data: SettingsData | None = None
        self._loaded_profile: tuple[str, ...] = ()

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

    # ------------------------------------------------------------------ loading

    @property
    def paths(self) -> AppPaths:
        return self.crm.app_files()

    def on_mount(self) -> None:
        sections = self.query_one("#settings-sections", OptionList)
        sections.highlighted = [key for key, _ in SECTIONS].index(self.start_section)
        sections.focus()
        default_zip = Path.cwd() / f"tssg-crm-export-{self.crm.today:%Y%m%d}.zip"
        self.query_one("#export-path", Input).value = str(default_zip)
        self._show_privacy()
        self.action_reload()

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="settings-load", exit_on_error=False)
    def _load(self) -> None:
        paths, config = self.paths, self.crm.config
        data = SettingsData(
            profile=business.load(self.db, "business"),
            defaults=business.load(self.db, "defaults"),
            patterns=business.load(self.db, "numbering"),
            tax_rates=catalog.list_tax_rates(self.db, include_inactive=True),
            tier=licensing.effective_tier(paths, config),
            license=licensing.status(paths, config),
            notices=licensing.pending_notices(paths, self.crm.app_version),
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
        self.app.call_from_thread(self._show, data)

    def _show(self, data: SettingsData) -> None:
        self.data = data
        for key, _label, setting, name in BUSINESS_FIELDS:
            source = data.profile if setting == "business" else data.defaults
            self.query_one(f"#b-{key}", Input).value = render.one_line(source.get(name, ""))
        self.query_one("#b-currency", Select).value = data.profile.get("currency", "USD")
        self._loaded_profile = self._profile_values()
        for doc in numbering.DOC_TYPES:
            self.query_one(f"#n-{doc}", Input).value = data.patterns.get(doc, "")
        self._show_tax_rates(data.tax_rates)
        self._show_integrations(data)
        self._show_license(data)
        self._show_analytics()
        lock = tiers.lock_reason(data.tier, "ai.assistant")
        self.query_one("#lock-ai-consent", Label).update(
            render.content(f"Locked: {lock}" if lock else ""))

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

    @property
    def is_dirty(self) -> bool:
        return self.data is not None and self._profile_values() != self._loaded_profile

    def action_back(self) -> None:
        if not self.is_dirty:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen("The business profile has unsaved changes. "
                                           "Leave and lose them?", yes="Leave",
                                           no="Keep editing"), answered)

    def action_save(self) -> None:
        current = self.query_one("#settings-panels", ContentSwitcher).current
        if current == "numbering":
            self._save_numbering()
        else:
            self._save_business()

    # ------------------------------------------------------------------ errors

    def _clear_errors(self) -> None:
        for label in self.query(".field-error"):
            label.display = False
        for widget in self.query(".-error"):
            widget.remove_class("-error")

    def _field_error(self, widget_id: str, error: DomainError) -> None:
        message = render.error_text(error)
        label = self.query_one(f"#{widget_id}-error", Label)
        label.update(render.content(message))
        label.display = True
        widget = self.query_one(f"#{widget_id}")
        widget.add_class("-error")
        widget.focus()
        self.notice(message, severity="error")

    # ------------------------------------------------------------------ business profile

    @on(Button.Pressed, "#business-save")
    def _save_business(self) -> None:
        self._clear_errors()
        profile = {key: self.query_one(f"#b-{key}", Input).value
                   for key, _l, setting, _f in BUSINESS_FIELDS if setting == "business"}
        profile["currency"] = str(self.query_one("#b-currency", Select).value)
        terms = self.query_one("#b-terms", Input).value.strip()
        self._write_business(profile, terms)

    @work(thread=True, exclusive=True, group="settings-save", exit_on_error=False)
    def _write_business(self, profile: dict[str, Any], terms: str) -> None:
        try:
            saved = business.update_several(self.db, {
                "business": profile,
                "defaults": {"payment_terms_days": terms},
            })
        except ValidationError as exc:
            widget_id = BUSINESS_ERRORS.get(exc.field, "b-name")
            self.app.call_from_thread(self._field_error, widget_id, exc)
            return
        self.app.call_from_thread(self._business_saved, saved["business"]["name"])

    def _business_saved(self, name: str) -> None:
        self.crm.business_name = name
        self.crm.note_data_changed()
        self._loaded_profile = self._profile_values()
        self.notice("Business profile saved.")
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
            self.app.call_from_thread(self._field_error, widget_id, exc)
            return
        self.app.call_from_thread(self._tax_rate_added, name)

    def _tax_rate_added(self, name: str) -> None:
        self.query_one("#t-name", Input).value = ""
        self.query_one("#t-rate", Input).value = ""
        self.crm.note_data_changed()
        self.notice(f"Tax rate {render.one_line(name)} added.")
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
        self._write_numbering(patterns)

    @work(thread=True, exclusive=True, group="settings-save", exit_on_error=False)
    def _write_numbering(self, patterns: dict[str, str]) -> None:
        try:
            business.update(self.db, "numbering", patterns)
        except ValidationError as exc:
            doc = next((d for d in numbering.DOC_TYPES if exc.field.startswith(d)), "invoice")
            self.app.call_from_thread(self._field_error, f"n-{doc}", exc)
            return
        self.app.call_from_thread(self.notice, "Numbering patterns saved.")

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
            self.app.call_from_thread(self.notice, str(exc), severity="error")
            return
        finally:
            typed.clear()  # drop the only plain copies
        self.app.call_from_thread(self._keys_saved, name)

    def _keys_saved(self, name: str) -> None:
        title = next(i[1] for i in INTEGRATIONS if i[0] == name)
        self.notice(f"{title} keys saved.")
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
        self.app.call_from_thread(self._tested, name, answer, severity)

    def _tested(self, name: str, answer: str, severity: str) -> None:
        self.query_one(f"#result-{name}", Label).update(render.content(answer))
        self.notice(answer, severity=severity)

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
        self.app.call_from_thread(self.notice, render.one_line(result.message),
                                  severity="information" if result.ok else "warning")
        self.app.call_from_thread(self.action_reload)

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
        self.app.call_from_thread(self._exported, text)

    def _exported(self, text: str) -> None:
        self.query_one("#export-result", Label).update(render.content(text))
        self.notice(text)

    @on(Button.Pressed, "#import-open")
    def _open_import(self) -> None:
        from tui.screens.import_clients import ImportClientsScreen

        self.app.push_screen(ImportClientsScreen())
