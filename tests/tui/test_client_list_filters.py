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
    gone = clients.create_client(ui_db, ClientData(name="Old Account", tags=["weekly"]))
    clients.archive(ui_db, gone)
    # counted over the clients the list shows: archived ones only when asked for
    assert clients.tags_in_use(ui_db) == [("weekly", 2), ("commercial", 1)]
    assert clients.tags_in_use(ui_db, include_archived=True) == [("weekly", 3), ("commercial", 1)]
    assert clients.tags_in_use(ui_db, status="archived") == [("weekly", 1)]
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
        await wait_until(pilot, lambda: screen.hits_are_current, "the hits for “hartley”")
        assert screen.results.row_count == 50  # 50 at most
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


async def test_a_click_moves_to_a_row_and_a_click_on_it_opens_it(ui_db):
    ids = {name: clients.create_client(ui_db, ClientData(name=name))
           for name in ("Ada Lovelace", "Birch & Sons", "Cy Twombly")}
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ClientListScreen)
        table = screen.table
        # the table's first line is its header; the third row is three lines below it
        await pilot.click("#client-table", offset=(3, 3))
        await settle(pilot)
        assert table.cursor_row == 2 and isinstance(app.screen, ClientListScreen)
        await pilot.click("#client-table", offset=(3, 3))
        await settle(pilot)
        assert isinstance(app.screen, ClientDetailScreen)
        assert app.screen.client_id == ids["Cy Twombly"]
