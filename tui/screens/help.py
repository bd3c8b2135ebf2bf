"""Help for the current screen: every key it answers to (after the user's keymap), with
what it does. Opened with ``?`` (or F1 where a text field has the focus)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from tui.screens.base import CrmModal


class HelpScreen(CrmModal[None]):
    CSS_PATH = "dialogs.tcss"
    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close", id="help.close")]

    def __init__(self, title: str, rows: list[tuple[str, str]]) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=True)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("what", ratio=1)
        for key, description in self.rows:
            table.add_row(Text(key), Text(description))
        with Vertical(classes="dialog help-dialog"):
            yield Label(f"Keys: {self.title_text}", markup=False, classes="dialog-title")
            with VerticalScroll(classes="help-keys"):
                yield Static(table)
            yield Label(
                "tab and shift+tab move between fields, the arrows within lists. "
                "escape closes this help.",
                markup=False,
                classes="dialog-hint",
            )

    def action_close(self) -> None:
        self.dismiss(None)
