"""Fill a :class:`~textual.widgets.DataTable` whose column widths follow its content.

Textual measures auto-width columns on the next idle, after the rows were added; when the
table is drawn before that (a busy machine), the drawn lines are cached at the header's
width and stay cut ("Sta…", "8.8…") until something else changes. Widths measured here,
before any row is added, never change afterwards, so nothing stale is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

WIDEST = 60  # a column never takes more cells than this; longer values end in "…"


def _width(cell: Text | str) -> int:
    return cell.cell_len if isinstance(cell, Text) else Text(cell).cell_len


def fill(
    table: DataTable[Any],
    headers: Sequence[Text | str],
    rows: Sequence[Sequence[Text | str]],
    *,
    keys: Sequence[str | None] | None = None,
    column_keys: Sequence[str | None] | None = None,
    widest: int = WIDEST,
) -> None:
    """Replace the table's columns and rows, each column as wide as its widest cell."""
    widths = [_width(header) for header in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], min(widest, _width(cell)))
    table.clear(columns=True)
    for index, header in enumerate(headers):
        key = column_keys[index] if column_keys else None
        table.add_column(header, width=widths[index], key=key)
    for index, row in enumerate(rows):
        table.add_row(*row, key=keys[index] if keys else None)
