"""The CSV import screen by keyboard (SQLite): preview first, nothing written until confirmed;
a malformed file is refused with the line number."""

from __future__ import annotations

from sqlalchemy import func, select

from core.models import Client
from tests.conftest import IMPORT_SAMPLES
from tests.tui.support import make_app, notices, paste, screen_text, settle
from tui.screens.confirm import ConfirmScreen
from tui.screens.import_clients import ImportClientsScreen


def _clients(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(Client))


async def _open_import(pilot) -> None:
    pilot.app.import_clients()  # what the palette's "Import clients" runs
    await settle(pilot)
    assert isinstance(pilot.app.screen, ImportClientsScreen)


async def test_wave_export_previews_then_imports_after_confirmation(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open_import(pilot)
        await paste(pilot, str(IMPORT_SAMPLES / "wave_clients.csv"))
        await pilot.press("ctrl+s")  # no preview yet: refused
        await settle(pilot)
        assert any("Preview first" in n for n in notices(app))
        await pilot.press("ctrl+r")
        await settle(pilot)
        shown = screen_text(app)
        assert "Format: Wave; 4 rows read." in shown
        assert "To import: 4 clients, 4 contacts, 4 addresses." in shown
        assert "Jessica Jones" in shown
        assert "shipping_address" in shown  # a column not imported is listed
        assert _clients(ui_db) == 0  # the preview writes nothing
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert _clients(ui_db) == 4
        assert any("Imported 4 clients" in n for n in notices(app))
        # the same file again: every row is now a duplicate, reported, nothing doubled
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "To import: 0 clients" in screen_text(app)
        assert "Duplicates (not imported): 4" in screen_text(app)


async def test_a_malformed_csv_is_refused_with_the_line_and_nothing_written(ui_db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text('Name,Email\nAna,ana@x.test\n"Bo,bo@x.test\n', encoding="utf-8")
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open_import(pilot)
        await paste(pilot, str(bad))
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "line" in screen_text(app).lower() and "nothing was imported" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert _clients(ui_db) == 0
