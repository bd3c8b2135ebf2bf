"""Section 5, Invoices: every invoice, paged in SQL, with what is overdue standing out.

The list holds only the pages scrolled to: a keyset page of ``PAGE_SIZE`` rows from
:func:`core.lists.list_invoices` is fetched in a thread worker when the cursor comes within
``PREFETCH_MARGIN`` rows of the end. ``f`` cycles the filter (all, open, overdue, drafts,
part paid, paid, void), ``s`` the sort (newest first, due date, balance, total). ``enter``
opens an invoice; ``n`` starts a blank invoice (pick the client first), ``j`` one from a job
that is ready to invoice. ``/`` searches invoices by number or the client's name
(:mod:`tui.screens.list_search`): the hits replace the list until escape.

Decisions where the issue is silent: an overdue invoice is drawn in the theme's error colour
with its days overdue; an open invoice due within ``DUE_SOON_DAYS`` days shows its due date
in the warning colour. The colours are the theme's, read again when the theme changes.
Below 90 columns the total column is left out (the balance is what matters). A draft owes
nothing yet: its balance column shows, dimmed, what it will ask for.
"""

from __future__ import annotations

from rich.style import Style
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.color import Color
from textual.containers import Vertical
from textual.widgets import DataTable, Label
from textual.worker import get_current_worker

from core.list_search import find_invoices
from core.lists import InvoiceRow, list_invoices
from core.paging import Cursor, Page
from tui import render
from tui.screens.base import CrmScreen
from tui.screens.list_search import SEARCH_LIMIT, ListSearch
from tui.screens.paging import KeysetPaging
from tui.widgets.key_hints import KeyHints
from tui.widgets.section_bar import SectionBar

PAGE_SIZE = 100
NARROW = 90
DUE_SOON_DAYS = 7

FILTERS: tuple[tuple[str | None, str], ...] = (
    (None, "All invoices"),
    ("open", "Open"),
    ("overdue", "Overdue"),
    ("draft", "Drafts"),
    ("partially_paid", "Part paid"),
    ("paid", "Paid"),
    ("void", "Void"),
)
SORTS: tuple[tuple[str, bool, str], ...] = (
    ("number", True, "newest first"),
    ("due_date", False, "by due date"),
    ("balance", True, "largest balance first"),
    ("total", True, "largest total first"),
)


def column_widths(width: int) -> dict[str, int]:
    """Column widths for a terminal ``width`` columns wide (cell padding and scrollbar aside)."""
    fixed = {"number": 13, "status": 9, "due": 10, "late": 8}
    if width >= NARROW:
        fixed["total"] = 11
    fixed["balance"] = 11
    rest = max(width - 2 - 2 * (len(fixed) + 1) - sum(fixed.values()), 14)
    return {"number": fixed["number"], "client": rest,
            **{k: v for k, v in fixed.items() if k != "number"}}


def late_text(days: int) -> str:
    return "" if days <= 0 else f"{days} day" if days == 1 else f"{days} days"


