"""The bottom line of keys for the current screen, after the user's keymap.

Used instead of Textual's ``Footer``, which recomposes itself on every focus change: in the
client form that made each tab cost a couple of hundred milliseconds. These hints are
computed when the screen mounts, and again when the screen says its keys changed.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class KeyHints(Static):
    DEFAULT_CSS = """
    KeyHints {
        dock: bottom;
        height: 1;
        width: 100%;
        background: $footer-background;
        color: $footer-foreground;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def on_mount(self) -> None:
        self.refresh_hints()

    def on_resize(self) -> None:
        self.refresh_hints()

    def refresh_hints(self) -> None:
        app = self.app
        rows = fit(app.hint_rows(self.screen), self.size.width or app.size.width)  # type: ignore[attr-defined]
        parts: list[str | tuple[str, str]] = []
        for key, description in rows:
            parts += [(f" {key} ", "$footer-key-foreground bold"), f"{description} "]
        self.update(Content.assemble(*parts))


def _length(rows: list[tuple[str, str]]) -> int:
    return sum(len(key) + len(description) + 3 for key, description in rows)


def fit(rows: list[tuple[str, str]], width: int) -> list[tuple[str, str]]:
    """The hints that fit in ``width``, in order, but never without the way to all of them:
    when the line is too narrow, screen keys are dropped from the end so "Help" stays."""
    if width <= 0 or _length(rows) <= width:
        return rows
    help_rows = [row for row in rows if row[1] == "Help"]
    kept: list[tuple[str, str]] = []
    budget = width - _length(help_rows)
    for row in rows:
        if row in help_rows:
            continue
        if _length([*kept, row]) > budget:
            break
        kept.append(row)
    return kept + help_rows
