"""A section that is not built yet: says so, and keeps the section keys working."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.widgets import Label

from tui.screens.base import CrmScreen
from tui.widgets.key_hints import KeyHints
from tui.widgets.section_bar import SectionBar


class ComingSoonScreen(CrmScreen[None]):
    CSS_PATH = "coming_soon.tcss"

    def __init__(self, mode: str, title: str) -> None:
        super().__init__()
        self.mode, self.section_title = mode, title
        self.HELP_TITLE = title

    def compose(self) -> ComposeResult:
        yield SectionBar(self.mode)
        with Middle(), Center():
            yield Label(
                f"{self.section_title} are coming soon.\n\n"
                f"Press {self.crm.key_for('app.section.clients', '1')} for Clients.",
                markup=False,
                classes="coming-soon",
            )
        yield KeyHints()
