"""Section 1, Clients: the client list, paged in SQL, and search as you type.

The list holds only the pages the user has scrolled to: a keyset page of ``PAGE_SIZE``
rows is fetched in a thread worker when the cursor comes within ``PREFETCH_MARGIN`` rows
of the end. Each keystroke in the search box searches clients, contacts, addresses and
document numbers at once, in a worker (one search at a time: keys typed meanwhile wait for
it and only the latest text is searched next); the hits replace the list until the box is
emptied (or escape is pressed). Enter opens the client a row or
hit belongs to.

Filters cycle with ``f``: active and leads (the default; archived clients are hidden),
active, leads, archived, all; ``g`` picks a tag the clients shown must carry. Sorts cycle
with ``s``: by name (A–Z), newest first.
Below 90 columns the company column is left out so names and emails stay readable.
``v`` checks every unvalidated US address with USPS (Premium) in a background run
(:class:`tui.screens.address_validation.BulkRun`); its dialog shows the progress and the
addresses that need a look, and can be hidden while the run goes on.
After a save elsewhere the list starts again from its first page, keeping the cursor on the
same client when that client is on it.
"""

from __future__ import annotations

import shutil
from functools import partial
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label
from textual.worker import get_current_worker

from core.search import terms
from tui import render
from tui.latest_only import LatestOnly
from tui.screens.base import CrmScreen
from tui.screens.paging import PREFETCH_MARGIN, KeysetPaging
from tui.widgets.key_hints import KeyHints
from tui.widgets.quick_table import QuickTable
from tui.widgets.search_box import SearchBox
from tui.widgets.section_bar import SectionBar

if TYPE_CHECKING:  # the first screen: what needs SQLAlchemy is imported where it is used
    from core.paging import Cursor, Page
    from core.rows import ClientRow
    from core.search import SearchHit
    from tui.screens.address_validation import BulkRun

PAGE_SIZE = 100


def first_page_size() -> int:
    """The quick start's first page (core.first_look): a screenful and the prefetch margin,
    not a whole page; every row costs start-up time (the next page follows the cursor)."""
    return min(PAGE_SIZE, shutil.get_terminal_size().lines + PREFETCH_MARGIN)

SEARCH_LIMIT = 50
SEARCH_HOLD = 0.03  # longest a keystroke's echo waits to be drawn with its hits (search_box)
NARROW = 90

FILTERS: tuple[tuple[str, str], ...] = (
    ("current", "Active and leads"),
    ("active", "Active"),
    ("lead", "Leads"),
    ("archived", "Archived"),
    ("all", "All clients"),
)
SORTS: tuple[tuple[str, bool, str], ...] = (
    ("name", False, "by name"),
    ("created", True, "newest first"),
)
HIT_KINDS = {
    "client": "Client",
    "contact": "Contact",
    "address": "Address",
    "invoice": "Invoice",
    "credit_note": "Credit note",
    "proposal": "Proposal",
    "job": "Job",
}


def column_widths(width: int) -> dict[str, int]:
    """Column widths for a terminal ``width`` columns wide (cell padding and scrollbar aside)."""
    fixed = {"phone": 14, "status": 8, "balance": 11}
    columns = 5 if width < NARROW else 6
    rest = max(width - 2 - 2 * columns - sum(fixed.values()), 24)
    if columns == 5:
        name = rest // 2
        return {"name": name, "email": rest - name, **fixed}
    name, company = rest * 36 // 100, rest * 26 // 100
    return {"name": name, "company": company, "email": rest - name - company, **fixed}


