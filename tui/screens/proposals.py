"""Section 2, Proposals: the list by status, paged in SQL, with one key per lifecycle step.

:class:`PagedListScreen` is the list machinery the job list shares: a keyset page of
``PAGE_SIZE`` rows is fetched in a thread worker, and the next one when the cursor comes
within ``PREFETCH_MARGIN`` rows of the end; ``f`` cycles the status filter (shown as a strip
above the table), ``o`` the sort; after a save elsewhere the list starts again from its first
page, keeping the cursor on the same record. ``/`` searches the list
(:mod:`tui.screens.list_search`): the hits replace the rows until escape.

Proposals: ``/`` search (by number, title, or the client's name), ``n`` new, ``enter``/``e`` opens (a draft in the editor, anything else read-only),
and on the highlighted row ``s`` send, ``a`` approve, ``d`` decline, ``c`` changes requested,
``j`` convert to a job, ``m`` text the client that it is ready; each refused with the
service's reason when the lifecycle forbids it. Expired is derived from valid-until (:func:`core.lists.list_proposals`). Below 90
columns the valid-until column is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, Label
from textual.worker import get_current_worker

from core.list_search import find_proposals
from core.lists import ProposalRow, list_proposals
from core.paging import Cursor, Page
from tui import render
from tui.screens.base import CrmScreen
from tui.screens.list_search import SEARCH_LIMIT, ListSearch
from tui.screens.paging import KeysetPaging
from tui.screens.proposal_editor import ProposalActions, ProposalEditorScreen
from tui.widgets.key_hints import KeyHints
from tui.widgets.section_bar import SectionBar

PAGE_SIZE = 100
NARROW = 90
LIST_CSS = Path(__file__).with_name("proposals.tcss")  # also the job list's (a subclass elsewhere)


class PagedListScreen(ListSearch, KeysetPaging, CrmScreen[None]):
    """A section's list: filter strip, search box (shown by ``/``), status line, a DataTable
    filled a page at a time, and a DataTable of search hits in the same columns.

    Subclasses give ``MODE`` (also the prefix of their binding ids), ``FILTERS`` ((key, label)), ``SORTS`` ((sort, descending,
    label)), ``COLUMNS`` ((key, title, width; 0 = a share of what is left), ``NARROW_DROP``
    (columns left out below ``NARROW`` columns) and implement :meth:`fetch`, :meth:`cells`,
    :meth:`search_find` and ``action_open``; their ``BINDINGS`` name ``search`` (``/``),
    ``clear_search`` (``escape``) and ``to_results`` (``down``) with ids.
    """

    CSS_PATH = LIST_CSS
    MODE = ""
    NOUN = "records"
    FILTERS: ClassVar[tuple[tuple[str, str], ...]] = ()
    SORTS: ClassVar[tuple[tuple[str, bool, str], ...]] = ()
    COLUMNS: ClassVar[tuple[tuple[str, str, int], ...]] = ()
    NARROW_DROP: ClassVar[tuple[str, ...]] = ()
    EMPTY_HINT = ""

    def __init__(self) -> None:
        super().__init__()
        self._keep_id: int | None = None

    # ------------------------------------------------------------------ to implement

    def fetch(self, filter_key: str, sort: str, descending: bool, cursor: Cursor | None,
              ) -> Page[Any]:
        """One page (runs in a thread worker)."""
        raise NotImplementedError

    def cells(self, row: Any) -> dict[str, Text]:
        raise NotImplementedError

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield SectionBar(self.MODE)
        with Vertical(classes="list-body"):
            yield Label("", classes="filter-strip", markup=False)
            yield self.search_box()
            yield Label("", classes="list-status", markup=False)
            yield DataTable(classes="list-table", cursor_type="row", zebra_stripes=True)
            yield self.search_results()
        yield KeyHints()

    @property
    def table(self) -> DataTable[object]:
        return self.query_one(".list-table", DataTable)

    def on_mount(self) -> None:
        self._set_columns()
        self._show_filters()
        self.focus_list()

    def on_screen_resume(self) -> None:
        if self._seen_data_version != self.crm.data_version:
            self._seen_data_version = self.crm.data_version
            keep = self._keep_id if self._keep_id is not None else self.highlighted_id()
            self._keep_id = None
            self.reload(keep_id=keep)
            self.search_again()

    def on_resize(self) -> None:
        if self._column_widths() != self._widths:
            self._set_columns()
        self._show_filters()

    def _column_widths(self) -> dict[str, int]:
        width = self.size.width or self.app.size.width
        columns = [c for c in self.COLUMNS if width >= NARROW or c[0] not in self.NARROW_DROP]
        fixed = sum(w for _k, _t, w in columns if w)
        flexible = [k for k, _t, w in columns if not w]
        rest = max(width - 2 - 2 * len(columns) - fixed, 12 * max(len(flexible), 1))
        widths: dict[str, int] = {}
        shares = len(flexible)
        for key, _title, w in columns:
            widths[key] = w or rest // shares
        if flexible:  # the last flexible column takes the remainder
            widths[flexible[-1]] += rest - sum(rest // shares for _ in flexible)
        return widths

    def _set_columns(self) -> None:
        widths = self._column_widths()
        self._widths = widths
        keep = self.highlighted_id()
        table = self.table
        table.clear(columns=True)
        titles = {key: title for key, title, _w in self.COLUMNS}
        for key, width in widths.items():
            table.add_column(titles[key], width=width, key=key)
        self._add_rows(self._rows)
        self._move_to(keep)
        self.copy_columns_to_results()

    def _show_filters(self) -> None:
        """The filters in a row, the current one marked; on a narrow terminal the row
        starts later so the current one is always in sight."""
        key = self.crm.key_for(f"{self.MODE}.filter", "f")
        tail = f"  {key} changes · {self.search_binding_key()} searches"
        room = (self.size.width or self.app.size.width) - 4 - len(tail)
        labels = [f" {label} " for _key, label in self.FILTERS]
        first = 0
        while first < self.filter_index and sum(map(len, labels[first:self.filter_index + 1])) + (
                2 if first else 0) > room:
            first += 1
        parts: list[str | tuple[str, str]] = ["…"] if first else []
        for i in range(first, len(labels)):
            parts.append((labels[i], "reverse bold") if i == self.filter_index else labels[i])
        parts.append((tail, "dim"))
        self.query_one(".filter-strip", Label).update(Content.assemble(*parts))

    # ------------------------------------------------------------------ paging

    @property
    def filter_key(self) -> str:
        return self.FILTERS[self.filter_index][0]

    def _fetch_page(self, generation: int, cursor: Cursor | None, keep_id: int | None) -> None:
        sort, descending, _label = self.SORTS[self.sort_index]
        self._fetch_in_thread(generation, self.filter_key, sort, descending, cursor, keep_id)

    @work(thread=True, exclusive=True, group="section-list", exit_on_error=False)
    def _fetch_in_thread(self, generation: int, key: str, sort: str, descending: bool,
                         cursor: Cursor | None, keep_id: int | None) -> None:
        page = self.fetch(key, sort, descending, cursor)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_page, generation, page, cursor is None, keep_id)

    def _show_page(self, generation: int, page: Page[Any], first: bool,
                   keep_id: int | None) -> None:
        if not self._apply_page(generation, page, first, keep_id):
            return
        self._show_status()
        self.refresh_bindings()
        self.query_one(KeyHints).refresh_hints()
        self._maybe_fetch_more()

    def _add_rows(self, rows: Sequence[Any]) -> None:
        keys = list(self._widths)
        for row in rows:
            cells = self.cells(row)
            self.table.add_row(*(cells[k] for k in keys), key=str(row.id))

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self._maybe_fetch_more()
        self.refresh_bindings()

    def _show_status(self) -> None:
        if self.searching:
            self.query_one(".list-status", Label).update(render.content(self.search_status()))
            return
        shown = len(self._rows)
        if not shown and not self._loading:
            text = self.EMPTY_HINT if self.filter_index == 0 else (
                f"No {self.NOUN} in “{self.FILTERS[self.filter_index][1]}”. "
                f"Press {self.crm.key_for(f'{self.MODE}.filter', 'f')} to change the filter.")
        else:
            more = ", more below" if self._next_cursor is not None else ""
            sort_key = self.crm.key_for(f"{self.MODE}.sort", "o")
            text = f"{self.SORTS[self.sort_index][2]} ({sort_key} sorts) · {shown} shown{more}"
        self.query_one(".list-status", Label).update(render.content(text))

    # ------------------------------------------------------------------ shared actions

    def highlighted_id(self) -> int | None:
        """The record under the cursor: the highlighted hit while searching."""
        if self.showing_results:
            hit = self.highlighted_hit()
            return int(hit.id) if hit is not None else None
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    def highlighted_row(self) -> Any | None:
        if self.showing_results:
            return self.highlighted_hit()
        row_id = self.highlighted_id()
        return next((r for r in self._rows if r.id == row_id), None)

    def action_cycle_filter(self) -> None:
        self.filter_index = (self.filter_index + 1) % len(self.FILTERS)
        self._show_filters()
        self.reload()
        self._show_status()

    def action_cycle_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(self.SORTS)
        self.reload()
        self._show_status()

    def refresh_after_action(self, keep_id: int | None) -> None:
        self._seen_data_version = self.crm.data_version
        self.reload(keep_id=keep_id)
        self.search_again()

    # ------------------------------------------------------------------ search

    def search_cells(self, row: Any) -> list[object]:
        cells = self.cells(row)
        return [cells[key] for key in self._widths]


class ProposalListScreen(ProposalActions, PagedListScreen):
    HELP_TITLE = "Proposals"
    MODE = "proposals"
    NOUN = "proposals"
    FILTERS = (
        ("all", "All"),
        ("draft", "Drafts"),
        ("sent", "Sent"),
        ("expired", "Expired"),
        ("approved", "Approved"),
        ("declined", "Declined"),
    )
    SORTS = (
        ("date", True, "Newest first"),
        ("number", True, "By number"),
        ("total", True, "Largest first"),
    )
    COLUMNS = (
        ("number", "Number", 14),
        ("client", "Client", 0),
        ("title", "Title", 0),
        ("status", "Status", 9),
        ("valid", "Valid until", 11),
        ("total", "Total", 12),
    )
    NARROW_DROP = ("valid",)
    EMPTY_HINT = "No proposals yet. Press n to write the first one."
    SEARCH_PLACEHOLDER = "Search proposals by number, title or client…"
    SEARCH_NOUN = "proposals"
    BINDINGS = [
        Binding("n", "new", "New", id="proposals.new"),
        Binding("enter", "open", "Open", id="proposals.open", show=False),
        Binding("e", "open", "Open", id="proposals.edit", show=False),
        *ProposalActions.LIFECYCLE_BINDINGS,
        # shown in the lines above the table, to leave the bottom line to the lifecycle keys
        Binding("f", "cycle_filter", "Filter", id="proposals.filter", show=False),
        Binding("o", "cycle_sort", "Sort", id="proposals.sort", show=False),
        Binding("slash", "search", "Search", id="proposals.search", show=False),
        Binding("escape", "clear_search", "Clear search", id="proposals.clear_search",
                show=False),
        Binding("down", "to_results", "To the hits", id="proposals.to_results", show=False),
    ]

    def fetch(self, filter_key: str, sort: str, descending: bool, cursor: Cursor | None,
              ) -> Page[ProposalRow]:
        return list_proposals(
            self.db, today=self.crm.today, status=None if filter_key == "all" else filter_key,
            sort=sort, descending=descending, cursor=cursor, limit=PAGE_SIZE,
        )

    def search_find(self, query: str) -> list[ProposalRow]:
        return find_proposals(self.db, query, today=self.crm.today, limit=SEARCH_LIMIT)

    def cells(self, row: ProposalRow) -> dict[str, Text]:
        status = row.display_status
        label = "Expired" if status == "expired" else render.status(status)
        return {
            "number": render.plain(row.number or f"draft #{row.id}",
                                   style="" if row.number else "dim"),
            "client": render.plain(row.client_name, style="bold"),
            "title": render.plain(row.title),
            "status": render.plain(label, style="bold" if status == "expired" else ""),
            "valid": render.plain(row.valid_until.isoformat() if row.valid_until else ""),
            "total": render.money(row.total_cents, row.currency),
        }

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("send", "approve", "decline", "request_changes", "convert", "open",
                      "text_client"):
            return self.highlighted_id() is not None
        return True

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        proposal_id = self.highlighted_id()
        if proposal_id is not None:
            self.app.push_screen(ProposalEditorScreen(proposal_id), self._back_from_editor)

    def action_new(self) -> None:
        self.app.push_screen(ProposalEditorScreen(None), self._back_from_editor)

    def _back_from_editor(self, proposal_id: int | None) -> None:
        if proposal_id is not None:
            self._keep_id = proposal_id

    # lifecycle keys on the highlighted row

    def proposal_target(self) -> int | None:
        return self.highlighted_id()

    def lifecycle_done(self, proposal_id: int) -> None:
        self.refresh_after_action(proposal_id)
