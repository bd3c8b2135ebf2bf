"""The client found as you type and that client's service address, shared by the forms that
make a record for one client: the proposal editor and the job form.

A form mixes in :class:`ClientPicking` (before the screen class), names its two widgets in
``CLIENT_FIELD`` and ``ADDRESS_FIELD``, yields them with :meth:`ClientPicking.client_rows`
and provides ``_show_field_error``. Typing in the client field searches clients and
contacts after a short pause; ``down`` moves into the matches, ``enter`` picks (the first
match when pressed in the field), and the picked client's addresses fill the address select
with the client's first service property chosen. Escape closes the matches first
(:meth:`ClientPicking.close_client_matches`).

The handlers use Textual's ``on_<message>`` names rather than ``@on``: ``@on`` is only
collected on Textual's own classes, and a plain mixin keeps the picker out of the screens'
class hierarchy.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Select
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from core.errors import DomainError, ValidationError
from core.lists import AddressRow, list_addresses
from core.search import search, terms
from tui import render

NO_ADDRESS = 0
CLIENT_SEARCH_DEBOUNCE = 0.15
CLIENT_MATCHES = 8


def address_label(a: AddressRow) -> Text:
    """One address as an option of the address select: ``Label: line 1, line 2, city``."""
    place = ", ".join(p for p in (a.line1, a.line2, a.city) if p)
    label = f"{a.label}: {place}" if a.label else place
    if a.kind == "billing":
        label += " (billing)"
    return render.plain(label)


def form_row(label: str, widget: Widget) -> ComposeResult:
    """A form row: the label and the field, then the field's (hidden) error line."""
    with Horizontal(classes="form-row"):
        yield Label(label, classes="field-label", markup=False)
        yield widget
    yield Label("", id=f"{widget.id}-error", classes="field-error", markup=False)


