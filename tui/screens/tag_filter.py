"""The Clients list's tag filter: pick one of the tags in use (with how many clients carry
it), or no tag. Dismisses with the tag, "" for no tag, or None when cancelled."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from tui import render
from tui.screens.base import CrmModal

NO_TAG = "\x00none"  # the option id of "all tags" (a tag is never empty)


class TagFilterDialog(CrmModal[str | None]):
    CSS_PATH = ["dialogs.tcss", "invoice_dialogs.tcss"]
    HELP_TITLE = "Filter by tag"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="tag_filter.cancel")]

    def __init__(self, current: str, *, status: str | None, include_archived: bool,
                 shown: str) -> None:
        super().__init__(classes="dialog-screen")
        self.current = current
        self.status, self.include_archived = status, include_archived
        self.shown = shown  # the list's status filter, in words

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog picker-dialog"):
            yield Label("Filter by tag", markup=False, classes="dialog-title")
            yield Label(f"{self.shown} with this tag:", markup=False, id="tag-status",
                        classes="dialog-question")
            yield OptionList(id="tag-options", compact=True)
            yield Label("enter filters · escape keeps the filter as it is", markup=False,
                        classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#tag-options").loading = True
        self._load()

    @work(thread=True, exclusive=True, group="tag-filter", exit_on_error=False)
    def _load(self) -> None:
        from core.clients import tags_in_use

        tags = tags_in_use(self.db, status=self.status, include_archived=self.include_archived)
        self.app.call_from_thread(self._show, tags)

    def _show(self, tags: list[tuple[str, int]]) -> None:
        options = self.query_one("#tag-options", OptionList)
        options.loading = False
        options.add_option(Option(Text("Any tag (no tag filter)", style="italic"), id=NO_TAG))
        for tag, count in tags:
            prompt = Text(no_wrap=True, overflow="ellipsis", end="")
            prompt.append(render.one_line(tag), style="bold")
            prompt.append(f"  {count} client{'s' if count != 1 else ''}", style="dim")
            options.add_option(Option(prompt, id=tag))
        if not tags:
            self.query_one("#tag-status", Label).update(
                f"No client in “{self.shown}” has a tag. Add tags in a client's form (e).")
        ids = [NO_TAG] + [tag for tag, _count in tags]
        options.highlighted = ids.index(self.current) if self.current in ids else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        tag = event.option.id or NO_TAG
        self.dismiss("" if tag == NO_TAG else tag)

    def action_cancel(self) -> None:
        self.dismiss(None)