class ClientListScreen(KeysetPaging, CrmScreen[None]):
    # its styles are in tui/app.tcss (loaded with the app, not parsed again for this screen)
    HELP_TITLE = "Clients"
    BINDINGS = [
        Binding("slash", "search", "Search", id="clients.search"),
        Binding("n", "new", "New", id="clients.new"),
        Binding("enter", "open", "Open", id="clients.open", show=False),
        Binding("e", "edit", "Edit", id="clients.edit"),
        Binding("f", "cycle_filter", "Filter", id="clients.filter"),
        Binding("g", "filter_tag", "Tag", id="clients.tag"),
        Binding("s", "cycle_sort", "Sort", id="clients.sort"),
        Binding("v", "validate_addresses", "USPS check", id="clients.validate_addresses"),
        Binding("escape", "clear_search", "Clear search", id="clients.clear_search", show=False),
        Binding("down", "to_results", "To the list", id="clients.to_list", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._search_generation = 0
        self._found_generation = -1  # the generation whose hits are on screen
        self._searcher = LatestOnly("client-search", self._search_failed)
        self._found: list[SearchHit] = []
        self._currency = "USD"  # the business currency, read with each first page
        self.tag = ""  # only clients with this tag ("": any)
        self.address_run: BulkRun | None = None  # the last "validate all" run

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield SectionBar("clients")
        with Vertical(id="clients-body"):
            yield SearchBox(
                placeholder="Search clients, contacts, addresses, numbers…",
                id="client-search",
                compact=True,
                hold=SEARCH_HOLD,
            )
            yield Label("", id="client-list-status", markup=False)
            yield QuickTable(id="client-table")
            yield QuickTable(id="search-results")
        yield KeyHints()

    @property
    def table(self) -> QuickTable:
        return self.query_one("#client-table", QuickTable)

    @property
    def results(self) -> QuickTable:
        return self.query_one("#search-results", QuickTable)

    @property
    def searching(self) -> bool:
        return bool(terms(self.search_box.value))

    def on_mount(self) -> None:
        self.results.display = False
        self._set_columns()
        self.table.focus()
        if self._show_first_look():  # quick start: the rows are in the very first frame
            self._seen_data_version = self.crm.data_version

    def on_screen_resume(self) -> None:
        # The first time, and back from a detail or a form: show what was saved there.
        if self._seen_data_version != self.crm.data_version:
            self._seen_data_version = self.crm.data_version
            self.reload(keep_id=self.highlighted_client_id())
            if self.searching:
                self._searcher.submit(partial(
                    self._search, self.search_box.value,
                    self._search_generation))

    def on_resize(self) -> None:
        if column_widths(self.size.width) != self._widths:
            self._set_columns()

    def _set_columns(self) -> None:
        """(Re)build the columns for the current width, keeping the loaded rows and cursor."""
        widths = column_widths(self.size.width or self.app.size.width)
        self._widths = widths
        table = self.table
        keep = self.highlighted_client_id()
        table.clear(columns=True)
        titles = {"name": "Name", "company": "Company", "email": "Email", "phone": "Phone",
                  "status": "Status", "balance": "Balance"}
        for key, width in widths.items():
            table.add_column(titles[key], width=width, key=key, bold=key == "name",
                             right=key == "balance")
        self._add_rows(self._rows)
        self._move_to(keep)
        results = self.results
        results.clear(columns=True)
        # scrollbar, a cell of padding either side of four columns, the kind ("Credit note")
        rest = max((self.size.width or self.app.size.width) - 2 - 8 - 11, 30)
        results.add_column("Found", width=11, key="kind")
        results.add_column("Match", width=rest * 30 // 100, key="label", bold=True)
        results.add_column("Details", width=rest * 40 // 100, key="detail")
        results.add_column("Client", width=rest - rest * 30 // 100 - rest * 40 // 100, key="client")
        self._fill_results()

    # ------------------------------------------------------------------ the list

    @property
    def filter_key(self) -> str:
        return FILTERS[self.filter_index][0]

    def _show_first_look(self) -> bool:
        """Quick start: the first page read before the database was open (core.first_look);
        the app opens the database once this frame is drawn."""
        look, self.crm.first_look = self.crm.first_look, None
        if look is None:
            return False
        self._currency = look.currency
        self._generation += 1
        self._apply_page(self._generation, look.clients, True, None)
        self._show_status()
        self.call_after_refresh(self.crm.load_runtime)
        return True

    def _fetch_page(self, generation: int, cursor: Cursor | None, keep_id: int | None) -> None:
        sort, descending, _label = SORTS[self.sort_index]
        self._fetch_in_thread(generation, self.filter_key, self.tag, sort, descending, cursor,
                              keep_id)

    @work(thread=True, exclusive=True, group="client-list", exit_on_error=False)
    def _fetch_in_thread(self, generation: int, key: str, tag: str, sort: str, descending: bool,
                         cursor: Cursor | None, keep_id: int | None) -> None:
        from core import business
        from core.lists import list_clients

        page = list_clients(
            self.db,
            status=key if key not in ("current", "all") else None,
            include_archived=key == "all",
            tag=tag or None,
            sort=sort,
            descending=descending,
            cursor=cursor,
            limit=PAGE_SIZE,
        )
        currency = business.load(self.db, "business")["currency"] if cursor is None else None
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_page, generation, page, currency, keep_id)

    def _show_page(
        self, generation: int, page: Page[ClientRow], currency: str | None, keep_id: int | None
    ) -> None:
        if generation == self._generation and currency is not None:
            self._currency = currency or self._currency
        if not self._apply_page(generation, page, currency is not None, keep_id):
            return
        self._show_status()
        self._maybe_fetch_more()

    def _add_rows(self, rows: list[ClientRow]) -> None:
        wide = "company" in self._widths
        cells: list[tuple[str, ...]] = []
        for row in rows:
            cells.append((
                row.name,
                *((row.company_name,) if wide else ()),
                row.email,
                render.phone(row.phone),
                render.status(row.status),
                render.format_money(row.balance_cents, self._currency),
            ))
        self.table.add_rows(cells, [str(row.id) for row in rows])  # type: ignore[arg-type]

    @on(QuickTable.RowHighlighted, "#client-table")
    def _row_highlighted(self) -> None:
        self._maybe_fetch_more()

    def _show_status(self) -> None:
        # one line, sized in CSS: a new text needs no layout (a reflow of the whole screen)
        status = self.query_one("#client-list-status", Label)
        status.update(render.content(self._status_text()), layout=False)

    def _status_text(self) -> str:
        if self.searching:
            query = self.search_box.value
            if not self.results.display:  # the first hits are still on their way
                return f"Searching for “{query}”…"
            count = len(self._found)
            more = "+" if count >= SEARCH_LIMIT else ""
            return f"{count}{more} found for “{query}” · enter opens · escape clears"
        shown = len(self._rows)
        tagged = f" · tag “{self.tag}”" if self.tag else ""
        if not shown and not self._loading:
            if self.tag:
                return (f"No clients in “{FILTERS[self.filter_index][1]}”{tagged}. "
                        "Press g for another tag, f for another filter.")
            if self.filter_key in ("current", "all"):
                return "No clients yet. Press n to add the first one."
            return f"No clients in “{FILTERS[self.filter_index][1]}”. Press f to change the filter."
        more = ", more below" if self._next_cursor is not None else ""
        return (f"{FILTERS[self.filter_index][1]}{tagged} · {SORTS[self.sort_index][2]} · "
                f"{shown} shown{more}")

    # ------------------------------------------------------------------ search

    @property
    def hits_are_current(self) -> bool:
        """The hits on screen are for the text in the box (not an earlier prefix's)."""
        return self.searching and self._found_generation == self._search_generation

    @property
    def search_box(self) -> SearchBox:
        return self.query_one("#client-search", SearchBox)

    @on(Input.Changed, "#client-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self._search_generation += 1
        if not terms(event.value):
            self._found = []
            self.results.clear()
            self.results.display = False
            self.table.display = True
            self._show_status()
            self.search_box.results_shown()
            return
        # at once, in the search thread (tui/latest_only.py): keys typed while a search runs
        # wait for it, and only the latest text is searched next
        self._searcher.submit(partial(self._search, event.value, self._search_generation))

    def _search(self, query: str, generation: int) -> None:
        # in the search thread
        from core.search import search

        hits = search(self.db, query, limit=SEARCH_LIMIT)
        self.app.call_from_thread(self._show_results, generation, hits)

    def _search_failed(self, error: Exception) -> None:
        # in the search thread
        self.app.call_from_thread(self._report_search_error, error)

    def _report_search_error(self, error: Exception) -> None:
        self.search_box.results_shown()
        self.crm.report_error(error, "client search")

    def on_unmount(self) -> None:
        self._searcher.stop()

    def _show_results(self, generation: int, found: list[SearchHit]) -> None:
        if generation != self._search_generation:
            return  # the user typed on; a newer search is coming
        if self.searching:
            self._found = found
            self._found_generation = generation
            self._fill_results()
            self.table.display = False
            self.results.display = True
            self._show_status()
        self.search_box.results_shown()  # the box's echo and these hits: one frame

    def _fill_results(self) -> None:
        self.results.set_rows(  # one redraw for all the hits
            [(HIT_KINDS.get(hit.kind, hit.kind), hit.label, render.hit_detail(hit.detail),
              hit.client_name) for hit in self._found],
            [str(i) for i in range(len(self._found))],
        )

    @on(Input.Submitted, "#client-search")
    def action_to_results(self) -> None:
        target = self.results if self.searching else self.table
        if target.row_count:
            target.focus()

    def action_search(self) -> None:
        self.search_box.focus()

    def action_clear_search(self) -> None:
        search_box = self.search_box
        if search_box.value:
            search_box.value = ""
        self.table.focus()

    # ------------------------------------------------------------------ actions

    def highlighted_client_id(self) -> int | None:
        if self.searching and self.results.display:
            row = self.results.cursor_row
            if 0 <= row < len(self._found):
                return self._found[row].client_id
            return None
        key = self.table.key_at(self.table.cursor_row)
        return int(key) if key is not None else None

    @on(QuickTable.RowSelected)
    def action_open(self) -> None:
        client_id = self.highlighted_client_id()
        if client_id is not None:
            self.crm.open_client(client_id)

    def action_edit(self) -> None:
        client_id = self.highlighted_client_id()
        if client_id is not None:
            self.crm.edit_client(client_id)

    def action_new(self) -> None:
        self.crm.new_client()

    def action_cycle_filter(self) -> None:
        self.filter_index = (self.filter_index + 1) % len(FILTERS)
        self.reload()
        self._show_status()

    def action_filter_tag(self) -> None:
        """Show only the clients with one tag (or any tag again)."""
        from tui.screens.tag_filter import TagFilterDialog

        def picked(tag: str | None) -> None:
            if tag is not None and tag != self.tag:
                self.tag = tag
                self.reload()
                self._show_status()

        key = self.filter_key
        self.app.push_screen(TagFilterDialog(
            self.tag, status=key if key not in ("current", "all") else None,
            include_archived=key == "all", shown=FILTERS[self.filter_index][1]), picked)

    def action_cycle_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(SORTS)
        self.reload()
        self._show_status()

    def action_validate_addresses(self) -> None:
        """Start a USPS check of the unvalidated addresses (or show the one running)."""
        from tui.screens.address_validation import BulkRun, BulkValidationDialog

        run = self.address_run
        if run is None or not run.running:
            run = BulkRun(start_after=run.next_after if run else 0)
            self.address_run = run
            self.run_worker(lambda: run.run(self.crm), thread=True, group="usps-bulk",
                            exit_on_error=False)
        self.app.push_screen(BulkValidationDialog(run))
