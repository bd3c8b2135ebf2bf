"""One line above the key hints: the license tier and state on the right, and — only when a
background check failed — one quiet line saying so on the left. Never a popup.

The app mounts one into each full screen as it is shown (screens are composed by their own
modules, so this is added rather than composed); it reads the app's
:class:`tui.background.LicenseView` and updates when a round ends.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from tui.background import LicenseView
from tui.render import content


class StatusLine(Horizontal):
    DEFAULT_CSS = """
    StatusLine {
        dock: bottom;
        height: 1;
        /* the key hints are docked at the bottom too: sit just above them */
        margin-bottom: 1;
        background: $panel;
        color: $text-muted;
    }
    StatusLine #status-problem {
        width: 1fr;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        color: $text-warning;
    }
    StatusLine #status-tier {
        width: auto;
        padding: 0 1;
        text-wrap: nowrap;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.view = LicenseView()

    def compose(self) -> ComposeResult:
        yield Label("", id="status-problem")
        yield Label("", id="status-tier")

    def on_mount(self) -> None:
        self.show(self.view)

    def show(self, view: LicenseView) -> None:
        self.view = view
        if not self.is_mounted or not self.children:
            return  # on_mount shows it
        self.query_one("#status-problem", Label).update(content(view.problems))
        self.query_one("#status-tier", Label).update(content(f"License: {view.tier_text}"))
