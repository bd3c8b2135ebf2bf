"""Search as you type, frame by frame: a keystroke's echo and its hits reach the screen in
one frame; a slow or failing search never leaves the screen held; the hits table swaps its
rows without a layout when its scrollbars stay as they are."""

from __future__ import annotations

import gc
import time

from sqlalchemy.exc import OperationalError
from textual.app import App, ComposeResult

import core.search
from core import clients
from core.clients import ClientData, ContactData
from tests.tui.support import make_app, notices, screen_text, settle, wait_until
from tui.screens.clients import ClientListScreen
from tui.widgets.quick_table import QuickTable


def _some_clients(db) -> None:
    for name in ("Acme Ltd", "Apex Plumbing", "Birch & Co"):
        clients.create_client(db, ClientData(name=name),
                              [ContactData(name=f"{name.split()[0]} Office")])


def _record_frames(app, screen: ClientListScreen) -> list[tuple[str, bool]]:
    """What each frame the app draws shows: the box's text, and whether hits are shown."""
    frames: list[tuple[str, bool]] = []
    display = app._display

    def counted(shown_screen, renderable):  # type: ignore[no-untyped-def]
        frames.append((screen.search_box.value, screen.results.display))
        return display(shown_screen, renderable)

    app._display = counted
    return frames


async def test_a_keystroke_and_its_hits_are_drawn_in_one_frame(ui_db):
    _some_clients(ui_db)
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ClientListScreen)
        screen.search_box.hold = 30.0  # however slow the machine: the hits release it
        await pilot.press("slash")
        await settle(pilot)
        frames = _record_frames(app, screen)
        await pilot.press("a")
        await wait_until(pilot, lambda: screen.results.display, "the hits")
        await settle(pilot)
        assert frames, "nothing was drawn"
        assert frames[0] == ("a", True)  # not first the echo alone, then the hits
        assert "Apex Plumbing" in screen_text(app) and app._batch_count == 0
        await pilot.press("p")  # the next key: its hits, again in one frame
        await wait_until(pilot, lambda: screen.results.row_count == 2, "Apex's hits")
        await settle(pilot)
        assert [f for f in frames if f[0] == "ap"][0] == ("ap", True)


async def test_a_slow_search_shows_the_keystroke_on_time_and_its_hits_later(ui_db, monkeypatch):
    _some_clients(ui_db)
    real_search = core.search.search

    def slow_search(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.6)  # a database that answers slowly
        return real_search(*args, **kwargs)

    monkeypatch.setattr(core.search, "search", slow_search)
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.search_box.hold = 0.05
        await pilot.press("slash")
        await settle(pilot)
        frames = _record_frames(app, screen)
        await pilot.press("b")
        await pilot.pause(0.3)  # the hold is over; the search is not
        assert ("b", False) in frames  # the echo, before any hits
        assert app._batch_count == 0
        await wait_until(pilot, lambda: screen.results.display, "the hits")
        await settle(pilot)
        assert frames[-1] == ("b", True) and "Birch & Co" in screen_text(app)


async def test_a_failing_search_does_not_leave_the_screen_held(ui_db, monkeypatch):
    _some_clients(ui_db)

    def broken_search(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("SELECT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(core.search, "search", broken_search)
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.search_box.hold = 30.0  # only the failure can end it in time
        await pilot.press("slash")
        await settle(pilot)
        frames = _record_frames(app, screen)
        await pilot.press("a")
        await wait_until(pilot, lambda: bool(notices(app)), "the error")
        await settle(pilot)
        assert app._batch_count == 0 and ("a", False) in frames
        assert any("Something went wrong (OperationalError)" in n for n in notices(app))


async def test_emptying_the_box_releases_the_screen_and_shows_the_list(ui_db):
    _some_clients(ui_db)
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.search_box.hold = 30.0
        await pilot.press("slash", "b")
        await wait_until(pilot, lambda: screen.results.display, "the hits")
        frames = _record_frames(app, screen)
        await pilot.press("backspace")
        await settle(pilot)
        assert app._batch_count == 0
        assert frames and frames[-1] == ("", False) and screen.table.display
        assert "Acme Ltd" in screen_text(app)


async def test_the_app_keeps_its_objects_out_of_full_collections_while_it_runs(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0  # a process that goes on collects the app's cycles


class _TableApp(App[None]):
    CSS = "QuickTable { height: 12; }"

    def compose(self) -> ComposeResult:
        yield QuickTable()

    def on_mount(self) -> None:
        table = self.query_one(QuickTable)
        table.add_column("Name", width=20, key="name")
        table.add_column("City", width=12, key="city")
        table.add_rows(_rows(30, "first"), [str(i) for i in range(30)])


def _rows(count: int, word: str) -> list[tuple[str, ...]]:
    return [(f"{word} {i}", "Salem") for i in range(count)]


async def test_new_rows_keep_the_scrollbars_right_with_or_without_a_layout():
    app = _TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        table = app.query_one(QuickTable)
        table.focus()
        await pilot.press("end")
        await pilot.pause()
        assert table.scroll_offset.y > 0 and table.show_vertical_scrollbar
        layouts = []
        refresh_layout = app.screen._refresh_layout
        app.screen._refresh_layout = lambda *a, **k: (layouts.append(1), refresh_layout(*a, **k))

        table.set_rows(_rows(40, "second"), [str(i) for i in range(40)])
        await pilot.pause()
        assert layouts == []  # still a scrollbar: only its thumb changes
        assert table.vertical_scrollbar.window_virtual_size == 41  # 40 rows and the header
        assert (table.cursor_row, table.scroll_offset.y) == (0, 0)
        lines = [table.render_line(y).text for y in range(3)]
        assert "second 0" in lines[1] and "second 1" in lines[2]

        table.set_rows(_rows(3, "third"), ["a", "b", "c"])  # no scrollbar any more: a layout
        await pilot.pause()
        assert layouts and not table.show_vertical_scrollbar
        assert [table.key_at(i) for i in range(3)] == ["a", "b", "c"]
        assert "third 2" in table.render_line(3).text
