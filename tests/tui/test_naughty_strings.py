"""Every string of the Big List of Naughty Strings as a client name and a note: the list, the
client's page and search show it literally (control characters removed), nothing is taken as
markup, nothing crashes; the markup strings that broke Textual apps before also on a page
opened the way the app opens it.

One app session per backend, with no key presses or settling per string, so the ~520
strings stay fast: the list is paged to its end; every client is shown on a client page
(opened with ``app.open_client``) by the page's own display of what
:func:`core.overview.client_overview` read (a fresh page per client costs ~0.4 s to lay out,
its load worker ~50 ms of thread hand-offs: minutes for 520), on SQLite (the page does not
depend on the backend; storing each string on both is tests/core/test_clients.py); every
string is searched for on both backends with the list's own search function, in a thread
as the search box runs it, its hits put in the results table."""

from __future__ import annotations

import asyncio

import pytest
from textual.geometry import Region

from core import clients
from core.clients import ClientData
from core.errors import ValidationError
from core.overview import client_overview
from core.search import terms
from core.text import clean_line, clean_text
from tests.tui.support import make_app, screen_text, settle, wait_until
from tui.screens.client_detail import ClientDetailScreen
from tui.screens.clients import ClientListScreen

MARKUP_TRAPS = ["[bold]x[/]", "Foo [/]", "[@click=app.quit]", "[link=https://evil.test]pay[/link]"]


def _assert_literal(text, expected: str) -> None:
    """A cell or label: exactly the cleaned text, with no markup spans or links in it."""
    assert text.plain == expected
    assert all("link" not in str(span.style) and "@" not in str(span.style) for span in text.spans)


def _draw(widget) -> None:
    """Draw the widget's lines as the terminal would get them (where wide, combining and
    right-to-left text would break)."""
    widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))


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


async def _open_page(pilot, client_id: int) -> ClientDetailScreen:
    app = pilot.app
    app.open_client(client_id)
    await wait_until(pilot, lambda: isinstance(app.screen, ClientDetailScreen)
                     and app.screen.overview is not None, "the client's page")
    return app.screen


async def _every_client_on_a_page(pilot, naughty_clients) -> None:
    """Every client on a client page: what the page's load reads, shown by the page."""
    app = pilot.app
    page = await _open_page(pilot, next(iter(naughty_clients)))
    header, notes = page.query_one("#client-header"), page.query_one("#client-notes")
    with app.batch_update():  # no repaint of the whole screen per client: drawn below
        for client_id, (name, note) in naughty_clients.items():
            page._show(client_overview(app.db, client_id, today=app.today))
            assert header.visual.plain.split("  ·  ")[0] == name
            assert not any("@" in str(span.style) or "link" in str(span.style)
                           for span in header.visual.spans)
            if note:
                _assert_literal(notes.visual, note)
            else:
                assert notes.visual.plain == "Notes: none"
            _draw(header)
            _draw(notes)
    page.dismiss(None)
    await settle(pilot)


async def test_naughty_strings_render_literally_in_list_detail_and_search(
    set_up_db, naughty_clients, naughty_strings
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
        for key in table.keys:
            name, _note = naughty_clients[int(key)]
            _assert_literal(table.get_cell(key, "name"), name)

        # the markup traps: each page opened as the app opens it, and drawn
        traps = {cid: name for cid, (name, _) in naughty_clients.items() if name in MARKUP_TRAPS}
        for client_id, name in traps.items():
            page = await _open_page(pilot, client_id)
            assert page.query_one("#client-header").visual.plain.split("  ·  ")[0] == name
            assert name in screen_text(app)
            page.dismiss(None)
            await settle(pilot)
        assert app.is_running  # [@click=app.quit] did not quit

        if set_up_db.is_sqlite:  # see the module docstring (PostgreSQL's reads cost ~8 s)
            await _every_client_on_a_page(pilot, naughty_clients)
        assert app.screen is screen

        # search: every string, by the function the search box runs in its thread
        screen.query_one("#client-search").value = "naughty"  # as if typed: results shown
        await wait_until(pilot, lambda: screen.results.display, "search results")
        generation = screen._search_generation

        shown: list[tuple[int, object]] = []

        def search_every_string() -> None:  # in a thread, as the search box runs a search
            for text in naughty_strings + MARKUP_TRAPS:
                if not terms(text):
                    continue  # the box does not search for blanks and punctuation alone
                screen._search(text, generation)  # returns once the hits are in the table
                shown.extend((hit.ref_id, screen.results.get_cell(str(i), "label"))
                             for i, hit in enumerate(screen._found) if hit.kind == "client")

        # the screen is not repainted per search; the table draws each row as it is added
        with app.batch_update():
            await asyncio.to_thread(search_every_string)
        for client_id, cell in shown:  # each client hit's label in the results table
            _assert_literal(cell, naughty_clients[client_id][0])
        assert len({client_id for client_id, _cell in shown}) > len(naughty_clients) // 2
        await settle(pilot)
        assert screen_text(app)  # the last results drawn
        assert app.is_running
