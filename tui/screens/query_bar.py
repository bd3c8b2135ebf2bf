"""The query bar (DESIGN section 6, no AI needed): type a structured query as JSON, run it
read-only through :func:`core.query.run_query`, see the rows in a table.

Decisions: the query is edited in a multi-line box, prefilled with an example, and runs
with ``ctrl+s`` (``enter`` inserts a new line, as JSON wants; the example starts selected,
so typing or pasting replaces it); ``F2`` shows the whitelist
exactly as ``tssg-crm query --schema`` prints it. A refused query (bad JSON, a field or
table outside the whitelist, a query the database stopped) is shown in plain words under the
box and the previous rows stay on screen. Results are capped by the query's own ``limit``
(at most :data:`core.query.MAX_LIMIT` rows), so they are loaded in one go rather than paged.
Every cell is literal ``Text``: row values are user data and never markup.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Label, Static, TextArea
from textual.worker import get_current_worker

from core.errors import DomainError
from core.query import (
    MAX_LIMIT,
    QueryResult,
    parse_query,
    run_query,
    schema_text,
    validate_query,
)
from tui import render
from tui.screens.base import CrmModal, CrmScreen
from tui.widgets import table_fill
from tui.widgets.key_hints import KeyHints
from tui.widgets.section_bar import SectionBar

EXAMPLE = """\
{"entity": "invoices",
 "fields": ["number", "client.name", "balance", "days_overdue"],
 "where": [{"field": "overdue", "op": "eq", "value": true}],
 "sort": [{"field": "days_overdue", "dir": "desc"}],
 "limit": 50}"""


class SchemaScreen(CrmModal[None]):
    """The query language and every entity and field a query may name."""

    CSS_PATH = ["dialogs.tcss", "query_bar.tcss"]
    BINDINGS = [Binding("escape,f2,q", "close", "Close", id="query.schema_close")]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog schema-dialog"):
            yield Label("What a query can read", markup=False, classes="dialog-title")
            with VerticalScroll(id="schema-scroll"):
                yield Static(render.paragraph(schema_text()), id="schema-text")
            yield Label("arrows and page keys scroll · escape closes", markup=False,
                        classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#schema-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)


class QueryBarScreen(CrmScreen[None]):
    CSS_PATH = "query_bar.tcss"
    HELP_TITLE = "Query data"
    TEXT_ENTRY = True  # "?" is typed into the query: the hints offer F1 for help
    BINDINGS = [
        Binding("ctrl+s", "run", "Run", id="query.run"),
        Binding("f2", "schema", "Fields", id="query.schema"),
        Binding("escape", "close", "Back", id="query.close"),
    ]

    def __init__(self, query: str = EXAMPLE) -> None:
        super().__init__()
        self.initial_query = query
        self.result: QueryResult | None = None
        self._generation = 0

    def compose(self) -> ComposeResult:
        yield SectionBar(self.app.current_mode)
        with Vertical(id="query-body"):
            yield Label("Query (JSON) · ctrl+s runs it · F2 lists entities and fields",
                        markup=False, id="query-title")
            yield TextArea(self.initial_query, id="query-text", language=None,
                           soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
            yield Label("", id="query-status", markup=False)
            yield DataTable(id="query-rows", cursor_type="row", zebra_stripes=True)
        yield KeyHints()

    def on_mount(self) -> None:
        text_area = self.query_one("#query-text", TextArea)
        text_area.focus()
        text_area.select_all()  # the example is replaced by the first key or paste
        self._status("Edit the query and press ctrl+s to run it (read-only).")

    # ------------------------------------------------------------------ running

    def action_run(self) -> None:
        self._generation += 1
        self._status("Running…")
        self._run(self.query_one("#query-text", TextArea).text, self._generation)

    @work(thread=True, exclusive=True, group="query-bar", exit_on_error=False)
    def _run(self, text: str, generation: int) -> None:
        outcome: QueryResult | DomainError
        try:
            query = validate_query(parse_query(text), today=self.crm.today)
            outcome = run_query(self.db, query)
        except DomainError as exc:  # ValidationError (which part, why) or QueryRefused
            outcome = exc
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, generation, outcome)

    def _show(self, generation: int, outcome: QueryResult | DomainError) -> None:
        if not self.is_attached:  # the screen was closed while the worker ran
            return
        if generation != self._generation:
            return
        text_area = self.query_one("#query-text", TextArea)
        if isinstance(outcome, DomainError):
            message = render.error_text(outcome)
            self._status(f"Not run: {message}", error=True)
            text_area.add_class("-error")
            self.notice(message, severity="error", title="Query refused")
            return
        text_area.remove_class("-error")
        self.result = outcome
        headers, cells = outcome.table()
        table_fill.fill(self.query_one("#query-rows", DataTable),
                        [render.plain(header, style="bold") for header in headers],
                        [[render.plain(cell) for cell in row] for row in cells],
                        column_keys=[f"c{n}" for n in range(len(headers))])
        count = len(cells)
        words = f"{count} row{'s' if count != 1 else ''}"
        if outcome.truncated:
            words += (f" (more matched: raise \"limit\", at most {MAX_LIMIT}, or narrow "
                      "the query)")
        self._status(words)

    def _status(self, text: str, *, error: bool = False) -> None:
        label = self.query_one("#query-status", Label)
        label.update(render.content(text))
        label.set_class(error, "-failed")

    # ------------------------------------------------------------------ other keys

    def action_schema(self) -> None:
        self.app.push_screen(SchemaScreen())

    def action_close(self) -> None:
        self.dismiss(None)

    def rows_shown(self) -> list[list[Any]]:
        """The cells on screen, as plain strings (what a person reads)."""
        table = self.query_one("#query-rows", DataTable)
        return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]

