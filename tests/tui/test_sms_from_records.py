"""Texting a client from their page, from a visit on the job page and from a proposal,
against the fake Twilio API through the real ``twilio`` SDK: the dialog previews the message
with the real record, the send key sends exactly one text, and the client page's message log
shows it with its delivery status (and why it failed, after a sync). An opted-out contact, a
draft proposal and the Free tier are refused with the reason, and nothing reaches Twilio."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from textual.widgets import Static

from config.secrets import Secret
from core import business, clients, messaging
from core.models import Contact, SmsMessage
from integrations import twilio_sms
from integrations.http import RetryPolicy
from tests.core.factories import (
    make_job,
    make_proposal,
    make_sent_proposal,
    make_user,
    schedule,
    visit_ids,
)
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.tui.support import TODAY, notices, screen_text, settle, type_text, wait_until
from tests.tui.test_sms_dialog import sms_app
from tui.screens.client_detail import ClientDetailScreen
from tui.screens.job_detail import JobDetailScreen
from tui.screens.proposal_editor import ProposalEditorScreen
from tui.screens.proposals import ProposalListScreen
from tui.screens.sms_dialog import SmsDialog

PHONE = "+13125550142"
TOMORROW = TODAY + dt.timedelta(days=1)  # Monday, March 16, 2026


@pytest.fixture
def twilio(monkeypatch):
    monkeypatch.setenv("TSSG_CRM_TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TSSG_CRM_TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    with FakeTwilio() as server:
        yield server


def _acme(db) -> int:
    """Acme Lawn Care, whose primary contact Ana Ruiz agreed to texts; quiet hours off."""
    business.update(db, "messaging", {"quiet_hours_start": "00:00", "quiet_hours_end": "00:00"})
    return clients.create_client(
        db, clients.ClientData(name="Acme Lawn Care"),
        [clients.ContactData(name="Ana Ruiz", phone=PHONE, is_primary=True, sms_consent=True)],
        [clients.AddressData(line1="12 Oak St", city="Springfield", region="IL")])


def _visit(db, cid: int, day: dt.date = TOMORROW) -> tuple[int, int]:
    """(job id, visit id): one visit at 9:00 on ``day`` at Acme's address, by Tess Tech."""
    tess = make_user(db, "Tess Tech")
    with db.read() as s:
        address_id = s.get(clients.Client, cid).addresses[0].id
    job = make_job(db, cid, title="Spring clean-up", address_id=address_id,
                   schedule=schedule(day, "09:00", assignee_id=tess))
    return job, visit_ids(db, job)[0]


def _contact(db, cid: int) -> int:
    with db.read() as s:
        return s.scalar(select(Contact.id).where(Contact.client_id == cid))


def _logged(db) -> list[SmsMessage]:
    with db.read() as s:
        return list(s.scalars(select(SmsMessage)))


def _flat(app) -> str:
    return " ".join(screen_text(app).split())


def _preview(dialog: SmsDialog) -> str:
    """The message as the dialog shows it (the screen wraps it inside a border)."""
    return str(dialog.query_one("#sms-body", Static).content)


async def _dialog(pilot) -> SmsDialog:
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, SmsDialog)
    await wait_until(pilot, lambda: dialog.preview is not None, "the preview")
    return dialog


async def _client_page(pilot, cid: int) -> ClientDetailScreen:
    await settle(pilot)
    pilot.app.open_client(cid)
    await settle(pilot)
    page = pilot.app.screen
    assert isinstance(page, ClientDetailScreen)
    await wait_until(pilot, lambda: page.overview is not None, "the client page")
    return page


async def _job_page(pilot, job_id: int) -> JobDetailScreen:
    await settle(pilot)
    pilot.app.open_job(job_id)
    await settle(pilot)
    page = pilot.app.screen
    assert isinstance(page, JobDetailScreen)
    await wait_until(pilot, lambda: page.view is not None, "the job page")
    return page


async def _proposal_list(pilot) -> ProposalListScreen:
    await settle(pilot)
    await pilot.press("2")
    page = pilot.app.screen
    assert isinstance(page, ProposalListScreen)
    await wait_until(pilot, lambda: page.highlighted_id() is not None, "the proposals")
    return page


def _sync(db, twilio: FakeTwilio) -> None:
    """What ``tssg-crm sync`` and the background poll do for messages."""
    gateway = twilio_sms.TwilioGateway(Secret(ACCOUNT_SID), Secret(AUTH_TOKEN),
                                       from_number=FROM_NUMBER, api_base=twilio.base,
                                       timeout=5, policy=RetryPolicy(retries=0, backoff=0),
                                       sleep=lambda s: None)
    try:
        assert twilio_sms.sync_messages(db, gateway, "premium").error is None
    finally:
        gateway.close()


# --------------------------------------------------------------------------- from a client


