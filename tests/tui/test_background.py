"""The background license check through Pilot, against the fake license server (real signed
tokens on 127.0.0.1): the app is usable while the server is slow, the status line shows the
granted tier, offline gives one quiet line and no popups, notices show once."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from config import AppConfig
from config.privacy import set_toggle
from config.settings import AnalyticsConfig
from core import analytics, licensing
from tests.fakes.analytics_server import AnalyticsServer
from tests.fakes.license_server import LicenseServer
from tests.license_support import paths_for, trust_test_key
from tests.tui.support import TODAY, notices, screen_text, settle, wait_until
from tui.app import CrmApp
from tui.screens.client_form import ClientFormScreen
from tui.widgets.status_line import StatusLine


def _home() -> Path:
    return Path(os.environ["TSSG_CRM_HOME"])


def _app(db, config: AppConfig) -> CrmApp:
    app = CrmApp(db, config=config, today=TODAY, paths=paths_for(_home()), background=True)
    app.animation_level = "none"
    assert app.background is not None
    app.background.sleep = lambda _seconds: None  # retries inside a round: no real waiting
    return app


def _status(app) -> str:
    line = app.screen.query_one(StatusLine)
    return screen_text(app).splitlines()[line.region.y]


async def test_the_app_is_usable_while_the_license_server_is_slow(ui_db):
    # slow enough that a loaded CI machine still opens the form before the answer arrives
    with LicenseServer(mode="slow", delay=6.0, tier="premium") as server:
        config = trust_test_key(_home(), server_url=server.url)
        app = _app(ui_db, config)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert app.background is not None and app.background.rounds == 0
            await pilot.press("n")  # a new client form opens while the check is in flight
            await pilot.pause()
            await pilot.pause()
            assert isinstance(app.screen, ClientFormScreen)
            assert app.background.rounds == 0  # the answer has not come yet
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.background.rounds == 1, "the check")
            assert "License: Premium · until" in _status(app)
            assert len(server.checks) == 1
            # the next round is a day away (± an hour), not a busy loop
            timer = app.background._timer
            assert timer is not None and 23 * 3600 <= timer._interval <= 25 * 3600


async def test_offline_shows_one_quiet_line_and_no_popups(ui_db):
    with LicenseServer(mode="down") as server:
        config = trust_test_key(_home(), server_url=server.url)
        app = _app(ui_db, config)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.background.rounds == 1, "the check")
            status = _status(app)
            assert "License check failed; retrying in" in status
            assert "License: Free" in status
            assert notices(app) == []  # never a popup
            assert len(server.checks) == 3  # a couple of quick retries, then the backoff
            timer = app.background._timer
            assert timer is not None and timer._interval < 3600  # minutes, not a day
            app.background.run_round()  # the backoff timer fires again: still one line
            await wait_until(pilot, lambda: app.background.rounds == 2, "the retry")
            assert screen_text(app).count("License check failed") == 1
            assert notices(app) == []
            assert licensing.consecutive_failures(paths_for(_home())) == 2


async def test_an_update_notice_shows_once_until_acknowledged(ui_db):
    with LicenseServer(update={"latest_version": "9.9.9",
                               "release_notes_url": "https://example.test/9.9.9"}) as server:
        config = trust_test_key(_home(), server_url=server.url)
        app = _app(ui_db, config)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.background.rounds == 1, "the check")
            assert sum("9.9.9 is available" in n for n in notices(app)) == 1
            app.background.run_round()
            await wait_until(pilot, lambda: app.background.rounds == 2, "the next check")
            assert sum("9.9.9 is available" in n for n in notices(app)) == 1  # once
        paths = paths_for(_home())
        [notice] = licensing.pending_notices(paths, app.app_version)
        licensing.acknowledge(paths, notice)
        app2 = _app(ui_db, config)
        async with app2.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app2.background.rounds == 1, "the check")
            assert not any("9.9.9" in n for n in notices(app2))


async def test_analytics_batches_leave_only_while_opted_in(ui_db):
    paths = paths_for(_home())
    with LicenseServer() as lic, AnalyticsServer() as stats:
        config = dataclasses.replace(trust_test_key(_home(), server_url=lic.url),
                                     analytics=AnalyticsConfig(endpoint=stats.url))
        app = _app(ui_db, config)
        async with app.run_test(size=(100, 30)) as pilot:  # opted out (the default)
            await wait_until(pilot, lambda: app.background.rounds == 1, "the check")
        assert stats.requests == []
        set_toggle(paths, "analytics", True)
        analytics.record_feature(paths, "clients.open")
        app = _app(ui_db, config)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.background.rounds == 1, "the check")
            await settle(pilot)
        [batch] = stats.batches
        assert batch["features"] == {"clients.open": 1}
