"""Import clients from a CSV file (FreshBooks, Wave, Zoho, Invoicely or any CSV with a column
mapping): a dry-run preview first (:func:`core.importing.plan_import`), then, after a
confirmation, :func:`core.importing.run_import` — all or nothing.

Decisions where the issue is silent: the import key works only after a preview of exactly
the file and choices on screen (changing any of them asks for a new preview), and only when
the preview found no row errors. The mapping is typed as ``Column=field`` pairs separated by
``;`` (the CLI's ``--map``). The preview lists at most :data:`PREVIEW_CLIENTS` clients, and
every skipped row, duplicate, warning and column not imported.
"""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Input, Label, Select, Static

from core import importing
from core.errors import DomainError, ValidationError
from tui import render
from tui.screens.base import CrmScreen
from tui.screens.confirm import ConfirmScreen
from tui.widgets.key_hints import KeyHints
from tui.widgets.section_bar import SectionBar

PREVIEW_CLIENTS = 50
FORMAT_LABELS = {"auto": "Recognise it", "freshbooks": "FreshBooks", "wave": "Wave",
                 "zoho": "Zoho Books", "invoicely": "Invoicely", "generic": "Any CSV (by name)"}


def describe_plan(plan: importing.ImportPlan) -> str:
    """The preview as plain text (every value from the file is cleaned to one line)."""
    fmt = FORMAT_LABELS.get(plan.format, plan.format)
    lines = [f"Format: {fmt}; {plan.rows_read} rows read.",
             f"To import: {len(plan.clients)} clients, {plan.contact_count} contacts, "
             f"{plan.address_count} addresses."]
    for client in plan.clients[:PREVIEW_CLIENTS]:
        lines.append(f"  line {client.line}: {render.one_line(client.client.name)} "
                     f"({len(client.contacts)} contacts, {len(client.addresses)} addresses)")
    if len(plan.clients) > PREVIEW_CLIENTS:
        lines.append(f"  … and {len(plan.clients) - PREVIEW_CLIENTS} more")
    sections = (("Errors (nothing can be imported until they are fixed)", plan.errors),
                ("Skipped rows", plan.skipped), ("Duplicates (not imported)", plan.duplicates),
                ("Warnings", plan.warnings))
    for title, notes in sections:
        if notes:
            lines.append(f"{title}: {len(notes)}")
            lines.extend(f"  {render.one_line(note)}" for note in notes)
    if plan.columns_not_imported:
        lines.append(f"Columns not imported: {len(plan.columns_not_imported)}")
        for col in plan.columns_not_imported:
            kind = "not used by this CRM" if col.known else "unknown column"
            lines.append(f"  {render.one_line(col.column)}: {kind}, {col.values} rows with a "
                         "value")
    return "\n".join(lines)