async def test_text_a_client_by_hand_and_see_it_in_their_message_log(ui_db, twilio):
    cid = _acme(ui_db)
    app = sms_app(ui_db, twilio)
    async with app.run_test(size=(120, 40)) as pilot:
        page = await _client_page(pilot, cid)
        assert "Text messages: none" in screen_text(app)

        await pilot.press("m")
        dialog = await _dialog(pilot)
        shown = _flat(app)
        assert "To Ana Ruiz (312) 555-0142" in shown and "Hi Ana," in shown
        assert dialog.preview is not None and dialog.preview.blocked is None

        await type_text(pilot, "your gate code works.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is page
        assert [m["body"] for m in twilio.sent] == ["Hi Ana, your gate code works."]
        assert twilio.sent[0]["to"] == PHONE
        [logged] = _logged(ui_db)
        assert (logged.related_type, logged.related_id, logged.template) == (
            "client", cid, messaging.CUSTOM)
        assert any(n.startswith("Texted Ana Ruiz") for n in notices(app))
        await wait_until(pilot, lambda: "Text messages (1, newest)" in screen_text(app),
                         "the message log")
        log = screen_text(app).split("Text messages (1, newest)", 1)[1]
        assert "(312) 555-0142" in log and "Hi Ana, your gate code works." in log
        assert "Queued at Twilio" in log

        # the carrier could not deliver it: after a sync the log says so, and why
        twilio.set_status(twilio.sent[0]["sid"], "undelivered", error_code=30006)
        _sync(ui_db, twilio)
        app.note_data_changed()  # as the poll does; the page reads the log when it is back
        await pilot.press("question_mark")
        await settle(pilot)
        await pilot.press("escape")
        await wait_until(pilot, lambda: "Not delivered" in screen_text(app), "the new status")
        assert "The number is a landline or cannot receive texts." in _flat(app)
    assert len(twilio.sent) == 1


async def test_an_empty_hand_typed_text_is_refused_naming_the_message(ui_db, twilio):
    cid = _acme(ui_db)
    app = sms_app(ui_db, twilio)
    async with app.run_test(size=(100, 30)) as pilot:
        await _client_page(pilot, cid)
        await pilot.press("m")
        await _dialog(pilot)
        await pilot.press("ctrl+u", "ctrl+s")  # clear the line, then send
        await settle(pilot)
        assert isinstance(app.screen, SmsDialog)
        assert "Message: is empty" in screen_text(app)
        await type_text(pilot, "Hello")  # the complaint goes once the text changes
        assert "Message: is empty" not in screen_text(app)
    assert twilio.requests == [] and _logged(ui_db) == []


# --------------------------------------------------------------------------- from a visit


async def test_text_about_the_highlighted_visit_with_either_visit_template(ui_db, twilio):
    cid = _acme(ui_db)
    job, vid = _visit(ui_db, cid)
    app = sms_app(ui_db, twilio)
    async with app.run_test(size=(100, 30)) as pilot:
        page = await _job_page(pilot, job)
        await pilot.press("m")
        dialog = await _dialog(pilot)
        assert "Text the client · Visit reminder" in _flat(app)
        assert _preview(dialog).startswith(
            "Hi Ana, this is Sparkle Cleaning reminding you of your visit on Monday, "
            "March 16, 2026 at 9:00 AM at 12 Oak St, Springfield.")
        assert "Hi Ana, this is Sparkle Cleaning reminding you" in screen_text(app)

        await pilot.press("t")  # the other visit template, previewed again
        await wait_until(pilot, lambda: _preview(dialog) == "Hi Ana, Tess Tech from Sparkle "
                         "Cleaning is on the way to 12 Oak St, Springfield.",
                         "the on-my-way preview")
        assert "Text the client · On my way" in _flat(app)
        await pilot.press("t")
        await wait_until(pilot, lambda: "reminding you" in _preview(dialog), "the reminder")

        await pilot.press("s")
        await settle(pilot)
        assert app.screen is page
        [sent] = twilio.sent
        assert "reminding you of your visit on Monday" in sent["body"]
        [logged] = _logged(ui_db)
        assert (logged.related_type, logged.related_id, logged.template) == (
            "visit", vid, "visit_reminder")
        # sent by hand, it counts as the visit's reminder: `remind` will not text it again
        assert messaging.reminded(ui_db, [vid]) == {vid}

        await _client_page(pilot, cid)
        log = screen_text(app).split("Text messages (1, newest)", 1)[1]
        assert "Visit reminder" in log and "Queued at Twilio" in log


async def test_a_visit_today_starts_on_the_way_template(ui_db, twilio):
    cid = _acme(ui_db)
    job, _vid = _visit(ui_db, cid, day=TODAY)
    app = sms_app(ui_db, twilio)
    async with app.run_test(size=(100, 30)) as pilot:
        await _job_page(pilot, job)
        await pilot.press("m")
        await _dialog(pilot)
        assert "Text the client · On my way" in _flat(app)
    assert twilio.requests == []


# --------------------------------------------------------------------------- from a proposal


async def test_text_that_a_sent_proposal_is_ready_from_its_page(ui_db, twilio):
    cid = _acme(ui_db)
    pid = make_sent_proposal(ui_db, cid, title="Spring clean")
    app = sms_app(ui_db, twilio)
    async with app.run_test(size=(100, 30)) as pilot:
        await _proposal_list(pilot)
        await pilot.press("enter")
        page = app.screen
        assert isinstance(page, ProposalEditorScreen)
        await wait_until(pilot, lambda: page.read_only, "the proposal page")
        await pilot.press("m")
        dialog = await _dialog(pilot)
        assert "Text the client · Proposal ready" in _flat(app)
        assert _preview(dialog).startswith(
            "Hi Ana, your proposal PRO-2026-0001 (Spring clean) from Sparkle Cleaning is "
            "ready: $100.00.")
        assert "Hi Ana, your proposal PRO-2026-0001" in screen_text(app)

        await pilot.press("s")
        await settle(pilot)
        assert app.screen is page
        [sent] = twilio.sent
        assert "PRO-2026-0001" in sent["body"]
        [logged] = _logged(ui_db)
        assert (logged.related_type, logged.related_id) == ("proposal", pid)

        await _client_page(pilot, cid)
        log = screen_text(app).split("Text messages (1, newest)", 1)[1]
        assert "Proposal ready" in log and "Queued at Twilio" in log


async def test_a_draft_proposal_is_not_texted(ui_db, twilio):
    cid = _acme(ui_db)
    make_proposal(ui_db, cid)
    app = sms_app(ui_db, twilio)
    async with app.run_test(size=(100, 30)) as pilot:
        await _proposal_list(pilot)
        await pilot.press("m")
        await _dialog(pilot)
        assert "is a draft: send it first" in _flat(app)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, SmsDialog)
    assert twilio.requests == [] and _logged(ui_db) == []


