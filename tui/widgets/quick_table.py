"""A read-only table for search hits that redraw on every keystroke.

Textual's DataTable renders each new cell through Rich's whole pipeline (measure, wrap,
crop): a page of 50 hits took 30-100 ms to draw, several frames, while the search itself
takes one or two milliseconds. :class:`QuickTable` draws fixed-width columns with the Line
API: each row becomes one :class:`~textual.strip.Strip` of plain segments when it is added,
and drawing a line only picks the row and its style. Cells are plain text (one line, control
characters stripped here, never markup), cut with an ellipsis to their column's width in
terminal cells (wide characters count two).

It keeps the part of DataTable's API the search screens use (``add_column``, ``add_row``,
``clear``, ``row_count``, ``cursor_row``, ``move_cursor``, ``get_row_at``, ``get_cell``) and
posts :class:`QuickTable.RowSelected` on enter and :class:`QuickTable.RowHighlighted` when
the cursor moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from core.text import clean_line

_BOLD = Style(bold=True)


@dataclass(frozen=True)
class _Column:
    label: str
    width: int
    key: str
    bold: bool
    right: bool  # numbers: aligned to the right edge


def fit(text: str, width: int, right: bool = False) -> str:
    """``text`` in exactly ``width`` cells: padded (on the left when ``right``), or cut with
    an ellipsis."""
    if width <= 0:
        return ""
    length = cell_len(text)
    if length <= width:
        return " " * (width - length) + text if right else set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


class QuickTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    QuickTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .quick-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        & > .quick-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .quick-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .quick-table--even-row {
            background: $surface-lighten-1 50%;
        }
        &:dark > .quick-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .quick-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "quick-table--header", "quick-table--even-row", "quick-table--cursor",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Open", show=False),
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,ctrl+home", "to(0)", "First", show=False),
        Binding("end,ctrl+end", "to(-1)", "Last", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, repaint=False, init=False)

    @dataclass
    class RowSelected(Message):
        table: QuickTable
        cursor_row: int
        row_key: str

        @property
        def control(self) -> QuickTable:
            return self.table

    @dataclass
    class RowHighlighted(Message):
        table: QuickTable
        cursor_row: int

        @property
        def control(self) -> QuickTable:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._columns: list[_Column] = []
        self._keys: list[str] = []
        self._cells: list[tuple[str, ...]] = []
        self._text: list[list[tuple[str, bool]]] = []  # per row: runs of (text, bold)
        self._styles: dict[str, Style] = {}  # set for each frame by render_lines
        self._index: dict[str, int] = {}  # row key -> row

    # ------------------------------------------------------------------ DataTable's API

    def add_column(self, label: str, *, width: int, key: str, bold: bool = False,
                   right: bool = False) -> None:
        self._columns.append(_Column(label, max(width, 1), key, bold, right))
        self._rebuild()

    def add_row(self, *cells: str | Text, key: str) -> None:
        self.add_rows([cells], [key])

    def add_rows(self, rows: list[tuple[str | Text, ...]], keys: list[str]) -> None:
        """Rows at the end, one redraw for all of them."""
        self._append(rows, keys)
        self._resized()

    def set_rows(self, rows: list[tuple[str | Text, ...]], keys: list[str]) -> None:
        """All the rows replaced, the cursor back on the first: one redraw, and no layout
        unless the table's scrollbars come or go (``clear`` then ``add_rows`` would empty
        the table in between, and the scrollbar going and coming back is a layout)."""
        self._keys, self._cells, self._text, self._index = [], [], [], {}
        self._append(rows, keys)
        self.set_reactive(QuickTable.cursor_row, 0)
        self.scroll_to(y=0, animate=False)
        self._resized()
        self.post_message(self.RowHighlighted(self, 0))

    def _append(self, rows: list[tuple[str | Text, ...]], keys: list[str]) -> None:
        for cells, key in zip(rows, keys, strict=True):
            plain = tuple(clean_line(c.plain if isinstance(c, Text) else str(c)) for c in cells)
            self._index[key] = len(self._keys)
            self._keys.append(key)
            self._cells.append(plain)
            self._text.append(self._segments(plain))

    def clear(self, columns: bool = False) -> None:
        self._keys, self._cells, self._text, self._index = [], [], [], {}
        if columns:
            self._columns = []
        self.cursor_row = 0
        self._resized()

    @property
    def row_count(self) -> int:
        return len(self._keys)

    def move_cursor(self, *, row: int) -> None:
        self.cursor_row = max(0, min(row, self.row_count - 1))

    def get_row_index(self, key: str) -> int:
        """The row of ``key``; KeyError when it is not loaded."""
        return self._index[key]

    def key_at(self, row: int) -> str | None:
        return self._keys[row] if 0 <= row < len(self._keys) else None

    @property
    def keys(self) -> list[str]:
        return list(self._keys)

    def get_column(self, column_key: str) -> list[Text]:
        column = next(i for i, c in enumerate(self._columns) if c.key == column_key)
        return [Text(cells[column]) for cells in self._cells]

    def get_row_at(self, row: int) -> list[Text]:
        return [Text(cell) for cell in self._cells[row]]

    def get_cell(self, row_key: str, column_key: str) -> Text:
        column = next(i for i, c in enumerate(self._columns) if c.key == column_key)
        return Text(self._cells[self._index[row_key]][column])

    # ------------------------------------------------------------------ drawing

    def _segments(self, cells: tuple[str, ...]) -> list[tuple[str, bool]]:
        """A row's text as runs of (text, bold): one run unless a column is bold."""
        runs: list[tuple[str, bool]] = []
        for cell, column in zip(cells, self._columns, strict=False):
            text = " " + fit(cell, column.width, column.right) + " "
            if runs and runs[-1][1] == column.bold:
                runs[-1] = (runs[-1][0] + text, column.bold)
            else:
                runs.append((text, column.bold))
        return runs

    def _rebuild(self) -> None:
        self._text = [self._segments(cells) for cells in self._cells]
        self._resized()

    def _resized(self) -> None:
        size = Size(sum(c.width + 2 for c in self._columns), self.row_count + 1)  # + header
        if size != self.virtual_size:
            shown = (self.show_vertical_scrollbar, self.show_horizontal_scrollbar)
            if self.styles.auto_dimensions or self._scrollbars(size) != shown:
                self.virtual_size = size  # the table's own size or its scrollbars change
            else:
                # Only the scrollbars' thumbs change: a layout (a reflow of the whole screen,
                # several milliseconds) would be wasted on every keystroke of a search.
                self.set_reactive(QuickTable.virtual_size, size)
                if shown[0]:
                    self.vertical_scrollbar.window_virtual_size = size.height
                if shown[1]:
                    self.horizontal_scrollbar.window_virtual_size = size.width
                self.scroll_to(self.scroll_offset.x, min(self.scroll_offset.y, self.max_scroll_y),
                               animate=False)
        self.refresh()

    def _scrollbars(self, size: Size) -> tuple[bool, bool] | None:
        """Which scrollbars (vertical, horizontal) a virtual size needs, as Textual decides
        in ``Widget._refresh_scrollbars``; None (ask for a layout) unless overflow is auto."""
        if (self.styles.overflow_x, self.styles.overflow_y) != ("auto", "auto"):
            return None
        width, height = self.container_size
        vertical = size.height > height
        horizontal = size.width > width - (self.styles.scrollbar_size_vertical if vertical else 0)
        if horizontal and not vertical:
            vertical = size.height > height - self.styles.scrollbar_size_horizontal
        return vertical, horizontal

    def render_lines(self, crop: Region) -> list[Strip]:
        self._styles = self._line_styles()  # once a frame rather than once a line
        return super().render_lines(crop)

    def _line_styles(self) -> dict[str, Style]:
        base = self.rich_style  # walks the ancestors for the background
        return {
            "plain": base,
            "even": base + self.get_component_rich_style("quick-table--even-row"),
            "cursor": base + self.get_component_rich_style("quick-table--cursor"),
            "header": base + self.get_component_rich_style("quick-table--header"),
        }

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        x = self.scroll_offset.x
        styles = self._styles or self._line_styles()
        if y == 0:  # the header stays put
            style = styles["header"]
            header = "".join(" " + fit(c.label, c.width, c.right) + " " for c in self._columns)
            return Strip([Segment(header, style)]).crop_extend(x, x + width, style)
        row = y - 1 + self.scroll_offset.y
        if row >= self.row_count:
            return Strip.blank(width, styles["plain"])
        if row == self.cursor_row:
            style = styles["cursor"]
        else:
            style = styles["even" if row % 2 == 1 else "plain"]
        bold = style + _BOLD
        segments = [Segment(text, bold if is_bold else style) for text, is_bold in self._text[row]]
        return Strip(segments).crop_extend(x, x + width, style)

    # ------------------------------------------------------------------ the cursor

    def watch_cursor_row(self, old: int, new: int) -> None:
        visible = max(self.scrollable_content_region.height - 1, 1)  # less the header
        if new < self.scroll_offset.y:
            self.scroll_to(y=new, animate=False)
        elif new >= self.scroll_offset.y + visible:
            self.scroll_to(y=new - visible + 1, animate=False)
        self.refresh()
        self.post_message(self.RowHighlighted(self, new))

    def action_cursor(self, step: int) -> None:
        self.move_cursor(row=self.cursor_row + step)

    def action_page(self, step: int) -> None:
        self.move_cursor(row=self.cursor_row + step * max(self.scrollable_content_region.height - 1, 1))

    def action_to(self, row: int) -> None:
        self.move_cursor(row=row if row >= 0 else self.row_count - 1)

    def on_click(self, event: events.Click) -> None:
        row = event.y - 1 + self.scroll_offset.y
        if event.y >= 1 and 0 <= row < self.row_count:
            if row == self.cursor_row:
                self.action_select()
            self.move_cursor(row=row)

    def action_select(self) -> None:
        if 0 <= self.cursor_row < self.row_count:
            self.post_message(self.RowSelected(self, self.cursor_row, self._keys[self.cursor_row]))