class InvoiceListScreen(ListSearch, KeysetPaging, CrmScreen[None]):
    CSS_PATH = "invoices.tcss"
    HELP_TITLE = "Invoices"
    SEARCH_ID = "invoices"
    SEARCH_PLACEHOLDER = "Search invoices by number or client…"
    SEARCH_NOUN = "invoices"
    BINDINGS = [
        Binding("slash", "search", "Search", id="invoices.search"),
        Binding("enter", "open", "Open", id="invoices.open", show=False),
        Binding("n", "new", "New", id="invoices.new"),
        Binding("j", "from_job", "From job", id="invoices.from_job"),
        Binding("f", "cycle_filter", "Filter", id="invoices.filter"),
        Binding("s", "cycle_sort", "Sort", id="invoices.sort"),
        Binding("escape", "clear_search", "Clear search", id="invoices.clear_search",
                show=False),
        Binding("down", "to_results", "To the hits", id="invoices.to_results", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._styles: dict[str, Style] = {}

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield SectionBar("invoices")
        with Vertical(id="invoices-body"):
            yield self.search_box()
            yield Label("", id="invoice-list-status", markup=False)
            yield DataTable(id="invoice-table", cursor_type="row", zebra_stripes=True)
            yield self.search_results()
        yield KeyHints()

    @property
    def table(self) -> DataTable[object]:
        return self.query_one("#invoice-table", DataTable)

    def on_mount(self) -> None:
        self._read_theme()
        self._set_columns()
        self.focus_list()
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def on_screen_resume(self) -> None:
        if self._seen_data_version != self.crm.data_version:
            self._seen_data_version = self.crm.data_version
            self.reload(keep_id=self.highlighted_invoice_id())
            self.search_again()

    def on_resize(self) -> None:
        if column_widths(self.size.width) != self._widths:
            self._set_columns()

    def _read_theme(self) -> None:
        """Rich styles from the theme's error and warning colours (ANSI ones stay ANSI)."""
        variables = self.app.theme_variables
        self._styles = {
            name: Style(color=Color.parse(variables[name]).rich_color, bold=True)
            for name in ("error", "warning") if name in variables
        }

    def _theme_changed(self, _theme: object) -> None:
        self._read_theme()
        self._set_columns()

    def _set_columns(self) -> None:
        widths = column_widths(self.size.width or self.app.size.width)
        self._widths = widths
        table = self.table
        keep = self.highlighted_invoice_id()
        table.clear(columns=True)
        titles = {"number": "Number", "client": "Client", "status": "Status", "due": "Due",
                  "late": "Overdue", "total": "Total", "balance": "Balance"}
        for key, width in widths.items():
            table.add_column(titles[key], width=width, key=key)
        self._add_rows(self._rows)
        self._move_to(keep)
        self.copy_columns_to_results()

    # ------------------------------------------------------------------ the list

    def _fetch_page(self, generation: int, cursor: Cursor | None, keep_id: int | None) -> None:
        sort, descending, _label = SORTS[self.sort_index]
        status = FILTERS[self.filter_index][0]
        self._fetch_in_thread(generation, status, sort, descending, cursor, keep_id)

    @work(thread=True, exclusive=True, group="invoice-list", exit_on_error=False)
    def _fetch_in_thread(self, generation: int, status: str | None, sort: str, descending: bool,
                         cursor: Cursor | None, keep_id: int | None) -> None:
        page = list_invoices(self.db, today=self.crm.today, status=status, sort=sort,
                             descending=descending, cursor=cursor, limit=PAGE_SIZE)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_page, generation, page, cursor is None, keep_id)

    def _show_page(self, generation: int, page: Page[InvoiceRow], first: bool,
                   keep_id: int | None) -> None:
        if not self._apply_page(generation, page, first, keep_id):
            return
        self._show_status()
        self._maybe_fetch_more()

    def _add_rows(self, rows: list[InvoiceRow]) -> None:
        for row in rows:
            self.table.add_row(*self._cells(row), key=str(row.id))

    def search_find(self, query: str) -> list[InvoiceRow]:
        return find_invoices(self.db, query, today=self.crm.today, limit=SEARCH_LIMIT)

    def search_cells(self, row: InvoiceRow) -> list[object]:
        return self._cells(row)

    def _cells(self, row: InvoiceRow) -> list[object]:
        wide = "total" in self._widths
        error = self._styles.get("error", Style(bold=True, reverse=True))
        warning = self._styles.get("warning", Style(bold=True))
        today = self.crm.today
        late = row.days_overdue > 0
        open_ = row.status in ("issued", "partially_paid") and row.balance_cents > 0
        soon = (open_ and not late and row.due_date is not None
                and (row.due_date - today).days <= DUE_SOON_DAYS)
        number = row.number or "Draft"
        if row.kind == "deposit":
            number += " dep"
        cells = [
            render.plain(number, style=error if late else "bold" if row.number else "dim"),
            render.plain(row.client_name),
            render.plain(render.status(row.status), style=error if late else ""),
            render.plain(row.due_date.isoformat() if row.due_date else "",
                         style=error if late else warning if soon else ""),
            render.plain(late_text(row.days_overdue), style=error, justify="right"),
        ]
        if wide:
            cells.append(render.money(row.total_cents, row.currency))
        if row.status == "draft":  # owes nothing yet: what it will ask for, dimmed
            balance = render.money(row.total_cents, row.currency)
            balance.stylize("dim")
        else:
            balance = render.money(row.balance_cents, row.currency)
        if late:
            balance.stylize(error)
        cells.append(balance)
        return cells

    @on(DataTable.RowHighlighted, "#invoice-table")
    def _row_highlighted(self) -> None:
        self._maybe_fetch_more()

    def _show_status(self) -> None:
        status = self.query_one("#invoice-list-status", Label)
        if self.searching:
            status.update(render.content(self.search_status()))
            return
        shown = len(self._rows)
        name = FILTERS[self.filter_index][1]
        if not shown and not self._loading:
            new = self.crm.key_for("invoices.new", "n")
            job = self.crm.key_for("invoices.from_job", "j")
            if self.filter_index == 0:
                text = f"No invoices yet. Press {new} for a blank invoice or {job} to invoice a job."
            else:
                key = self.crm.key_for("invoices.filter", "f")
                text = f"No invoices in “{name}”. Press {key} to change the filter."
        else:
            more = ", more below" if self._next_cursor is not None else ""
            text = f"{name} · {SORTS[self.sort_index][2]} · {shown} shown{more}"
        status.update(render.content(text))

    # ------------------------------------------------------------------ actions

    def highlighted_invoice_id(self) -> int | None:
        """The invoice under the cursor: the highlighted hit while searching."""
        if self.showing_results:
            hit = self.highlighted_hit()
            return hit.id if hit is not None else None
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        invoice_id = self.highlighted_invoice_id()
        if invoice_id is not None:
            self.crm.open_invoice(invoice_id)

    def action_new(self) -> None:
        from tui.screens.invoice_form import ClientPickerDialog, InvoiceFormScreen

        def form_closed(invoice_id: int | None) -> None:
            if invoice_id is not None:
                self.crm.open_invoice(invoice_id)

        def picked(client_id: int | None) -> None:
            if client_id is not None:
                self.app.push_screen(InvoiceFormScreen(client_id=client_id), form_closed)

        self.app.push_screen(ClientPickerDialog(), picked)

    def action_from_job(self) -> None:
        from tui.screens.invoice_dialogs import JobPickerDialog

        def created(invoice_id: int | None) -> None:
            if invoice_id is not None:
                self.crm.open_invoice(invoice_id)

        self.app.push_screen(JobPickerDialog(), created)

    def action_cycle_filter(self) -> None:
        self.filter_index = (self.filter_index + 1) % len(FILTERS)
        self.reload()
        self._show_status()

    def action_cycle_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(SORTS)
        self.reload()
        self._show_status()
