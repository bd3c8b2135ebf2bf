"""The top bar: the seven sections with their keys, the current one marked, and the
business name (shown literally, cut to fit)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from tui.render import content

SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("clients", "Clients", "1"),
    ("proposals", "Proposals", "2"),
    ("jobs", "Jobs", "3"),
    ("schedule", "Schedule", "4"),
    ("invoices", "Invoices", "5"),
    ("tasks", "Tasks", "6"),
    ("reports", "Reports", "7"),
)


class SectionBar(Horizontal):
    def __init__(self, current: str) -> None:
        super().__init__(classes="section-bar")
        self.current = current

    def compose(self) -> ComposeResult:
        for mode, title, key in SECTIONS:
            shown = self.app.key_for(f"app.section.{mode}", key)  # type: ignore[attr-defined]
            label = Label(f"{shown} {title}", markup=False, classes="section")
            label.set_class(mode == self.current, "-current")
            yield label
        yield Label(content(self.app.business_name), classes="business-name")  # type: ignore[attr-defined]

    def on_mount(self) -> None:
        self.watch(self.app, "business_name", self._show_business_name, init=False)

    def _show_business_name(self, name: str) -> None:
        self.query_one(".business-name", Label).update(content(name))