# --------------------------------------------------------------------------- refusals


async def _open_from(pilot, record: str, ids: dict[str, int]) -> None:
    if record == "client":
        await _client_page(pilot, ids["client"])
    elif record == "visit":
        await _job_page(pilot, ids["job"])
    else:
        await _proposal_list(pilot)
    await pilot.press("m")
    await _dialog(pilot)


@pytest.mark.parametrize("record", ["client", "visit", "proposal"])
@pytest.mark.parametrize(("case", "reason"), [
    ("opted out", "Ana Ruiz (+13125550142) asked not to be texted"),
    ("free tier", "Premium"),
])
async def test_refused_with_the_reason_and_nothing_reaches_twilio(ui_db, twilio, record,
                                                                  case, reason):
    cid = _acme(ui_db)
    job, _vid = _visit(ui_db, cid)
    make_sent_proposal(ui_db, cid)
    if case == "opted out":
        messaging.opt_out(ui_db, _contact(ui_db, cid))
    app = sms_app(ui_db, twilio, tier="free" if case == "free tier" else "premium")
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_from(pilot, record, {"client": cid, "job": job})
        assert reason in _flat(app)
        await pilot.press("ctrl+s" if record == "client" else "s")
        await settle(pilot)
        assert isinstance(app.screen, SmsDialog)  # still open, with the reason
        assert any(reason in n for n in notices(app))
    assert twilio.requests == [] and _logged(ui_db) == []


async def test_a_reminder_the_scheduled_run_sent_meanwhile_is_not_sent_twice(ui_db, twilio):
    cid = _acme(ui_db)
    job, vid = _visit(ui_db, cid)
    app = sms_app(ui_db, twilio)
    async with app.run_test(size=(100, 30)) as pilot:
        await _job_page(pilot, job)
        await pilot.press("m")
        dialog = await _dialog(pilot)
        assert "reminding you" in _preview(dialog)
        # the nightly `remind` texts the visit while the dialog is open
        gateway = twilio_sms.TwilioGateway(Secret(ACCOUNT_SID), Secret(AUTH_TOKEN),
                                           from_number=FROM_NUMBER, api_base=twilio.base,
                                           timeout=5, policy=RetryPolicy(retries=0, backoff=0),
                                           sleep=lambda s: None)
        try:
            report = twilio_sms.send_reminders(ui_db, gateway, "premium", TOMORROW)
        finally:
            gateway.close()
        assert len(twilio.sent) == 1, report
        await pilot.press("s")
        await settle(pilot)
        assert len(twilio.sent) == 1  # not twice
        assert app.screen is dialog and "Already sent" in " ".join(
            n.title or "" for n in app._notifications)
        assert "texted this visit a moment ago" in _flat(app)
        await pilot.press("s")  # asked again, knowing it: it goes
        await settle(pilot)
        assert len(twilio.sent) == 2
