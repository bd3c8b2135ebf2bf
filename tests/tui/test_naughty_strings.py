"""Every string of the Big List of Naughty Strings as a client name and a note: the list, the
detail and search show it literally (control characters removed), nothing is taken as
markup, nothing crashes. Plus the three strings that broke Textual apps before."""

from __future__ import annotations

import pytest

from core import clients
from core.clients import ClientData
from core.errors import ValidationError
from core.text import clean_line, clean_text
from tests.tui.support import make_app, settle, wait_until
from tui.screens.client_detail import ClientDetailScreen
from tui.screens.clients import ClientListScreen

MARKUP_TRAPS = ["[bold]x[/]", "Foo [/]", "[@click=app.quit]", "[link=https://evil.test]pay[/link]"]
DETAIL_SAMPLE = 4  # details opened, besides the markup traps


def _assert_literal(text, expected: str) -> None:
    """A cell or label: exactly the cleaned text, with no markup spans or links in it."""
    assert text.plain == expected
    assert all("link" not in str(span.style) and "@" not in str(span.style) for span in text.spans)


@pytest.fixture
def naughty_clients(set_up_db, naughty_strings):
    """(client id -> (name as stored, note as stored)) for every naughty string."""
    stored: dict[int, tuple[str, str]] = {}
    for i, text in enumerate([*naughty_strings, *MARKUP_TRAPS]):
        name = text
        try:
            client_id = clients.create_client(set_up_db, ClientData(name=name, notes=text))
        except ValidationError as exc:
            # blank once control characters are stripped: refused, naming the field
            assert exc.field == "name" and not clean_line(text)
            name = f"Blank name {i}"
            client_id = clients.create_client(set_up_db, ClientData(name=name, notes=text))
        stored[client_id] = (clean_line(name), clean_text(text))
    return stored


async def test_naughty_strings_render_literally_in_list_detail_and_search(
    set_up_db, naughty_clients
):
    app = make_app(set_up_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ClientListScreen)
        table = screen.table
        presses = 0
        while "more below" in str(screen.query_one("#client-list-status").render()):
            await pilot.press("ctrl+end")  # to the last loaded row: the next page comes
            await settle(pilot)
            presses += 1
            assert presses < 20
        assert table.row_count == len(naughty_clients)
        for row_key in table.rows:
            name, _note = naughty_clients[int(row_key.value)]
            _assert_literal(table.get_cell(row_key, "name"), name)

        ids = sorted(naughty_clients)
        step = max(1, len(ids) // DETAIL_SAMPLE)
        traps = [cid for cid, (name, _) in naughty_clients.items() if name in MARKUP_TRAPS]
        for client_id in [*ids[::step], *traps]:
            table.move_cursor(row=table.get_row_index(str(client_id)))
            await pilot.press("enter")
            await wait_until(
                pilot,
                lambda: isinstance(app.screen, ClientDetailScreen) and app.screen.overview,
                "the detail",
            )
            name, note = naughty_clients[client_id]
            header = app.screen.query_one("#client-header").visual
            assert header.plain.split("  ·  ")[0] == name
            if note:
                _assert_literal(app.screen.query_one("#client-notes").visual, note)
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, ClientListScreen)

        for trap in MARKUP_TRAPS:
            screen.query_one("#client-search").value = trap  # as if pasted
            await wait_until(pilot, lambda: screen.results.display, "search results")
            for i, found in enumerate(screen._found):
                if found.hit.kind == "client":
                    cell = screen.results.get_cell(str(i), "label")
                    _assert_literal(cell, naughty_clients[found.hit.ref_id][0])
        assert app.is_running  # [@click=app.quit] did not quit
