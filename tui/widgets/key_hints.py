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

    def refresh_hints(self) -> None:
        app = self.app
        rows = app.hint_rows(self.screen)  # type: ignore[attr-defined]
        parts: list[str | tuple[str, str]] = []
        for key, description in rows:
            parts += [(f" {key} ", "$footer-key-foreground bold"), f"{description} "]
        self.update(Content.assemble(*parts))
