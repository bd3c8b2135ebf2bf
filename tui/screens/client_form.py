"""The client form: new (``n``) or edit (``e``), with its contacts and addresses inline.

Fields are checked as the user leaves them (names present, email and phone well-formed,
custom fields written ``key=value``) and again by :func:`core.clients.save_client` on
``ctrl+s``, which saves everything in one transaction or nothing. A refused save shows its
message under the field it names, moves the focus there and raises a notification. The
version the form was opened with goes along, so a save over someone else's newer save is
refused with the StaleRecord message instead of overwriting it. Escape on a form with
changes asks before discarding them. While it has unsaved changes they are autosaved as a
draft (:mod:`tui.drafts`), offered back after a crash; saving or discarding deletes it.

Keys: ``ctrl+t`` adds a contact, ``ctrl+r`` an address, ``ctrl+l`` removes the block the
cursor is in. A new form starts with one empty contact and one empty (billing) address;
blocks left empty are ignored on save. Ticking "primary" on one contact unticks the others.
If a client has more contacts or addresses than the overview returns, the form leaves that
list alone on save (it says so) rather than deleting what it could not show.

``ctrl+o`` validates the address the cursor is in with USPS
(:class:`tui.screens.address_validation.AddressValidationDialog`). USPS checks the stored
address, so an address that is new or has unsaved edits is refused with a sentence saying to
save first; other unsaved changes in the form are left as they are. After "accept" or "keep"
the block shows the stored address and its new version, so a later save is not refused as
stale. Each saved address block says whether, and when, it was validated.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, TextArea
from textual.widgets.select import InvalidSelectValueError
from textual.worker import Worker, WorkerState

from core import clients, validate
from core.address_status import AddressStatus, address_statuses
from core.clients import AddressData, ClientData, ContactData
from core.errors import DomainError, NotFound, ValidationError
from core.overview import AddressRow, ClientOverview, ContactRow, client_overview
from core.text import clean_text
from tui import render
from tui.drafts import DraftForm
from tui.screens.address_validation import AddressValidationDialog, validated_on
from tui.screens.base import CrmScreen
from tui.screens.cancel_form import cancel_form
from tui.widgets.client_entries import AddressEditor, ContactEditor, EntryEditor
from tui.widgets.key_hints import KeyHints
from tui.widgets.section_bar import SectionBar

# validation field name (or its prefix) -> the widget that shows it
TOP_FIELDS = {
    "name": "f-name",
    "company name": "f-company",
    "kind": "f-kind",
    "status": "f-status",
    "tag": "f-tags",
    "notes": "f-notes",
    "custom field": "f-custom",
}
_ENTRY_FIELD = re.compile(r"^(contact|address) (\d+) (.+)$")


def parse_custom_fields(text: str) -> dict[str, str]:
    """``key=value`` per line into a dict; blank lines are skipped, anything else is an error."""
    fields: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValidationError("custom fields", f"line {number} should look like key=value")
        key = key.strip()
        if key in fields:
            raise ValidationError("custom fields", f"'{key[:40]}' appears twice")
        fields[key] = value.strip()
    return fields


def parse_tags(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


class ClientFormScreen(DraftForm, CrmScreen[int | None]):
    """Dismisses with the client's id once saved, or None when cancelled.

    While it has unsaved changes they are kept as a draft (:mod:`tui.drafts`)."""

    DRAFT_KIND = "client"
    DRAFT_MODE = "clients"
    DRAFT_NOUN = "client"

    CSS_PATH = "client_form.tcss"
    HELP_TITLE = "Client form"
    TEXT_ENTRY = True
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="client_form.save"),
        Binding("escape", "cancel", "Cancel", id="client_form.cancel"),
        Binding("ctrl+t", "add_contact", "Add contact", id="client_form.add_contact"),
        Binding("ctrl+r", "add_address", "Add address", id="client_form.add_address"),
        Binding("ctrl+l", "remove_entry", "Remove block", id="client_form.remove_entry"),
        Binding("ctrl+o", "validate_address", "Validate address",
                id="client_form.validate_address"),
    ]

    def __init__(self, client_id: int | None = None) -> None:
        super().__init__()
        self.client_id = client_id
        self.version: int | None = None
        self._initial: tuple[object, ...] | None = None
        self._saving = False
        self._keep_contacts = False  # True: more contacts exist than were loaded
        self._keep_addresses = False
        self._sent_contacts: list[EntryEditor] = []
        self._sent_addresses: list[EntryEditor] = []
        self._errors: dict[str, str] = {}
        self._address_status: dict[int, AddressStatus] = {}  # as loaded, by address id

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield SectionBar("clients")
        with VerticalScroll(id="client-form"):
            with Horizontal(id="form-head"):
                yield Label("New client" if self.client_id is None else "Edit client",
                            id="form-title", markup=False)
                yield self.draft_status()
            yield Label("", id="form-error", classes="field-error", markup=False)
            yield from self._row("Name", Input(id="f-name", compact=True))
            yield from self._row("Company", Input(id="f-company", compact=True))
            with Horizontal(classes="form-row"):
                yield Label("Kind", classes="field-label", markup=False)
                yield Select([("Person", "person"), ("Company", "company")], value="person",
                             allow_blank=False, id="f-kind", compact=True)
                yield Label("Status", classes="field-label", markup=False)
                yield Select([("Active", "active"), ("Lead", "lead"), ("Archived", "archived")],
                             value="active", allow_blank=False, id="f-status", compact=True)
            for widget_id in ("f-kind", "f-status"):
                yield Label("", id=f"{widget_id}-error", classes="field-error", markup=False)
            yield from self._row("Tags", Input(id="f-tags", compact=True,
                                               placeholder="comma separated, e.g. vip, weekly"))
            yield from self._row("Notes", TextArea(id="f-notes", compact=True))
            yield from self._row("Custom", TextArea(id="f-custom", compact=True,
                                                    placeholder="one key=value per line"))
            yield Label("Contacts", classes="form-section", markup=False)
            yield Vertical(id="contacts")
            yield Label("Addresses", classes="form-section", markup=False)
            yield Vertical(id="addresses")
        yield KeyHints()

    @staticmethod
    def _row(label: str, widget: Widget) -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Label(label, classes="field-label", markup=False)
            yield widget
        yield Label("", id=f"{widget.id}-error", classes="field-error", markup=False)

    async def on_mount(self) -> None:
        self.crm.open_forms.add(self)
        for widget_id in TOP_FIELDS.values():
            self._show_field_error(widget_id, "")
        self.query_one("#form-error", Label).display = False
        self._update_section_titles()
        if self.client_id is None:
            await self.query_one("#contacts").mount(ContactEditor(1, primary=True))
            await self.query_one("#addresses").mount(AddressEditor(1, kind="billing"))
            self._initial = self._values()
            self.query_one("#f-name").focus()
            await self.draft_ready(None)
        else:
            self.query_one("#client-form").loading = True
            self._load()

    def on_unmount(self) -> None:
        self.crm.open_forms.discard(self)

    def _update_section_titles(self) -> None:
        add_c = self.crm.key_for("client_form.add_contact", "ctrl+t")
        add_a = self.crm.key_for("client_form.add_address", "ctrl+r")
        remove = self.crm.key_for("client_form.remove_entry", "ctrl+l")
        sections = self.query(".form-section").results(Label)
        contacts, addresses = list(sections)
        contacts.update(f"Contacts   {add_c} adds one, {remove} removes the one you are in"
                        + ("  (more than shown: left unchanged)" if self._keep_contacts else ""))
        addresses.update(f"Addresses  {add_a} adds one"
                         + ("  (more than shown: left unchanged)" if self._keep_addresses else ""))

    # ------------------------------------------------------------------ loading

    @work(thread=True, exclusive=True, group="client-form-load", exit_on_error=False)
    def _load(self) -> None:
        assert self.client_id is not None
        try:
            overview = client_overview(self.db, self.client_id, activity_limit=0,
                                       today=self.crm.today)
            statuses = address_statuses(self.db, [a.id for a in overview.addresses])
        except NotFound as exc:
            self.app.call_from_thread(self._gone, exc)
            return
        self.app.call_from_thread(self._populate, overview, statuses)

    def _gone(self, error: NotFound) -> None:
        self.notice(str(error), severity="error")
        self.draft_finished()  # a draft of a client that is gone cannot be saved
        self.dismiss(None)

    async def _populate(self, ov: ClientOverview,
                        statuses: dict[int, AddressStatus] | None = None) -> None:
        self.version = ov.version
        self._address_status = dict(statuses or {})
        self.query_one("#form-title", Label).update(
            render.content(f"Edit client: {render.one_line(ov.name)}")
        )
        self.query_one("#f-name", Input).value = render.one_line(ov.name)
        self.query_one("#f-company", Input).value = render.one_line(ov.company_name)
        self.query_one("#f-kind", Select).value = ov.kind
        self.query_one("#f-status", Select).value = ov.status
        self.query_one("#f-tags", Input).value = ", ".join(ov.tags)
        self.query_one("#f-notes", TextArea).text = clean_text(ov.notes)
        self.query_one("#f-custom", TextArea).text = "\n".join(
            f"{k}={v}" for k, v in ov.custom_fields.items()
        )
        self._keep_contacts, self._keep_addresses = ov.more_contacts, ov.more_addresses
        await self.query_one("#contacts").mount_all(
            [ContactEditor(i, row) for i, row in enumerate(ov.contacts, 1)]
        )
        await self.query_one("#addresses").mount_all(
            [AddressEditor(i, row) for i, row in enumerate(ov.addresses, 1)]
        )
        self._update_section_titles()
        self._initial = self._values()
        self.query_one("#client-form").loading = False
        self.query_one("#f-name").focus()
        await self.draft_ready(self.client_id)
        self._mark_addresses(self.address_editors)

    def _mark_addresses(self, editors: Iterable[AddressEditor]) -> None:
        """Say on each saved address block whether (and when) USPS validated it."""
        key = self.crm.shown_key("client_form.validate_address", "ctrl+o")
        for editor in editors:
            status = self._address_status.get(editor.row.id) if editor.row else None
            if status is None:
                editor.border_subtitle = None
            elif status.validated_at is not None:
                editor.border_subtitle = Content(
                    f"✓ validated by USPS {validated_on(status.validated_at)}")
            elif status.row.country == "US":
                editor.border_subtitle = Content(f"not validated · {key} checks it")
            else:
                editor.border_subtitle = None

    # ------------------------------------------------------------------ state

    @property
    def contact_editors(self) -> list[ContactEditor]:
        return list(self.query_one("#contacts").query_children(ContactEditor).results())

    @property
    def address_editors(self) -> list[AddressEditor]:
        return list(self.query_one("#addresses").query_children(AddressEditor).results())

    def _values(self) -> tuple[object, ...]:
        return (
            self.query_one("#f-name", Input).value,
            self.query_one("#f-company", Input).value,
            self.query_one("#f-kind", Select).value,
            self.query_one("#f-status", Select).value,
            self.query_one("#f-tags", Input).value,
            self.query_one("#f-notes", TextArea).text,
            self.query_one("#f-custom", TextArea).text,
            tuple(e.values() for e in self.contact_editors),
            tuple(e.values() for e in self.address_editors),
        )

    @property
    def is_dirty(self) -> bool:
        return self._initial is not None and self._values() != self._initial

    def gather(self) -> tuple[ClientData, list[ContactData] | None, list[AddressData] | None]:
        """What the form says, as the service's input. Raises ValidationError for bad syntax."""
        kind = self.query_one("#f-kind", Select).value
        status = self.query_one("#f-status", Select).value
        data = ClientData(
            name=self.query_one("#f-name", Input).value,
            kind=kind if isinstance(kind, str) else "",
            company_name=self.query_one("#f-company", Input).value,
            status=status if isinstance(status, str) else "",
            notes=self.query_one("#f-notes", TextArea).text,
            tags=parse_tags(self.query_one("#f-tags", Input).value),
            custom_fields=parse_custom_fields(self.query_one("#f-custom", TextArea).text),
        )
        self._sent_contacts = [e for e in self.contact_editors if not e.is_blank()]
        self._sent_addresses = [e for e in self.address_editors if not e.is_blank()]
        contacts = None if self._keep_contacts else [e.data() for e in self._sent_contacts]
        addresses = None if self._keep_addresses else [e.data() for e in self._sent_addresses]
        return data, contacts, addresses

    # ------------------------------------------------------------------ errors

    def _show_field_error(self, widget_id: str, message: str) -> None:
        label = self.query_one(f"#{widget_id}-error", Label)
        label.update(message)
        label.display = bool(message)
        self.query_one(f"#{widget_id}").set_class(bool(message), "-error")

    def _error_widget(self, field: str) -> tuple[Widget | None, EntryEditor | None, str | None]:
        """(widget to focus, entry block, top-level widget id) for a validation field name."""
        match = _ENTRY_FIELD.match(field)
        if match:
            kind, number, suffix = match.group(1), int(match.group(2)), match.group(3)
            sent = self._sent_contacts if kind == "contact" else self._sent_addresses
            if 1 <= number <= len(sent):
                editor = sent[number - 1]
                return editor.input_for(suffix), editor, None
            return None, None, None
        for prefix, widget_id in TOP_FIELDS.items():  # "tag 2", "custom field 'x'", ...
            if field == prefix or field.startswith(prefix):
                return self.query_one(f"#{widget_id}"), None, widget_id
        return None, None, None

    def show_error(self, error: DomainError) -> None:
        """Put the message where the user will look: under the field it names, and notify."""
        message = render.error_text(error)
        target: Widget | None = None
        if isinstance(error, ValidationError):
            target, editor, widget_id = self._error_widget(error.field)
            if editor is not None:
                editor.show_error(message)
                if target is not None:
                    target.set_class(True, "-error")
            elif widget_id is not None:
                self._show_field_error(widget_id, message)
        if target is None:
            form_error = self.query_one("#form-error", Label)
            form_error.update(message)
            form_error.display = True
            self.query_one("#client-form").scroll_home(animate=False)
        else:
            target.focus()
            target.scroll_visible(animate=False)
        self.notice(message, severity="error", title="Not saved")

    def _clear_errors_for(self, widget: Widget) -> None:
        editor = next((a for a in widget.ancestors if isinstance(a, EntryEditor)), None)
        widget.set_class(False, "-error")
        if editor is not None:
            if editor.error:
                editor.show_error("")
        elif widget.id in TOP_FIELDS.values():
            self._show_field_error(widget.id, "")

    @on(Input.Changed)
    @on(TextArea.Changed)
    def _edited(self, event: Input.Changed | TextArea.Changed) -> None:
        widget = event.input if isinstance(event, Input.Changed) else event.text_area
        if widget.has_class("-error"):  # the user is fixing it: the message has done its job
            self._clear_errors_for(widget)

    @on(Input.Blurred)
    def _check_input(self, event: Input.Blurred) -> None:
        """Validate as you go, with the same rules the service applies on save."""
        if self._initial is None or self._saving:
            return
        widget, value = event.input, event.value
        editor = next((a for a in widget.ancestors if isinstance(a, EntryEditor)), None)
        try:
            if widget.id == "f-name":
                validate.required_line(value, "name")
            elif isinstance(editor, ContactEditor) and not editor.is_blank():
                label = f"contact {editor.number} "
                if widget.id == "e-email":
                    validate.email(value, f"{label}email")
                elif widget.id == "e-phone":
                    validate.phone(value, f"{label}phone")
            elif isinstance(editor, AddressEditor) and widget.id == "e-country":
                country = validate.optional_line(value, "country", 2)
                if country and not (len(country) == 2 and country.isalpha()):
                    raise ValidationError(f"address {editor.number} country",
                                          "must be a two-letter code such as US")
        except ValidationError as exc:
            message = render.error_text(exc)
            widget.set_class(True, "-error")
            if editor is not None:
                editor.show_error(message)
            elif widget.id:
                self._show_field_error(widget.id, message)

    @on(TextArea.Changed, "#f-custom")
    def _check_custom(self, event: TextArea.Changed) -> None:
        try:
            parse_custom_fields(event.text_area.text)
        except ValidationError as exc:
            if event.text_area.text.endswith("\n"):  # a finished line that is wrong
                self._show_field_error("f-custom", render.error_text(exc))
        else:
            self._show_field_error("f-custom", "")

    @on(Checkbox.Changed, "#c-primary")
    def _one_primary(self, event: Checkbox.Changed) -> None:
        if not event.value:
            return
        for editor in self.contact_editors:
            box = editor.query_one("#c-primary", Checkbox)
            if box is not event.checkbox and box.value:
                box.value = False

    # ------------------------------------------------------------------ actions

    def action_save(self) -> None:
        if self._saving or self._initial is None:
            return
        try:
            data, contacts, addresses = self.gather()
        except ValidationError as exc:
            self.show_error(exc)
            return
        self._saving = True
        self.query_one("#form-error", Label).display = False
        self._save(data, contacts, addresses, self.version)

    @work(thread=True, exclusive=True, group="client-form-save", exit_on_error=False)
    def _save(
        self,
        data: ClientData,
        contacts: list[ContactData] | None,
        addresses: list[AddressData] | None,
        version: int | None,
    ) -> None:
        try:
            client_id = clients.save_client(
                self.db, self.client_id, data, contacts, addresses, expected_version=version
            )
        except DomainError as exc:
            self.app.call_from_thread(self._save_failed, exc)
            return
        self.app.call_from_thread(self._saved, client_id, data.name)

    def _save_failed(self, error: DomainError) -> None:
        self._saving = False
        self.show_error(error)

    def _saved(self, client_id: int, name: str) -> None:
        self._saving = False
        self._initial = self._values()
        self.draft_finished()
        self.crm.note_data_changed()
        self.notice(f"Saved {render.one_line(name)}.")
        self.dismiss(client_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "client-form-save":
            self._saving = False  # an unexpected failure: the app reports it; let them retry
        super().on_worker_state_changed(event)

    def action_cancel(self) -> None:
        cancel_form(self, "Discard your changes to this client?")

    async def action_add_contact(self) -> None:
        editors = self.contact_editors
        editor = ContactEditor(len(editors) + 1, primary=not editors)
        await self.query_one("#contacts").mount(editor)
        editor.query_one("#e-name").focus()
        editor.scroll_visible(animate=False)
        self.draft_touched()

    async def action_add_address(self) -> None:
        editors = self.address_editors
        kinds = {e.data().kind for e in editors}
        editor = AddressEditor(len(editors) + 1, kind="service" if "billing" in kinds else "billing")
        await self.query_one("#addresses").mount(editor)
        editor.query_one("#e-line1").focus()
        editor.scroll_visible(animate=False)
        self.draft_touched()

    async def action_remove_entry(self) -> None:
        focused = self.focused
        editor = next(
            (a for a in (focused.ancestors if focused else []) if isinstance(a, EntryEditor)), None
        )
        if editor is None:
            self.notice("Move the cursor into a contact or address to remove it.")
            return
        siblings = self.contact_editors if isinstance(editor, ContactEditor) else self.address_editors
        index = siblings.index(editor)
        await editor.remove()
        self.draft_touched()
        rest = [e for e in siblings if e is not editor]
        for number, other in enumerate(rest, 1):
            other.renumber(number)
        if rest:
            rest[min(index, len(rest) - 1)].query(Input).first().focus()
        else:
            self.query_one("#f-name").focus()

    def action_validate_address(self) -> None:
        """USPS-check the stored address the cursor is in (or the only one)."""
        if self._initial is None:  # still loading
            return
        focused = self.focused
        editor = next((a for a in (focused.ancestors if focused else [])
                       if isinstance(a, AddressEditor)), None)
        editors = self.address_editors
        if editor is None and len(editors) == 1:
            editor = editors[0]
        if editor is None:
            self.notice("Move the cursor into an address to validate it.")
            return
        save = self.crm.shown_key("client_form.save", "ctrl+s")
        if editor.row is None:
            self.notice(f"Address {editor.number} is not saved yet, and USPS checks the saved "
                        f"address. Save the client ({save}), open it again, then validate.",
                        severity="warning", title="Not validated")
            return
        loaded = {v[0]: v for v in self._loaded_addresses()}
        if loaded.get(editor.row.id) != editor.values():
            self.notice(f"Address {editor.number} has unsaved changes, and USPS checks the saved "
                        f"address. Save first ({save}), then validate.",
                        severity="warning", title="Not validated")
            return

        def done(status: AddressStatus | None) -> None:
            if status is not None:
                self._address_validated(editor, status)

        self.app.push_screen(AddressValidationDialog(editor.row.id), done)

    def _address_validated(self, editor: AddressEditor, status: AddressStatus) -> None:
        """Show the stored (maybe standardised) address in its block, with its new version."""
        if editor not in self.address_editors or editor.row is None:
            return
        old = editor.values()
        row = status.row
        editor.row = row
        for widget_id, value in (("e-line1", row.line1), ("e-line2", row.line2),
                                 ("e-city", row.city), ("e-region", row.region),
                                 ("e-postal", row.postal_code), ("e-country", row.country)):
            editor.query_one(f"#{widget_id}", Input).value = render.one_line(value)
        self._address_status[row.id] = status
        self._mark_addresses([editor])
        if self._initial is not None:  # the block matches what is stored: not an unsaved edit
            initial = list(self._initial)
            initial[8] = tuple(editor.values() if v == old else v
                               for v in self._loaded_addresses())
            self._initial = tuple(initial)

    def _loaded_addresses(self) -> tuple[tuple[object, ...], ...]:
        """Each address block's values as the form was loaded (or last saved)."""
        if self._initial is None:
            return ()
        return cast("tuple[tuple[object, ...], ...]", self._initial[8])

    # ------------------------------------------------------------------ drafts

    @classmethod
    def restored_form_closed(cls, app: Any, result: Any) -> None:
        if isinstance(result, int):  # saved: show the client, as after "New client"
            app.open_client(result)

    def draft_values(self) -> dict[str, Any]:
        kind = self.query_one("#f-kind", Select).value
        status = self.query_one("#f-status", Select).value
        return {
            "version": self.version,
            "name": self.query_one("#f-name", Input).value,
            "company": self.query_one("#f-company", Input).value,
            "kind": kind if isinstance(kind, str) else "",
            "status": status if isinstance(status, str) else "",
            "tags": self.query_one("#f-tags", Input).value,
            "notes": self.query_one("#f-notes", TextArea).text,
            "custom": self.query_one("#f-custom", TextArea).text,
            "contacts": [asdict(e.data()) for e in self.contact_editors],
            "addresses": [asdict(e.data()) for e in self.address_editors],
        }

    async def apply_draft(self, values: dict[str, Any]) -> None:
        def text(key: str, data: dict[str, Any] = values) -> str:
            value = data.get(key)
            return value if isinstance(value, str) else ""

        self.query_one("#f-name", Input).value = text("name")
        self.query_one("#f-company", Input).value = text("company")
        for widget_id, key in (("#f-kind", "kind"), ("#f-status", "status")):
            with contextlib.suppress(InvalidSelectValueError):  # a hand-edited draft
                self.query_one(widget_id, Select).value = text(key)
        self.query_one("#f-tags", Input).value = text("tags")
        self.query_one("#f-notes", TextArea).text = text("notes")
        self.query_one("#f-custom", TextArea).text = text("custom")
        contacts = [c for c in values.get("contacts") or [] if isinstance(c, dict)]
        addresses = [a for a in values.get("addresses") or [] if isinstance(a, dict)]
        await self.query_one("#contacts").remove_children()
        await self.query_one("#contacts").mount_all([
            ContactEditor(n, ContactRow(
                _draft_id(c.get("id")), _draft_id(c.get("version")),  # type: ignore[arg-type]
                text("name", c), text("email", c), text("phone", c), text("role", c),
                c.get("is_primary") is True, c.get("sms_consent") is True, False))
            for n, c in enumerate(contacts, 1)
        ])
        await self.query_one("#addresses").remove_children()
        await self.query_one("#addresses").mount_all([
            AddressEditor(n, AddressRow(
                _draft_id(a.get("id")), _draft_id(a.get("version")),  # type: ignore[arg-type]
                text("kind", a) or "service", text("label", a), text("line1", a),
                text("line2", a), text("city", a), text("region", a), text("postal_code", a),
                text("country", a), False))
            for n, a in enumerate(addresses, 1)
        ])
        version = _draft_id(values.get("version"))
        if self.client_id is not None and version is not None and version != self.version:
            # keep the version the draft was made from: a save over the newer change is
            # refused with the usual message instead of silently undoing it
            self.version = version
            self.notice("This client was changed elsewhere after your draft was kept; saving "
                        "it will be refused. Copy what you need, then reopen the client.",
                        severity="warning")
        self.query_one("#f-name").focus()


def _draft_id(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