class ClientPicking:
    """Mixin for a form screen with a client field found as you type and an address select.

    ``client_id`` is the picked client (None until one is picked; typing clears it). The
    matches list is ``#<CLIENT_FIELD>-matches``; the form hides it on mount.
    """

    CLIENT_FIELD = ""  # the client Input's id, e.g. "p-client"
    ADDRESS_FIELD = ""  # the address Select's id, e.g. "p-address"

    app: Any
    db: Any
    focused: Any
    query_one: Any
    set_timer: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client_id: int | None = None
        self._client_timer: Timer | None = None
        self._client_generation = 0
        self._client_matches: list[tuple[int, str]] = []
        self._skip_client_value: str | None = None

    def _show_field_error(self, widget_id: str, message: str) -> None:
        """Show ``message`` under the field (or clear it with ""); the form provides this."""
        raise NotImplementedError

    def show_form_error(self, error: DomainError, widget_id: str | None, form_id: str) -> None:
        """A refused save: under ``widget_id`` (focused, scrolled to), else on the line it
        names in the line items, else at the top of the form; always as a notice too."""
        from tui.widgets.line_items import LineItemsEditor

        message = render.error_text(error)
        if widget_id is not None:
            self._show_field_error(widget_id, message)
            target = self.query_one(f"#{widget_id}")
            target.focus()
            target.scroll_visible(animate=False)
        elif not self.query_one(LineItemsEditor).show_error(error):
            form_error = self.query_one("#form-error", Label)
            form_error.update(render.content(message))
            form_error.display = True
            self.query_one(f"#{form_id}").scroll_home(animate=False)
        self.notice(message, severity="error", title="Not saved")

    # ------------------------------------------------------------------ layout

    def client_rows(self) -> ComposeResult:
        """The client field, its matches list and the address select, as form rows."""
        yield from form_row("Client", Input(id=self.CLIENT_FIELD, compact=True,
                                            placeholder="Type a name to find the client"))
        yield OptionList(id=f"{self.CLIENT_FIELD}-matches", compact=True)
        yield from form_row("Address", Select([(Text("No service address"), NO_ADDRESS)],
                                              value=NO_ADDRESS, allow_blank=False,
                                              id=self.ADDRESS_FIELD, compact=True))

    def _show_addresses(self, addresses: list[AddressRow], selected: int | None) -> None:
        ordered = sorted(addresses, key=lambda a: (a.kind != "service", a.id))
        options = [(Text("No service address"), NO_ADDRESS)] + [(address_label(a), a.id)
                                                                for a in ordered]
        select = self.query_one(f"#{self.ADDRESS_FIELD}", Select)
        select.set_options(options)
        ids = {a.id for a in ordered}
        if selected in ids:
            select.value = selected
        elif ordered and ordered[0].kind == "service":
            select.value = ordered[0].id  # a client's first property is the usual place
        else:
            select.value = NO_ADDRESS

    # ------------------------------------------------------------------ what the form reads

    def picked_client(self) -> int:
        """The picked client's id; raises ValidationError("client") when none is picked."""
        if self.client_id is None:
            raise ValidationError("client", "choose a client (type a name, then pick one)")
        return self.client_id

    def picked_address(self) -> int | None:
        """The chosen service address's id, or None for no address."""
        address = self.query_one(f"#{self.ADDRESS_FIELD}", Select).value
        return address if isinstance(address, int) and address != NO_ADDRESS else None

    # ------------------------------------------------------------------ drafts

    def client_draft_values(self) -> dict[str, Any]:
        address = self.query_one(f"#{self.ADDRESS_FIELD}", Select).value
        return {
            "client_id": self.client_id,
            "client_name": self.query_one(f"#{self.CLIENT_FIELD}", Input).value,
            "address_id": address if isinstance(address, int) else None,
        }

    def apply_client_draft(self, values: dict[str, Any]) -> None:
        """Put back the client and address a draft kept (nothing when it kept no client)."""
        client_id = values.get("client_id")
        if not isinstance(client_id, int) or isinstance(client_id, bool):
            return
        name = values.get("client_name")
        self.client_id = client_id
        self._set_client_text(name if isinstance(name, str) else "")
        address = values.get("address_id")
        self._load_addresses(client_id, address if isinstance(address, int) else None)

    # ------------------------------------------------------------------ client lookup

    def _set_client_text(self, name: str) -> None:
        shown = render.one_line(name)
        self._skip_client_value = shown
        self.query_one(f"#{self.CLIENT_FIELD}", Input).value = shown

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != self.CLIENT_FIELD:
            return
        if self._skip_client_value is not None and event.value == self._skip_client_value:
            self._skip_client_value = None
            return
        self._skip_client_value = None
        self.client_id = None  # typing means choosing again
        if self._client_timer is not None:
            self._client_timer.stop()
        self._client_generation += 1
        generation, value = self._client_generation, event.value
        if not terms(value):
            self._hide_client_matches()
            return
        self._client_timer = self.set_timer(
            CLIENT_SEARCH_DEBOUNCE, lambda: self._find_clients(value, generation))

    @work(thread=True, exclusive=True, group="form-client-search", exit_on_error=False)
    def _find_clients(self, text: str, generation: int) -> None:
        hits = search(self.db, text, limit=40, kinds=("client", "contact"))
        names: dict[int, str] = {}  # by client, in the order of the hits
        for hit in hits:
            if hit.client_id is not None and hit.client_name:  # "": the client is gone
                names.setdefault(hit.client_id, hit.client_name)
        found = list(names.items())[:CLIENT_MATCHES]
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_client_matches, found, generation)

    def _show_client_matches(self, found: list[tuple[int, str]], generation: int) -> None:
        if generation != self._client_generation:
            return
        matches = self.query_one(f"#{self.CLIENT_FIELD}-matches", OptionList)
        self._client_matches = found
        matches.clear_options()
        if not found:
            matches.add_option(Option(render.plain("No client matches; add clients in section 1",
                                                   style="dim"), disabled=True))
        for _cid, name in found:
            matches.add_option(Option(render.plain(name)))
        matches.border_title = "↓ to choose, enter picks"
        matches.display = True

    def _hide_client_matches(self) -> None:
        self._client_matches = []
        self.query_one(f"#{self.CLIENT_FIELD}-matches").display = False

    def close_client_matches(self) -> bool:
        """Escape while matches are shown: hide them, back to the client field (True)."""
        if not self._client_matches:
            return False
        self._hide_client_matches()
        self.query_one(f"#{self.CLIENT_FIELD}").focus()
        return True

    def on_key(self, event: events.Key) -> None:
        focused = self.focused
        if event.key == "down" and focused is not None and focused.id == self.CLIENT_FIELD and (
                self._client_matches):
            event.stop()
            matches = self.query_one(f"#{self.CLIENT_FIELD}-matches", OptionList)
            matches.highlighted = 0
            matches.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == self.CLIENT_FIELD and self._client_matches:
            self._pick_client(0)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id != f"{self.CLIENT_FIELD}-matches":
            return
        event.stop()
        self._pick_client(event.option_index)

    def _pick_client(self, index: int) -> None:
        if not 0 <= index < len(self._client_matches):
            return
        client_id, name = self._client_matches[index]
        self.client_id = client_id
        self._set_client_text(name)
        self._hide_client_matches()
        self._show_field_error(self.CLIENT_FIELD, "")
        self.query_one(f"#{self.ADDRESS_FIELD}").focus()
        self._load_addresses(client_id)

    @work(thread=True, exclusive=True, group="form-client-addresses", exit_on_error=False)
    def _load_addresses(self, client_id: int, selected: int | None = None) -> None:
        rows = list_addresses(self.db, client_id=client_id, limit=200).rows
        self.app.call_from_thread(self._show_addresses_of, client_id, rows, selected)

    def _show_addresses_of(self, client_id: int, addresses: list[AddressRow],
                           selected: int | None) -> None:
        # another client was picked while these were read (a running thread is not stopped
        # by the next one): showing them would offer the wrong client's properties
        if client_id == self.client_id and self.is_attached:
            self._show_addresses(addresses, selected)
