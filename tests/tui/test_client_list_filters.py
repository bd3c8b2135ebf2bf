"""The Clients list's tag filter and the search hits table as a user drives them by keys."""

from __future__ import annotations

from core import clients
from core.clients import ClientData, ContactData
from tests.tui.support import make_app, screen_text, settle, type_text, wait_until
from tui.screens.client_detail import ClientDetailScreen
from tui.screens.clients import ClientListScreen


async def test_the_tag_filter_shows_only_the_clients_with_that_tag(ui_db):
    clients.create_client(ui_db, ClientData(name="Birch & Sons", tags=["Commercial", "weekly"]))
    clients.create_client(ui_db, ClientData(name="Ada Lovelace", tags=["weekly"]))
    clients.create_client(ui_db, ClientData(name="Cy Twombly"))
    assert clients.tags_in_use(ui_db) == [("weekly", 2), ("commercial", 1)]
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ClientListScreen)
        await pilot.press("g")
        await wait_until(pilot, lambda: "2 clients" in screen_text(app), "the tags offered")
        text = screen_text(app)
        assert "weekly  2 clients" in text and "commercial  1 client" in text
        await pilot.press("down", "down", "enter")  # past "Any tag" and "weekly"
        await wait_until(pilot, lambda: screen.table.row_count == 1, "the filtered list")
        assert [str(c) for c in screen.table.get_column("name")] == ["Birch & Sons"]
        assert "tag “commercial”" in screen_text(app)

        await pilot.press("g")
        await settle(pilot)
        await pilot.press("escape")  # keeps the filter
        await settle(pilot)
        assert screen.tag == "commercial" and screen.table.row_count == 1

        await pilot.press("g")
        await settle(pilot)
        await pilot.press("home", "enter")  # any tag again
        await wait_until(pilot, lambda: screen.table.row_count == 3, "every client again")
        assert "tag “" not in screen_text(app)


async def test_search_hits_move_with_the_keys_and_open_the_right_client(ui_db):
    names = [f"Hartley {i:02d}" for i in range(40)]
    ids = {name: clients.create_client(ui_db, ClientData(name=name),
                                       [ContactData(name=f"Contact {name}")]) for name in names}
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("slash")
        await type_text(pilot, "hartley")
        # each client is found by its own name and by its contact's
        await wait_until(pilot, lambda: screen.results.row_count == 50, "the hits (50 at most)")
        text = screen_text(app)
        assert "Hartley 00" in text and "50+ found for “hartley”" in text
        await pilot.press("enter")  # to the hits
        await pilot.press("end")
        await settle(pilot)
        last = screen.results.get_row_at(screen.results.row_count - 1)
        assert screen.results.cursor_row == 49 and last[1].plain in screen_text(app)
        await pilot.press("home", "down", "down", "enter")
        await settle(pilot)
        opened = screen.results.get_row_at(2)[3].plain  # the Client column
        assert isinstance(app.screen, ClientDetailScreen)
        assert app.screen.client_id == ids[opened]
