"""The quick start: the client list's first page is on screen before the database is opened
(tui.app.RuntimeLoader, core.first_look), and nothing the user does meanwhile is lost."""

from __future__ import annotations

import threading

from config import AppConfig, app_paths
from core.db import Database
from core.errors import DomainError
from core.first_look import first_look
from core.runtime import Runtime
from tests.core.factories import make_client
from tests.tui.support import TODAY, screen_text, settle, wait_until
from tui.app import CrmApp, RuntimeLoader, _cannot_open
from tui.screens.client_detail import ClientDetailScreen
from tui.screens.clients import PAGE_SIZE, first_page_size
from tui.screens.paging import PREFETCH_MARGIN


def _quick_app(path: str, open_it) -> tuple[CrmApp, RuntimeLoader]:
    loader = RuntimeLoader(open_it)
    app = CrmApp(None, config=AppConfig(), today=TODAY, loader=loader,
                 first_look=first_look(path, PAGE_SIZE))
    app.animation_level = "none"
    return app, loader


async def test_the_list_shows_before_the_database_opens_and_keys_wait_for_it(ui_db):
    make_client(ui_db, "Birch & Sons")
    ada = make_client(ui_db, "Ada Lovelace")
    path = str(ui_db.path)
    release, opened = threading.Event(), threading.Event()

    def open_it() -> Runtime:
        release.wait(30)
        runtime = Runtime(paths=app_paths(), config=AppConfig(), db=Database(path))
        opened.set()
        return runtime

    app, loader = _quick_app(path, open_it)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await wait_until(pilot, lambda: loader.started, "the loader to start after the first frame")
            text = screen_text(app)
            assert "Ada Lovelace" in text and "Birch & Sons" in text and "2 shown" in text
            assert "Sparkle Cleaning" in text  # the business name, from the same quick read
            assert not opened.is_set()

            await pilot.press("enter")  # the client page's worker waits for the database
            await pilot.pause()
            release.set()
            await wait_until(pilot, lambda: isinstance(app.screen, ClientDetailScreen)
                             and "Ada Lovelace" in screen_text(app), "the client page")
            assert app.screen.client_id == ada
            assert opened.is_set()
    finally:
        release.set()
        loader.close()


async def test_a_screenful_first_page_goes_on_with_the_next_pages_as_the_cursor_moves(
        ui_db, monkeypatch):
    names = sorted(f"Client {i:03d}" for i in range(130))
    for name in names:
        make_client(ui_db, name)
    path = str(ui_db.path)
    monkeypatch.setenv("LINES", "24")  # the terminal's height, as shutil reads it
    size = first_page_size()
    assert size == 24 + PREFETCH_MARGIN  # a screenful and the margin, not a whole page
    loader = RuntimeLoader(lambda: Runtime(paths=app_paths(), config=AppConfig(),
                                           db=Database(path)))
    app = CrmApp(None, config=AppConfig(), today=TODAY, loader=loader,
                 first_look=first_look(path, size))
    app.animation_level = "none"
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert screen.table.row_count == size and f"{size} shown, more below" in screen_text(app)
            screen.table.focus()
            for _ in range(6):  # down to the end, page by page
                await pilot.press("end")
                await wait_until(pilot, lambda: not screen._loading, "the next page")
            shown = [str(cell) for cell in screen.table.get_column("name")]
            assert shown == names  # every client once, in order, after the short first page
    finally:
        loader.close()


async def test_a_worker_that_opens_the_database_first_still_starts_the_background_checks(ui_db):
    """Whoever starts the loader (the first frame, or a key whose worker needs the database
    sooner), the app hears when it is open and starts what waits for it."""
    make_client(ui_db, "Ada Lovelace")
    path = str(ui_db.path)
    loader = RuntimeLoader(lambda: Runtime(paths=app_paths(), config=AppConfig(),
                                           db=Database(path)))
    # no first look: the start-up worker reads the business name through app.db, which
    # starts the loader before anything else does
    app = CrmApp(None, config=AppConfig(), today=TODAY, loader=loader)
    started: list[bool] = []
    app._start_background = lambda: started.append(True)  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: started == [True], "the background checks to start")
    finally:
        loader.close()


async def test_a_database_that_cannot_be_opened_ends_the_app_with_the_reason(ui_db, capsys):
    make_client(ui_db, "Ada Lovelace")
    refusal = DomainError("This database has schema 9999, made by a newer version of TSSG CRM.")

    def open_it() -> Runtime:
        raise refusal

    app, loader = _quick_app(str(ui_db.path), open_it)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await wait_until(pilot, lambda: not app.is_running or app.return_code is not None,
                         "the app to stop")
    assert app.return_code == 1
    assert loader.error is refusal
    # what run_app then prints, after the terminal is restored
    assert _cannot_open(loader.error) == 1
    assert "schema 9999" in capsys.readouterr().err


def test_north_american_numbers_read_as_phonenumbers_formats_them():
    """The list formats +1 numbers itself (phonenumbers' import would delay the first frame);
    it must read exactly as phonenumbers' national format, and others still go through it."""
    import random

    import phonenumbers

    from tui.render import phone

    rng = random.Random(2026)
    numbers = ["+12175550137", "+14155550100", "+19995550000", "+18005551234"]
    for _ in range(3000):
        digits = [rng.choice("23456789"), *rng.choices("0123456789", k=2),
                  rng.choice("23456789"), *rng.choices("0123456789", k=6)]
        numbers.append("+1" + "".join(digits))
    for number in numbers:
        expected = phonenumbers.format_number(phonenumbers.parse(number, None),
                                              phonenumbers.PhoneNumberFormat.NATIONAL)
        assert phone(number) == expected, number
    assert phone("+442071838750") == "+44 20 7183 8750"
    assert phone("+11234567890") == phonenumbers.format_number(
        phonenumbers.parse("+11234567890", None), phonenumbers.PhoneNumberFormat.NATIONAL)
