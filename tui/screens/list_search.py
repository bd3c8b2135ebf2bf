"""``/`` search on a section's list (proposals, jobs, invoices, tasks), the way the client
list searches: a box that narrows the list as you type.

``/`` shows the search box under the list's filter line and puts the cursor in it. Each
keystroke asks core (:mod:`core.list_search`) for the matching rows at once, in the search
thread the client list uses too (:class:`tui.latest_only.LatestOnly`: one query at a time,
only the latest text next); they replace the list, drawn with the list's own columns, until
the box is emptied. A result from an older keystroke is dropped by its generation number.
``enter`` in the box opens the highlighted hit (the first one unless the cursor moved),
``down`` goes into the hits, ``escape`` clears the search and hides the box; the paged list
underneath keeps its place. Keys that act on the highlighted row act on the highlighted hit.

A screen using :class:`ListSearch` (listed before the Screen class) has ``table`` (its
DataTable), yields :meth:`search_box` and :meth:`search_results` in its ``compose``, calls
:meth:`mount_search` when mounted and :meth:`copy_columns_to_results` after (re)building its
columns, shows :meth:`search_status` in its status line while :attr:`searching`, and
implements :meth:`search_find` (in a thread), :meth:`search_cells` and ``action_open``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from textual.widgets import DataTable, Input

from tui.latest_only import LatestOnly

SEARCH_LIMIT = 50


class ListSearch:
    SEARCH_PLACEHOLDER = "Search…"
    SEARCH_NOUN = "records"
    SEARCH_ID = ""  # the binding id prefix ("proposals" -> "proposals.search"); else MODE

    app: Any
    table: Any
    query_one: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._searcher = LatestOnly("list-search", self._search_failed)
        self._search_generation = 0
        self._found_generation = -1  # the generation of the hits on screen
        self._open_when_found = False
        self.found: list[Any] = []

    # ------------------------------------------------------------------ to implement

    def search_find(self, query: str) -> list[Any]:
        """The rows matching ``query`` (runs in a thread worker)."""
        raise NotImplementedError

    def search_cells(self, row: Any) -> Sequence[object]:
        """The cells of a hit, in the list's column order."""
        raise NotImplementedError

    def search_key(self, row: Any) -> str:
        return str(row.id)

    def action_open(self) -> None:
        raise NotImplementedError

    def _show_status(self) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ widgets

    def search_box(self) -> Input:
        box = Input(placeholder=self.SEARCH_PLACEHOLDER, classes="list-search", compact=True)
        box.display = False
        box.can_focus = False  # hidden: not even the screen's first focus may land in it
        return box

    def search_results(self) -> DataTable[object]:
        table: DataTable[object] = DataTable(classes="list-results", cursor_type="row",
                                             zebra_stripes=True)
        table.display = False
        return table

    @property
    def box(self) -> Input:
        return self.query_one(".list-search", Input)  # type: ignore[no-any-return]

    @property
    def results(self) -> DataTable[object]:
        return self.query_one(".list-results", DataTable)  # type: ignore[no-any-return]

    @property
    def searching(self) -> bool:
        """Something is typed in the box: the hits, not the list, are what counts."""
        return bool(self.box.value.strip())

    @property
    def showing_results(self) -> bool:
        return self.searching and bool(self.results.display)

    def copy_columns_to_results(self) -> None:
        """The hits take the list's columns (after the list built or rebuilt them)."""
        results = self.results
        results.clear(columns=True)
        for column in self.table.columns.values():
            results.add_column(column.label, width=column.width, key=column.key.value)
        self._fill_results()

    def highlighted_hit(self) -> Any | None:
        results = self.results
        row = results.cursor_row
        if self.showing_results and 0 <= row < len(self.found):
            return self.found[row]
        return None

    def search_binding_key(self) -> str:
        """The key that starts a search, as the user's keymap has it, for the screen's texts."""
        prefix = self.SEARCH_ID or getattr(self, "MODE", "")
        return str(self.app.shown_key(f"{prefix}.search", "slash"))

    def search_status(self) -> str:
        query = " ".join(self.box.value.split())
        if self._found_generation != self._search_generation:
            return f"Searching {self.SEARCH_NOUN} for “{query}”…"
        count = len(self.found)
        if not count:
            return f"No {self.SEARCH_NOUN} found for “{query}” · escape clears"
        more = "+" if count >= SEARCH_LIMIT else ""
        return f"{count}{more} found for “{query}” · enter opens · escape clears"

    # ------------------------------------------------------------------ keys

    def focus_list(self) -> None:
        """The list takes the focus when the screen mounts, unless ``/`` was typed ahead
        of it (keys pressed while the section was still loading)."""
        if not self.box.display:
            self.table.focus()

    def action_search(self) -> None:
        box = self.box
        box.display = True
        box.can_focus = True
        box.parent.add_class("-searching")  # for the styles around the box
        box.focus()

    def action_clear_search(self) -> None:
        box = self.box
        if box.value:
            box.value = ""  # Input.Changed puts the list back
        box.display = False
        box.can_focus = False
        box.parent.remove_class("-searching")
        self._show_list()
        self.table.focus()

    def action_to_results(self) -> None:
        if self.showing_results and self.results.row_count:
            self.results.focus()

    # ------------------------------------------------------------------ searching

    # handlers by name, not @on: the decorator only registers on Textual's own classes
    def on_input_changed(self, event: Input.Changed) -> None:
        if not event.input.has_class("list-search"):
            return
        event.stop()
        self._search_generation += 1
        self._open_when_found = False
        if not event.value.strip():
            self.found = []
            self._found_generation = self._search_generation
            self.results.clear()
            self._show_list()
            self._show_status()
            return
        self._run_list_search(event.value, self._search_generation)
        self._show_status()

    def search_again(self) -> None:
        """Run the search in the box again (after a save elsewhere changed the rows)."""
        if self.searching:
            self._search_generation += 1
            self._run_list_search(self.box.value, self._search_generation)

    def _run_list_search(self, query: str, generation: int) -> None:
        self._searcher.submit(partial(self._search_job, query, generation))

    def _search_job(self, query: str, generation: int) -> None:
        # in the search thread
        rows = self.search_find(query)
        self.app.call_from_thread(self._show_found, generation, rows)

    def _search_failed(self, error: Exception) -> None:
        # in the search thread
        self.app.call_from_thread(self.app.report_error, error, "list search")

    def on_unmount(self) -> None:
        self._searcher.stop()

    def _show_found(self, generation: int, rows: list[Any]) -> None:
        if generation != self._search_generation or not self.searching:
            return  # the user typed on; a newer search is coming
        keep = self.highlighted_hit()
        self.found = rows
        self._found_generation = generation
        self._fill_results()
        if keep is not None:
            key = self.search_key(keep)
            for index, row in enumerate(rows):
                if self.search_key(row) == key:
                    self.results.move_cursor(row=index)
                    break
        self.table.display = False
        self.results.display = True
        self._show_status()
        self._after_search()
        if self._open_when_found:
            self._open_when_found = False
            self._open_from_box()

    def _fill_results(self) -> None:
        results = self.results
        results.clear()
        for row in self.found:
            results.add_row(*self.search_cells(row), key=self.search_key(row))

    def _show_list(self) -> None:
        self.results.display = False
        self.table.display = True
        self._after_search()

    def _after_search(self) -> None:
        """What depends on the highlighted row (the key hints) may have changed."""
        refresh = getattr(self, "refresh_bindings", None)
        if refresh is not None:
            refresh()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not event.input.has_class("list-search"):
            return
        event.stop()
        if not self.searching:
            return
        if self._found_generation != self._search_generation:  # its search is on its way
            self._open_when_found = True
            return
        self._open_from_box()

    def _open_from_box(self) -> None:
        if self.results.row_count:
            self.results.focus()
            self.action_open()
