"""Starting the app: bad config exits 2 with one line, the theme comes from the environment
or the config, and a failing background task is logged and explained instead of crashing."""

from __future__ import annotations

import logging

from sqlalchemy import text

from config import AppConfig
from config.settings import UIConfig
from tests.tui.support import make_app, notices, settle
from tui.app import CrmApp, run_app, start_logging


def test_a_bad_config_file_exits_2_with_one_line(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text('[ui]\ntheme = 3\n', encoding="utf-8")
    assert run_app(None, str(config)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ui.theme" in err and err.startswith("tssg-crm: ")


async def test_theme_from_the_environment_wins_over_the_config(ui_db, monkeypatch):
    monkeypatch.setenv("TEXTUAL_THEME", "nord")
    app = CrmApp(ui_db, config=AppConfig(ui=UIConfig(theme="gruvbox")))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.theme == "nord"
    monkeypatch.delenv("TEXTUAL_THEME")
    app = CrmApp(ui_db, config=AppConfig(ui=UIConfig(theme="no-such-theme")))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert any("Unknown theme 'no-such-theme'" in n for n in notices(app))


async def test_a_failing_background_task_is_logged_and_reported(ui_db, tmp_path):
    with ui_db.write() as s:  # a damaged database: the list query cannot run
        s.execute(text("ALTER TABLE clients RENAME TO clients_gone"))
    log_file = tmp_path / "state" / "tssg-crm.log"
    handler = start_logging(log_file)
    try:
        app = make_app(ui_db)
        app.log_file = log_file
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert app.is_running
            assert any("Something went wrong (OperationalError)" in n and str(log_file) in n
                       for n in notices(app))
    finally:
        logging.getLogger("tssg_crm").removeHandler(handler)
        handler.close()
    logged = log_file.read_text(encoding="utf-8")
    assert "Traceback" in logged and "no such table: clients" in logged
    assert oct(log_file.stat().st_mode & 0o777) == "0o600"
