"""Settings keeps what the user typed and says what its tasks did: saving text messages (or a
reload) leaves unsaved profile and numbering edits alone; an answer that arrives after the
user left Settings still appears as a notice; an older template preview never paints over a
newer one; a second save while one runs is refused; reminders for a past day are refused."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import threading
from pathlib import Path

import pytest

from config import load_config
from config.settings import IntegrationsConfig, TwilioConfig
from core import business, clients, messaging
from core.clients import ContactData
from core.errors import ValidationError
from tests.core.factories import make_job, schedule
from tests.fakes.license_server import LicenseServer
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.license_support import grant, paths_for, trust_test_key
from tests.tui.support import TODAY, make_app, notices, paste, screen_text, settle, wait_until
from tui.app import CrmApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.settings import SECTIONS, SettingsScreen, reminder_day

YESTERDAY = TODAY - dt.timedelta(days=1)


def _home() -> Path:
    return Path(os.environ["TSSG_CRM_HOME"])


async def _go(pilot, section: str) -> SettingsScreen:
    """Into Settings (``f2``), then down the section list to ``section``."""
    if not isinstance(pilot.app.screen, SettingsScreen):
        await pilot.press("f2")
        await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SettingsScreen)
    sections = screen.query_one("#settings-sections")
    sections.focus()
    await pilot.press("home")
    for _ in range([key for key, _title in SECTIONS].index(section)):
        await pilot.press("down")
    await settle(pilot)
    return screen


async def _replace(pilot, widget_id: str, text: str) -> None:
    widget = pilot.app.screen.query_one(f"#{widget_id}")
    widget.focus()
    widget.clear()  # type: ignore[attr-defined]
    await pilot.pause()
    await paste(pilot, text)


def _shown(screen: SettingsScreen, widget_id: str) -> str:
    return str(screen.query_one(f"#{widget_id}").render())


# --------------------------------------------------------------------------- unsaved edits


async def test_saving_text_messages_keeps_an_unsaved_business_name(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = await _go(pilot, "business")
        await _replace(pilot, "b-name", "Bright Lawns")
        await _go(pilot, "messages")
        await _replace(pilot, "tpl-on_my_way", "On the way to {address}!")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "Text message settings saved." in notices(app),
                         "the save")
        assert messaging.all_templates(ui_db)["on_my_way"] == "On the way to {address}!"
        # the typed name is still there, still unsaved, and leaving still asks
        assert screen.query_one("#b-name").value == "Bright Lawns"  # type: ignore[attr-defined]
        assert business.load(ui_db, "business")["name"] == "Sparkle Cleaning"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "unsaved changes in the business profile." in app.screen.question


async def test_a_reload_keeps_unsaved_profile_and_numbering_edits(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = await _go(pilot, "business")
        await _replace(pilot, "b-phone", "+14155550100")
        await _go(pilot, "numbering")
        await _replace(pilot, "n-invoice", "BILL-{seq:03}")
        await pilot.press("f5")  # reload everything from the database
        await settle(pilot)
        assert screen.query_one("#b-phone").value == "+14155550100"  # type: ignore[attr-defined]
        assert screen.query_one("#n-invoice").value == "BILL-{seq:03}"  # type: ignore[attr-defined]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert ("unsaved changes in the business profile and the numbering patterns."
                in app.screen.question)
        await pilot.press("n")  # keep editing; saving the numbering leaves only the profile
        await settle(pilot)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "Numbering patterns saved." in notices(app), "the save")
        assert business.load(ui_db, "numbering")["invoice"] == "BILL-{seq:03}"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "unsaved changes in the business profile. Leave" in app.screen.question


# --------------------------------------------------------------------------- text messages


async def test_a_second_save_while_one_runs_is_refused(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = await _go(pilot, "messages")
        await _replace(pilot, "tpl-on_my_way", "On the way to {address}!")
        screen.action_save()  # ctrl+s twice, the second before the first save ends
        screen.action_save()
        await settle(pilot)
        said = notices(app)
        assert "Still saving the text messages; try again in a moment." in said
        assert said.count("Text message settings saved.") == 1
        assert messaging.all_templates(ui_db)["on_my_way"] == "On the way to {address}!"
        screen.action_save()  # done: saving again works
        await settle(pilot)
        assert notices(app).count("Text message settings saved.") == 2


async def test_an_older_preview_never_paints_over_a_newer_one(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = await _go(pilot, "messages")
        await _replace(pilot, "tpl-on_my_way", "Coming to {address} now")
        await wait_until(pilot, lambda: "Coming to" in _shown(screen, "tpl-on_my_way-preview"),
                         "the preview of the new text")
        latest = screen._previews["on_my_way"]
        # the answer for an older text finishes last: it is dropped
        screen._show_preview("on_my_way", latest - 1, None, "an older text's problem")
        await pilot.pause()
        assert "an older text's problem" not in _shown(screen, "tpl-on_my_way-about")
        assert "Coming to" in _shown(screen, "tpl-on_my_way-preview")
        screen._show_preview("on_my_way", latest, None, "the current text's problem")
        await pilot.pause()
        assert "No preview: the current text's problem" in _shown(screen,
                                                                  "tpl-on_my_way-about")


# --------------------------------------------------------------------------- answers after leaving


@dataclasses.dataclass
class HeldLicenseServer(LicenseServer):
    """Holds each deletion request until ``release`` is set (the answer comes when the
    test says so, not after a delay)."""

    release: threading.Event = dataclasses.field(default_factory=threading.Event)

    def answer(self, path, body):
        if path == "/v1/delete":
            self.release.wait(10)
        return super().answer(path, body)


async def test_the_deletion_answer_is_said_after_leaving_settings(ui_db, monkeypatch):
    monkeypatch.setenv("TSSG_CRM_LICENSE_KEY", "TSSG-PREM-0000-1111-2222-9876")
    with HeldLicenseServer() as server:
        config = trust_test_key(_home(), server_url=server.url)
        app = make_app(ui_db)
        app.config = config
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            screen = await _go(pilot, "data")
            screen.query_one("#deletion-run").focus()
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("y")
            for _ in range(500):  # the request is at the server, held (no settle: it waits)
                if server.deletions:
                    break
                await pilot.pause(0.01)
            assert len(server.deletions) == 1
            await pilot.press("escape")  # leave Settings before the answer
            await pilot.pause()
            assert not isinstance(app.screen, SettingsScreen)
            server.release.set()
            await wait_until(pilot, lambda: any(
                n.startswith("The license server answered: Deletion request received")
                for n in notices(app)), f"the answer as a notice {notices(app)}")
            assert "Traceback" not in screen_text(app)


# --------------------------------------------------------------------------- reminders


def test_a_reminder_day_before_today_is_refused():
    assert reminder_day("today", TODAY) == TODAY
    assert reminder_day("", TODAY) == TODAY + dt.timedelta(days=1)
    assert reminder_day(TODAY.isoformat(), TODAY) == TODAY
    with pytest.raises(ValidationError) as refused:
        reminder_day(YESTERDAY.isoformat(), TODAY)
    assert refused.value.field == "day"
    assert refused.value.message.startswith("2026-03-14 is in the past")


async def test_reminders_for_a_past_day_send_nothing(ui_db, monkeypatch):
    monkeypatch.setenv("TSSG_CRM_TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TSSG_CRM_TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    business.update(ui_db, "messaging", {"quiet_hours_start": "00:00",
                                         "quiet_hours_end": "00:00"})
    cid = clients.create_client(ui_db, clients.ClientData(name="Maria Lopez"), [
        ContactData(name="Maria Lopez", phone="+13125550142", is_primary=True,
                    sms_consent=True)],
        [clients.AddressData(line1="12 Elm St", city="Springfield", region="IL")])
    with ui_db.read() as s:
        address_id = s.get(clients.Client, cid).addresses[0].id
    make_job(ui_db, cid, address_id=address_id, schedule=schedule(YESTERDAY, "09:00"))
    with FakeTwilio() as twilio:
        grant(_home(), "premium")
        paths = paths_for(_home())
        paths.ensure()
        config = dataclasses.replace(load_config(paths.config_file), integrations=(
            IntegrationsConfig(twilio=TwilioConfig(api_base=twilio.base,
                                                   from_number=FROM_NUMBER, timeout=5))))
        app = CrmApp(ui_db, config=config, today=TODAY)
        app.animation_level = "none"
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            screen = await _go(pilot, "integrations")
            screen.query_one("#remind-day").value = YESTERDAY.isoformat()  # type: ignore[attr-defined]
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert _shown(screen, "remind-day-error").startswith(
                "Day: 2026-03-14 is in the past")
            assert any(n.startswith("Day: 2026-03-14 is in the past") for n in notices(app))
            assert not isinstance(app.screen, ConfirmScreen)
        assert twilio.requests == []


async def test_quitting_over_an_unsaved_business_profile_asks_first(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = await _go(pilot, "business")
        await wait_until(pilot, lambda: screen.data is not None, "the settings")
        await _replace(pilot, "b-name", "Renamed But Unsaved")
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # keep editing: nothing lost
        await settle(pilot)
        assert app.screen is screen
        assert screen.query_one("#b-name").value == "Renamed But Unsaved"
    assert business.load(ui_db, "business")["name"] != "Renamed But Unsaved"
