"""Settings → Text messages, visit reminders, "Sync now" and the account-deletion request, by
keyboard: templates edited with a live preview filled from a real record, a bad placeholder
refused naming the template with nothing saved, reset; reminders as a dry run, a question,
then one text per visit through the fake Twilio API (a second run sends nothing new); the
deletion request through the fake license server, and in plain words when it is down."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import pytest

from config import load_config
from config.settings import IntegrationsConfig, TwilioConfig
from core import business, clients, messaging
from core.clients import ContactData
from tests.core.factories import make_job, schedule
from tests.fakes.license_server import LicenseServer
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.license_support import grant, paths_for, trust_test_key
from tests.tui.support import TODAY, notices, paste, screen_text, settle, wait_until
from tui.app import CrmApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.settings import SECTIONS, SettingsScreen

TOMORROW = TODAY + dt.timedelta(days=1)  # Monday, March 16, 2026
LICENSE_KEY = "TSSG-PREM-0000-1111-2222-9876"


def _home() -> Path:
    return Path(os.environ["TSSG_CRM_HOME"])


@pytest.fixture
def twilio(monkeypatch):
    monkeypatch.setenv("TSSG_CRM_TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TSSG_CRM_TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    with FakeTwilio() as server:
        yield server


def _app(db, tier: str = "free", twilio: FakeTwilio | None = None) -> CrmApp:
    """The app at ``tier`` (a real signed token), Twilio pointing at the fake."""
    home = _home()
    if tier != "free":
        grant(home, tier)
    paths = paths_for(home)
    paths.ensure()
    config = load_config(paths.config_file)
    if twilio is not None:
        config = dataclasses.replace(config, integrations=IntegrationsConfig(
            twilio=TwilioConfig(api_base=twilio.base, from_number=FROM_NUMBER, timeout=5)))
    app = CrmApp(db, config=config, today=TODAY)
    app.animation_level = "none"
    return app


def _visit(db, name: str, phone: str, at: str, *, consent: bool = True) -> int:
    """A client with one visit tomorrow at ``at``; returns the client id."""
    cid = clients.create_client(db, clients.ClientData(name=name), [
        ContactData(name=name, phone=phone, is_primary=True, sms_consent=consent)],
        [clients.AddressData(line1="12 Elm St", city="Springfield", region="IL")])
    with db.read() as s:
        address_id = s.get(clients.Client, cid).addresses[0].id
    make_job(db, cid, address_id=address_id, schedule=schedule(TOMORROW, at))
    return cid


def _no_quiet_hours(db) -> None:
    """The tests must not depend on the time of day they run at."""
    business.update(db, "messaging", {"quiet_hours_start": "00:00", "quiet_hours_end": "00:00"})


async def _open(pilot, section: str) -> SettingsScreen:
    await pilot.press("f2")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SettingsScreen)
    for _ in range([key for key, _title in SECTIONS].index(section)):
        await pilot.press("down")
    await settle(pilot)
    return screen


def _shown(app, widget_id: str) -> str:
    """What a label of Settings shows (also while a question is open over it)."""
    screen = next(s for s in reversed(app.screen_stack) if isinstance(s, SettingsScreen))
    return str(screen.query_one(f"#{widget_id}").render())


async def _replace_text(pilot, area_id: str, text: str) -> None:
    area = pilot.app.screen.query_one(f"#{area_id}")
    area.focus()
    area.clear()
    await pilot.pause()
    await paste(pilot, text)


# --------------------------------------------------------------------------- templates


async def test_a_template_is_previewed_with_a_real_visit_and_saved(ui_db):
    _visit(ui_db, "Maria Lopez", "+13125550142", "09:00")
    app = _app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open(pilot, "messages")
        # the saved text, previewed with the real next visit; no proposal yet: an example
        await wait_until(pilot, lambda: "Hi Maria, this is Sparkle Cleaning reminding you"
                         in _shown(app, "tpl-visit_reminder-preview"), "the preview")
        about = _shown(app, "tpl-visit_reminder-about")
        assert "the visit of Maria Lopez on Monday, March 16 at 9:00 AM" in about
        assert "example values (there is no proposal yet)" in _shown(
            app, "tpl-proposal_ready-about")
        placeholders = str(app.screen.query_one("#tpl-visit_reminder-box .placeholders").render())
        assert "{visit_day}" in placeholders and "{invoice_number}" not in placeholders

        new = "Hi {contact_name}, see you {visit_day} at {visit_time} at {address}. {business_name}"
        await _replace_text(pilot, "tpl-visit_reminder", new)
        await wait_until(pilot, lambda: "Hi Maria, see you Monday at 9:00 AM at 12 Elm St, "
                         "Springfield. Sparkle Cleaning" in _shown(app,
                                                                   "tpl-visit_reminder-preview"),
                         "the preview following the typing")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Text message settings saved." in notices(app)
        assert messaging.all_templates(ui_db)["visit_reminder"] == new
        await pilot.press("escape")  # saved: leaves without asking
        await settle(pilot)
        assert not isinstance(app.screen, SettingsScreen)


async def test_a_bad_placeholder_or_time_is_refused_naming_the_field(ui_db):
    app = _app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open(pilot, "messages")
        await _replace_text(pilot, "tpl-on_my_way", "On the way to {address}, invoice "
                            "{invoice_number}")
        await wait_until(pilot, lambda: "{invoice_number} is not a placeholder of this "
                         "template" in _shown(app, "tpl-on_my_way-about"), "the live warning")
        await pilot.press("ctrl+s")
        await settle(pilot)
        error = _shown(app, "tpl-on_my_way-error")
        assert error.startswith("On my way template: {invoice_number} is not a placeholder")
        assert app.focused is not None and app.focused.id == "tpl-on_my_way"
        assert any("On my way template" in n for n in notices(app))
        saved = business.load(ui_db, "messaging")
        assert saved["templates"] == {} and saved["quiet_hours_start"] == "21:00"

        # a good template but a bad time: still nothing written, the time named
        await _replace_text(pilot, "tpl-on_my_way", "On the way to {address}!")
        field = app.screen.query_one("#msg-quiet_start")
        field.value = "25:00"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Quiet hours start: '25:00' is not a time like 21:00" in _shown(
            app, "msg-quiet_start-error")
        assert business.load(ui_db, "messaging")["templates"] == {}

        field.value = "22:30"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = business.load(ui_db, "messaging")
        assert saved["quiet_hours_start"] == "22:30"
        assert saved["templates"] == {"on_my_way": "On the way to {address}!"}


async def test_reset_puts_the_built_in_text_back_after_asking(ui_db):
    messaging.set_template(ui_db, "proposal_ready", "Your quote {proposal_number} is ready.")
    default = messaging.TEMPLATES["proposal_ready"].default
    app = _app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = await _open(pilot, "messages")
        area = screen.query_one("#tpl-proposal_ready")
        assert area.text == "Your quote {proposal_number} is ready."  # type: ignore[attr-defined]
        screen.query_one("#reset-proposal_ready").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # keep mine
        await settle(pilot)
        assert messaging.all_templates(ui_db)["proposal_ready"] != default
        screen.query_one("#reset-proposal_ready").focus()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert messaging.all_templates(ui_db)["proposal_ready"] == default
        assert business.load(ui_db, "messaging")["templates"] == {}
        assert area.text == default  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- reminders, sync


async def test_reminders_dry_run_then_confirm_sends_once(ui_db, twilio):
    _no_quiet_hours(ui_db)
    _visit(ui_db, "Maria Lopez", "+13125550142", "09:00")
    _visit(ui_db, "No Consent", "+13125550144", "14:00", consent=False)
    app = _app(ui_db, "premium", twilio)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = await _open(pilot, "integrations")
        assert screen.query_one("#remind-day").value == TOMORROW.isoformat()  # type: ignore[attr-defined]

        await pilot.press("ctrl+r")  # the dry run, then the question
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        question = screen_text(app)
        assert "Text 1 visit reminder for Monday, March 16, 2026 now?" in question
        assert "09:00 Maria Lopez → +13125550142" in question
        listed = _shown(app, "remind-result")
        assert "Would text 1:" in listed and "No Consent has not agreed" in listed
        assert twilio.sent == []  # nothing sent before the answer
        await pilot.press("n")
        await settle(pilot)
        assert twilio.sent == [] and "No reminders were sent." in notices(app)

        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await wait_until(pilot, lambda: "Sent 1:" in _shown(app, "remind-result"), "the report")
        assert [m["to"] for m in twilio.sent] == ["+13125550142"]
        assert "Hi Maria" in twilio.sent[0]["body"]
        assert any("Sent 1 visit reminder for Monday" in n for n in notices(app))

        # again: the visit had its reminder, so nothing is offered and nothing sent
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "No reminders to send for Monday, March 16, 2026."
                         in notices(app), "the second dry run")
        assert not isinstance(app.screen, ConfirmScreen)
        assert len(twilio.sent) == 1

        # the carrier delivers it; "Sync now" picks the status up and says so
        twilio.set_status(twilio.sent[0]["sid"], "delivered")
        await pilot.press("f8")
        await wait_until(pilot, lambda: "Text to +13125550142: delivered" in _shown(
            app, "sync-result"), "the sync report")


async def test_in_quiet_hours_the_dry_run_says_so_and_asks_nothing(ui_db, twilio):
    now = dt.datetime.now(dt.UTC)  # quiet from an hour ago to an hour from now (UTC)
    business.update(ui_db, "messaging", {
        "quiet_hours_start": f"{now - dt.timedelta(hours=1):%H:%M}",
        "quiet_hours_end": f"{now + dt.timedelta(hours=1):%H:%M}", "timezone": "UTC"})
    _visit(ui_db, "Maria Lopez", "+13125550142", "09:00")
    app = _app(ui_db, "premium", twilio)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open(pilot, "integrations")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "It is quiet hours" in _shown(app, "remind-result"),
                         "the quiet-hours notice")
        assert "Would text 1:" in _shown(app, "remind-result")
        assert not isinstance(app.screen, ConfirmScreen)
    assert twilio.sent == []


async def test_free_tier_reminders_are_locked_with_the_reason(ui_db, twilio):
    _no_quiet_hours(ui_db)
    _visit(ui_db, "Maria Lopez", "+13125550142", "09:00")
    app = _app(ui_db, "free", twilio)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # from the command palette, as a person finds it
        await pilot.press("ctrl+p")
        await settle(pilot)
        await paste(pilot, "visit reminders")
        await settle(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen)
                         and "needs the Premium tier" in _shown(app, "remind-result"),
                         "the lock reason")
        assert "Locked: Scheduled visit reminders needs the Premium tier" in _shown(
            app, "lock-reminders")
        assert not isinstance(app.screen, ConfirmScreen)
    assert twilio.requests == []


# --------------------------------------------------------------------------- account deletion


async def test_request_deletion_says_what_is_sent_and_shows_the_answer(ui_db, monkeypatch):
    monkeypatch.setenv("TSSG_CRM_LICENSE_KEY", LICENSE_KEY)
    with LicenseServer() as server:
        config = trust_test_key(_home(), server_url=server.url)
        app = _app(ui_db)
        app.config = config
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            screen = await _open(pilot, "data")
            screen.query_one("#deletion-run").focus()
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmScreen)
            question = screen_text(app)
            instance = screen.data.license.instance_id  # type: ignore[union-attr]
            assert f"{server.base}/v1/delete" in question
            assert f"instance id: {instance}" in question and "••••9876" in question
            assert LICENSE_KEY not in question
            await pilot.press("y")
            await wait_until(pilot, lambda: "The license server answered: Deletion request "
                             "received" in _shown(app, "deletion-result"), "the answer")
            assert len(server.deletions) == 1
            assert server.deletions[0].json == {"instance_id": instance,
                                                 "license_key": LICENSE_KEY}

            server.mode = "down"
            screen.query_one("#deletion-run").focus()
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("y")
            await wait_until(pilot, lambda: "nothing was deleted" in _shown(
                app, "deletion-result"), "the error")
            said = _shown(app, "deletion-result")
            assert said.startswith("The license server had a server error: maintenance")
            assert "Traceback" not in screen_text(app)
