"""Keyset paging for list screens: one page at a time, the next fetched as the cursor nears
the end, a stale page (filter or sort changed meanwhile) dropped by its generation number.

A screen using :class:`KeysetPaging` (listed before the Screen class) has ``table`` (a
DataTable) and implements
``_fetch_page(generation, cursor, keep_id)`` (starts a worker that hands the page back),
``_add_rows(rows)`` and ``_show_status()``.
"""

from __future__ import annotations

from typing import Any

from core.paging import Page

PREFETCH_MARGIN = 20  # rows from the end at which the next page is asked for


class KeysetPaging:
    """Also the list screens' shared state: the filter and sort picked, the column widths
    drawn, the data version last shown."""

    table: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._generation = 0  # bumped by reload(): pages of an older one are dropped
        self._rows: list[Any] = []
        self._next_cursor: Any = None
        self._loading = False
        self.filter_index = 0
        self.sort_index = 0
        self._widths: dict[str, int] = {}
        self._seen_data_version = -1

    def _fetch_page(self, generation: int, cursor: Any, keep_id: int | None) -> None:
        raise NotImplementedError

    def _add_rows(self, rows: Any) -> None:
        raise NotImplementedError

    def reload(self, keep_id: int | None = None) -> None:
        """Start again from the first page (after a save, or a new filter or sort)."""
        self._generation += 1
        self._loading = True
        self._fetch_page(self._generation, None, keep_id)

    def _apply_page(self, generation: int, page: Page[Any], first: bool,
                    keep_id: int | None) -> bool:
        """Put a fetched page on screen; False when it is stale and was dropped."""
        if generation != self._generation:
            return False  # the filter or sort changed while this page was on its way
        if first:
            self._rows = []
            self.table.clear()
        self._rows.extend(page.rows)
        self._next_cursor = page.next_cursor
        self._add_rows(page.rows)
        self._loading = False
        if first:
            self._move_to(keep_id)
        return True

    def _move_to(self, row_id: int | None) -> None:
        if row_id is None:
            return
        try:
            index = self.table.get_row_index(str(row_id))
        except Exception:  # not on the loaded pages (any more)
            return
        self.table.move_cursor(row=index)

    def _maybe_fetch_more(self) -> None:
        table = self.table
        near_end = table.cursor_row >= table.row_count - PREFETCH_MARGIN
        if near_end and self._next_cursor is not None and not self._loading:
            self._loading = True
            self._fetch_page(self._generation, self._next_cursor, None)