class ImportClientsScreen(CrmScreen[None]):
    CSS_PATH = "import_clients.tcss"
    HELP_TITLE = "Import clients"
    TEXT_ENTRY = True
    BINDINGS = [
        Binding("ctrl+r", "preview", "Preview", id="import.preview"),
        Binding("ctrl+s", "run_import", "Import", id="import.run"),
        Binding("escape", "back", "Back", id="import.back"),
    ]

    def __init__(self, path: str = "") -> None:
        super().__init__()
        self.start_path = path
        self.plan: importing.ImportPlan | None = None
        self._planned_for: tuple[str, ...] | None = None

    def compose(self) -> ComposeResult:
        yield SectionBar("clients")
        with VerticalScroll(id="import"):
            yield Label("Import clients from a CSV file", id="import-title", markup=False)
            with Horizontal(classes="form-row"):
                yield Label("CSV file", classes="settings-label", markup=False)
                yield Input(self.start_path, id="i-path", compact=True,
                            placeholder="/path/to/clients.csv")
            yield Label("", id="i-path-error", classes="field-error", markup=False)
            with Horizontal(classes="form-row"):
                yield Label("Format", classes="settings-label", markup=False)
                yield Select([(label, key) for key, label in FORMAT_LABELS.items()],
                             value="auto", allow_blank=False, id="i-format", compact=True)
            with Horizontal(classes="form-row"):
                yield Label("Mapping", classes="settings-label", markup=False)
                yield Input(id="i-map", compact=True,
                            placeholder="optional: Column=field; e.g. Cell=phone; Notes=ignore")
            yield Label("", id="i-map-error", classes="field-error", markup=False)
            with Horizontal(classes="form-row"):
                yield Label("Duplicates", classes="settings-label", markup=False)
                yield Select([("Skip them (same email or phone)", "skip"),
                              ("Import them anyway", "import")],
                             value="skip", allow_blank=False, id="i-duplicates", compact=True)
            yield Static(Content("ctrl+r shows what would be imported; nothing is written "
                                 "until you press ctrl+s and confirm."), id="import-help")
            yield Static("", id="import-preview")
        yield KeyHints()

    def on_mount(self) -> None:
        self.query_one("#i-path", Input).focus()

    def _choices(self) -> tuple[str, ...]:
        return (self.query_one("#i-path", Input).value.strip(),
                str(self.query_one("#i-format", Select).value),
                self.query_one("#i-map", Input).value.strip(),
                str(self.query_one("#i-duplicates", Select).value))

    def _show_error(self, widget_id: str, message: str) -> None:
        label = self.query_one(f"#{widget_id}-error", Label)
        label.update(render.content(message))
        label.display = True
        self.query_one(f"#{widget_id}").focus()
        self.notice(message, severity="error")

    def _clear_errors(self) -> None:
        for label in self.query(".field-error"):
            label.display = False

    def action_preview(self) -> None:
        self._clear_errors()
        path_text, fmt, mapping_text, duplicates = self._choices()
        if not path_text:
            self._show_error("i-path", "CSV file: type the path of the file to import")
            return
        path = Path(path_text).expanduser()
        if not path.is_file():
            self._show_error("i-path", f"CSV file: {path} is not a file")
            return
        try:
            mapping = importing.parse_mapping(
                [part.strip() for part in mapping_text.split(";") if part.strip()])
        except ValidationError as exc:
            self._show_error("i-map", render.error_text(exc))
            return
        self.plan = None
        self.query_one("#import-preview", Static).update(Content("Reading the file…"))
        self._plan(path, fmt, mapping, duplicates, self._choices())

    @work(thread=True, exclusive=True, group="import-plan", exit_on_error=False)
    def _plan(self, path: Path, fmt: str, mapping: dict[str, str], duplicates: str,
              choices: tuple[str, ...]) -> None:
        try:
            plan = importing.plan_import(self.db, path, format=fmt, mapping=mapping,
                                         duplicates=duplicates)
        except DomainError as exc:  # ImportRefused: malformed CSV, naming the line
            self.app.call_from_thread(self._refused, f"{path.name}: {exc}; nothing was "
                                                     "imported.")
            return
        self.app.call_from_thread(self._planned, plan, choices)

    def _refused(self, message: str) -> None:
        self.query_one("#import-preview", Static).update(Content(render.one_line(message)))
        self.notice(message, severity="error")

    def _planned(self, plan: importing.ImportPlan, choices: tuple[str, ...]) -> None:
        self.plan, self._planned_for = plan, choices
        hint = ("\n\nPress ctrl+s to import." if plan.clients and not plan.errors else "")
        self.query_one("#import-preview", Static).update(Content(describe_plan(plan) + hint))

    def action_run_import(self) -> None:
        plan = self.plan
        if plan is None or self._planned_for != self._choices():
            self.notice("Preview first (ctrl+r): the import runs exactly what the preview "
                        "shows.", severity="warning")
            return
        if plan.errors:
            self.notice(f"{len(plan.errors)} row(s) have errors (first: {plan.errors[0]}); "
                        "fix the file or map that column to ignore. Nothing was imported.",
                        severity="error")
            return
        if not plan.clients:
            self.notice("Nothing to import.", severity="warning")
            return
        path_text, fmt, mapping_text, duplicates = self._choices()
        mapping = importing.parse_mapping(
            [part.strip() for part in mapping_text.split(";") if part.strip()])

        def answered(yes: bool | None) -> None:
            if yes:
                self._import(Path(path_text).expanduser(), fmt, mapping, duplicates)

        self.app.push_screen(ConfirmScreen(f"Import {len(plan.clients)} clients?",
                                           yes="Import", no="Cancel"), answered)

    @work(thread=True, exclusive=True, group="import-run", exit_on_error=False)
    def _import(self, path: Path, fmt: str, mapping: dict[str, str], duplicates: str) -> None:
        try:
            done = importing.run_import(self.db, path, format=fmt, mapping=mapping,
                                        duplicates=duplicates, source_name=path.name)
        except DomainError as exc:
            self.app.call_from_thread(self._refused, f"{path.name}: {exc}")
            return
        message = (f"Imported {len(done.clients)} clients ({done.contact_count} contacts, "
                   f"{done.address_count} addresses) from {path.name}.")
        self.app.call_from_thread(self._imported, message)

    def _imported(self, message: str) -> None:
        self.plan = None
        self.crm.note_data_changed()
        self.query_one("#import-preview", Static).update(Content(render.one_line(message)))
        self.notice(message)

    def action_back(self) -> None:
        self.dismiss(None)
