"""A blank invoice (``n`` on the invoice list: pick the client, then the lines) and editing a
draft (``e`` on its detail), with the shared line-item editor
(:class:`tui.widgets.line_items.LineItemsEditor`) and live totals.

Saving (``ctrl+s``) calls :func:`core.invoices.create_blank` or
:func:`core.invoices.edit_draft` (with the version the form was opened with, so a save over
someone else's newer one is refused); a refusal is shown under the field it names and as a
notification, and nothing is written. ``escape`` on a form with changes asks first. While
it has unsaved changes they are kept as a draft (:mod:`tui.drafts`): the line rows as typed
(even half-typed), the document discount, terms, due date and notes.

Decisions where the issue is silent: payment terms start at the business default; the due
date may stay empty (issuing sets it to the issue date plus the terms); the printed terms
text is the business default for a new invoice and kept as it was when a draft is edited.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Select, TextArea
from textual.widgets._select import InvalidSelectValueError
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from core import business, invoices
from core.errors import DomainError, NotFound, ValidationError
from core.invoices import InvoiceData
from core.lines import LineData
from core.lists import list_clients
from core.overview import client_names
from core.search import search, terms
from core.text import clean_text
from tui import render
from tui.drafts import Draft, DraftForm
from tui.screens.base import CrmModal, CrmScreen
from tui.screens.cancel_form import cancel_form
from tui.screens.invoice_dialogs import parse_day
from tui.widgets.key_hints import KeyHints
from tui.widgets.line_items import LineChoices, LineItemsEditor, load_choices
from tui.widgets.section_bar import SectionBar

SEARCH_DEBOUNCE = 0.15
PICKER_LIMIT = 50
# validation field name -> the widget that shows it
FORM_FIELDS = {
    "payment terms (days)": "invf-terms-days",
    "due date": "invf-due",
    "notes": "invf-notes",
    "terms": "invf-notes",
}


@dataclass(frozen=True)
class _Loaded:
    client_name: str
    choices: LineChoices
    data: InvoiceData
    version: int | None
    label: str


class ClientPickerDialog(CrmModal[int]):
    """Choose the client a blank invoice is for: type to search, enter picks."""

    CSS_PATH = ["dialogs.tcss", "invoice_dialogs.tcss"]
    HELP_TITLE = "Choose a client"
    TEXT_ENTRY = True
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="client_picker.cancel"),
        Binding("down", "to_list", "To the list", id="client_picker.to_list", show=False),
    ]

    def __init__(self, title: str = "New invoice: which client?") -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self._generation = 0
        self._timer: Timer | None = None
        self._ids: list[int] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog picker-dialog"):
            yield Label(self.title_text, markup=False, classes="dialog-title")
            yield Input(placeholder="Type a name, email, phone or number…", id="picker-search",
                        compact=True)
            yield OptionList(id="picker-clients", compact=True)
            yield Label("enter picks · ↓ to the list · escape cancels", markup=False,
                        classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#picker-search").focus()
        self._find("", self._generation)

    @on(Input.Changed, "#picker-search")
    def _typed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._generation += 1
        value, generation = event.value, self._generation
        self._timer = self.set_timer(SEARCH_DEBOUNCE, lambda: self._find(value, generation))

    @work(thread=True, exclusive=True, group="client-picker", exit_on_error=False)
    def _find(self, query: str, generation: int) -> None:
        found: list[tuple[int, str, str]] = []
        if terms(query):
            hits = search(self.db, query, limit=PICKER_LIMIT)
            seen: set[int] = set()
            for hit in hits:
                if hit.client_id is None or hit.client_id in seen:
                    continue
                seen.add(hit.client_id)
                detail = "" if hit.kind == "client" else f"{hit.kind}: {hit.label}"
                found.append((hit.client_id, hit.client_name or hit.label, detail))
        else:
            page = list_clients(self.db, limit=PICKER_LIMIT)
            found = [(row.id, row.name, row.email) for row in page.rows]
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, generation, found)

    def _show(self, generation: int, found: list[tuple[int, str, str]]) -> None:
        if generation != self._generation:
            return
        options = self.query_one("#picker-clients", OptionList)
        options.clear_options()
        self._ids = [client_id for client_id, _name, _detail in found]
        for client_id, name, detail in found:
            prompt = Text(no_wrap=True, overflow="ellipsis", end="")
            prompt.append(render.one_line(name), style="bold")
            if detail:
                prompt.append(f"  {render.one_line(detail)}", style="dim")
            options.add_option(Option(prompt, id=str(client_id)))
        if found:
            options.highlighted = 0

    @on(Input.Submitted, "#picker-search")
    def _take_first(self) -> None:
        if self._ids:
            self.dismiss(self._ids[0])

    @on(OptionList.OptionSelected, "#picker-clients")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.dismiss(int(event.option.id))

    def action_to_list(self) -> None:
        if self._ids:
            self.query_one("#picker-clients").focus()

    def action_cancel(self) -> None:
        self.dismiss(None)


class InvoiceFormScreen(DraftForm, CrmScreen[int | None]):
    """Dismisses with the invoice id once saved, or None when cancelled."""

    DRAFT_KIND = "invoice"
    DRAFT_MODE = "invoices"
    DRAFT_NOUN = "invoice"

    CSS_PATH = "invoice_form.tcss"
    HELP_TITLE = "Invoice form"
    TEXT_ENTRY = True
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="invoice_form.save"),
        Binding("escape", "cancel", "Cancel", id="invoice_form.cancel"),
    ]

    def __init__(self, *, client_id: int | None = None, invoice_id: int | None = None) -> None:
        super().__init__()
        assert (client_id is None) != (invoice_id is None), "a client for a new one, or an invoice"
        self.client_id = client_id
        self.invoice_id = invoice_id
        self.version: int | None = None
        self._initial: tuple[object, ...] | None = None
        self._saving = False
        self._terms: str | None = None  # None: the business default (a new invoice)
        self._client_name = ""

    def compose(self) -> ComposeResult:
        yield SectionBar("invoices")
        with VerticalScroll(id="invoice-form"):
            with Horizontal(id="invf-head"):
                yield Label("", id="invf-title", markup=False)
                yield self.draft_status()
            yield Label("", id="invf-error", classes="field-error", markup=False)
            yield LineItemsEditor(id="invf-lines")
            with Horizontal(classes="form-row"):
                yield Label("Terms", classes="field-label", markup=False)
                yield Input(id="invf-terms-days", compact=True, classes="short",
                            placeholder="days")
                yield Label("days", classes="field-unit", markup=False)
                yield Label("Due", classes="field-label", markup=False)
                yield Input(id="invf-due", compact=True,
                            placeholder="optional: issue date + terms")
            for widget_id in ("invf-terms-days", "invf-due"):
                yield Label("", id=f"{widget_id}-error", classes="field-error", markup=False)
            with Horizontal(classes="form-row"):
                yield Label("Notes", classes="field-label", markup=False)
                yield TextArea(id="invf-notes", compact=True)
            yield Label("", id="invf-notes-error", classes="field-error", markup=False)
        yield KeyHints()

    def on_mount(self) -> None:
        self.crm.open_forms.add(self)
        self.query_one("#invf-error").display = False
        self.query_one("#invoice-form").loading = True
        self._load()

    def on_unmount(self) -> None:
        self.crm.open_forms.discard(self)

    # ------------------------------------------------------------------ what a task links to

    def task_link(self) -> tuple[str, int] | None:
        if self.invoice_id is not None:
            return ("invoice", self.invoice_id)
        return ("client", self.client_id) if self.client_id is not None else None

    # ------------------------------------------------------------------ loading

    @work(thread=True, exclusive=True, group="invoice-form-load", exit_on_error=False)
    def _load(self) -> None:
        try:
            if self.invoice_id is not None:
                invoice = invoices.get(self.db, self.invoice_id)
                data = invoices.as_invoice_data(invoice)
                name = client_names(self.db, [invoice.client_id]).get(invoice.client_id, "")
                label = invoice.number or "draft invoice"
                loaded = _Loaded(name, load_choices(self.db, data.lines), data, invoice.version,
                                 label)
            else:
                assert self.client_id is not None
                names = client_names(self.db, [self.client_id])
                if self.client_id not in names:
                    raise NotFound("Client", self.client_id)
                defaults = business.load(self.db, "defaults")
                data = InvoiceData(terms_days=int(defaults["payment_terms_days"]))
                loaded = _Loaded(names[self.client_id], load_choices(self.db), data, None, "")
        except NotFound as exc:
            self.app.call_from_thread(self._gone, exc)
            return
        self.app.call_from_thread(self._populate, loaded)

    def _gone(self, error: NotFound) -> None:
        self.draft_finished()  # a draft of an invoice or client that is gone cannot be saved
        self.notice(str(error), severity="error")
        self.dismiss(None)

    async def _populate(self, loaded: _Loaded) -> None:
        self.version = loaded.version
        self._terms = loaded.data.terms
        self._client_name = loaded.client_name
        title = (f"Edit {loaded.label} for {render.one_line(loaded.client_name)}"
                 if self.invoice_id is not None
                 else f"New invoice for {render.one_line(loaded.client_name)}")
        self.query_one("#invf-title", Label).update(render.content(title))
        data = loaded.data
        editor = self.query_one(LineItemsEditor)
        await editor.load(loaded.choices, data.lines, data.discount_kind, data.discount_value)
        self.query_one("#invf-terms-days", Input).value = (
            "" if data.terms_days is None else str(data.terms_days))
        due = data.due_date
        self.query_one("#invf-due", Input).value = (
            due.isoformat() if isinstance(due, dt.date) else str(due or ""))
        self.query_one("#invf-notes", TextArea).text = clean_text(data.notes)
        for widget_id in FORM_FIELDS.values():
            self._field_error(widget_id, "")
        self._initial = self._values()
        self.query_one("#invoice-form").loading = False
        editor.focus_first()
        await self.draft_ready(self.invoice_id)

    # ------------------------------------------------------------------ state

    def _values(self) -> tuple[object, ...]:
        return (
            self.query_one(LineItemsEditor).values(),
            self.query_one("#invf-terms-days", Input).value,
            self.query_one("#invf-due", Input).value,
            self.query_one("#invf-notes", TextArea).text,
        )

    @property
    def is_dirty(self) -> bool:
        return self._initial is not None and self._values() != self._initial

    def gather(self) -> InvoiceData:
        editor = self.query_one(LineItemsEditor)
        lines: list[LineData] = editor.lines()
        kind, value = editor.discount()
        due = parse_day(self.query_one("#invf-due", Input).value, self.crm.today, "due date")
        return InvoiceData(
            lines=lines, discount_kind=kind, discount_value=value,
            terms_days=self.query_one("#invf-terms-days", Input).value.strip() or None,
            terms=self._terms, notes=self.query_one("#invf-notes", TextArea).text,
            due_date=due,
        )

    # ------------------------------------------------------------------ errors

    def _field_error(self, widget_id: str, message: str) -> None:
        label = self.query_one(f"#{widget_id}-error", Label)
        label.update(render.content(message))
        label.display = bool(message)
        self.query_one(f"#{widget_id}").set_class(bool(message), "-error")

    def show_error(self, error: DomainError) -> None:
        message = render.error_text(error)
        shown = self.query_one(LineItemsEditor).show_error(error)
        if not shown and isinstance(error, ValidationError) and error.field in FORM_FIELDS:
            widget_id = FORM_FIELDS[error.field]
            self._field_error(widget_id, message)
            target: Widget = self.query_one(f"#{widget_id}")
            target.focus()
            shown = True
        if not shown:
            form_error = self.query_one("#invf-error", Label)
            form_error.update(render.content(message))
            form_error.display = True
            self.query_one("#invoice-form").scroll_home(animate=False)
        self.notice(message, severity="error", title="Not saved")

    @on(Input.Changed, "#invf-terms-days, #invf-due")
    def _fixing(self, event: Input.Changed) -> None:
        if event.input.has_class("-error") and event.input.id:
            self._field_error(event.input.id, "")

    @on(Input.Blurred, "#invf-due")
    def _check_due(self, event: Input.Blurred) -> None:
        try:
            parse_day(event.value, self.crm.today, "due date")
        except ValidationError as exc:
            self._field_error("invf-due", render.error_text(exc))

    # ------------------------------------------------------------------ actions

    def action_save(self) -> None:
        if self._saving or self._initial is None:
            return
        try:
            data = self.gather()
        except ValidationError as exc:
            self.show_error(exc)
            return
        self._saving = True
        self.query_one("#invf-error").display = False
        self._save(data, self.version)

    @work(thread=True, exclusive=True, group="invoice-form-save", exit_on_error=False)
    def _save(self, data: InvoiceData, version: int | None) -> None:
        try:
            if self.invoice_id is None:
                assert self.client_id is not None
                invoice_id = invoices.create_blank(
                    self.db, self.client_id, data.lines, discount_kind=data.discount_kind,
                    discount_value=data.discount_value, terms_days=data.terms_days,
                    notes=data.notes, terms=data.terms, due_date=data.due_date)
            else:
                invoices.edit_draft(self.db, self.invoice_id, data, expected_version=version)
                invoice_id = self.invoice_id
        except DomainError as exc:
            self.app.call_from_thread(self._save_failed, exc)
            return
        self.app.call_from_thread(self._saved, invoice_id)

    def _save_failed(self, error: DomainError) -> None:
        self._saving = False
        self.show_error(error)

    def _saved(self, invoice_id: int) -> None:
        self._saving = False
        self._initial = self._values()
        self.draft_finished()
        self.crm.note_data_changed()
        self.notice("Saved the draft invoice." if self.invoice_id is None
                    else "Saved the changes to the draft invoice.")
        self.dismiss(invoice_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "invoice-form-save":
            self._saving = False
        super().on_worker_state_changed(event)

    def action_cancel(self) -> None:
        cancel_form(self, "Discard your changes to this invoice?")

    # ------------------------------------------------------------------ drafts

    @classmethod
    def for_draft(cls, draft: Draft) -> InvoiceFormScreen:
        if draft.record_id is not None:
            return cls(invoice_id=draft.record_id)
        client_id = _draft_int(draft.values.get("client_id"))
        return cls(client_id=client_id if client_id is not None else 0)  # 0: "does not exist"

    def draft_label(self, values: dict[str, Any]) -> str:
        return str(values.get("client") or "")

    def draft_values(self) -> dict[str, Any]:
        editor = self.query_one(LineItemsEditor)
        return {
            "version": self.version,
            "client_id": self.client_id,
            "client": self._client_name,
            "lines": [{"desc": row.text("desc"), "qty": row.text("qty"),
                       "price": row.text("price"), "tax": row.tax_rate_id,
                       "disc": row.text("disc"), "item": row.item_id} for row in editor.rows],
            "discount": editor.query_one("#li-doc-discount", Input).value,
            "terms_days": self.query_one("#invf-terms-days", Input).value,
            "due": self.query_one("#invf-due", Input).value,
            "notes": self.query_one("#invf-notes", TextArea).text,
        }

    async def apply_draft(self, values: dict[str, Any]) -> None:
        def text(key: str, data: dict[str, Any] = values) -> str:
            value = data.get(key)
            return value if isinstance(value, str) else ""

        editor = self.query_one(LineItemsEditor)
        rows = [r for r in values.get("lines") or [] if isinstance(r, dict)]
        # the rows as typed, half-typed ones included: fill empty rows, then set their texts
        await editor.load(editor.choices, [LineData("") for _ in rows])
        for row, saved in zip(editor.rows, rows, strict=False):
            for column in ("desc", "qty", "price", "disc"):
                row.query_one(f".li-{column}", Input).value = text(column, saved)
            with contextlib.suppress(InvalidSelectValueError):  # a rate gone since
                row.query_one(".li-tax", Select).value = _draft_int(saved.get("tax")) or 0
            row.item_id = _draft_int(saved.get("item"))
        editor.query_one("#li-doc-discount", Input).value = text("discount")
        self.query_one("#invf-terms-days", Input).value = text("terms_days")
        self.query_one("#invf-due", Input).value = text("due")
        self.query_one("#invf-notes", TextArea).text = text("notes")
        editor.recompute()
        version = _draft_int(values.get("version"))
        if self.invoice_id is not None and version is not None and version != self.version:
            # keep the version the draft was made from: saving over the newer change is
            # refused with the usual message instead of silently undoing it
            self.version = version
            self.notice("This invoice was changed elsewhere after your draft was kept; saving "
                        "it will be refused. Copy what you need, then reopen the invoice.",
                        severity="warning")
        editor.focus_first()


def _draft_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
