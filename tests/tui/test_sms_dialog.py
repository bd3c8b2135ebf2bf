""""Text the client" from an invoice against the fake Twilio API: the dialog previews the
invoice-link message with the real record, sends only on the send key, and shows why it may
not be sent (locked tier, no consent, opted out, quiet hours) without sending or logging.
Escape on a hand-typed message that was edited asks before discarding it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from config import load_config
from config.settings import IntegrationsConfig, TwilioConfig
from core import business, clients, invoices, messaging, payment_links
from core.lines import LineData
from core.models import SmsMessage
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.license_support import grant, paths_for
from tests.tui.support import TODAY, notices, screen_text, settle, type_text, wait_until
from tests.tui.test_invoices import _open
from tui.app import CrmApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.invoice_detail import InvoiceDetailScreen
from tui.screens.sms_dialog import SmsDialog

LINK_URL = "https://buy.stripe.com/test_abc123"
PHONE = "+13125550142"


@pytest.fixture
def twilio(monkeypatch):
    monkeypatch.setenv("TSSG_CRM_TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TSSG_CRM_TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    with FakeTwilio() as server:
        yield server


def sms_app(db, twilio: FakeTwilio, tier: str = "premium") -> CrmApp:
    home = Path(os.environ["TSSG_CRM_HOME"])
    if tier != "free":
        grant(home, tier)
    config = load_config(paths_for(home).config_file)
    config = dataclasses.replace(config, integrations=IntegrationsConfig(
        twilio=TwilioConfig(api_base=twilio.base, from_number=FROM_NUMBER, timeout=5)))
    app = CrmApp(db, config=config, today=TODAY)
    app.animation_level = "none"
    return app


def invoice_with_link(db, *, consent: bool = True, quiet: tuple[str, str] = ("00:00", "00:00")
                      ) -> tuple[int, int]:
    """(invoice id, contact id): an issued $90.00 invoice of Acme with an open payment link;
    quiet hours off unless ``quiet`` says otherwise."""
    business.update(db, "messaging", {"quiet_hours_start": quiet[0], "quiet_hours_end": quiet[1]})
    cid = clients.create_client(db, clients.ClientData(name="Acme Lawn Care"), [
        clients.ContactData(name="Ana Ruiz", phone=PHONE, is_primary=True, sms_consent=consent)])
    iid = invoices.create_blank(db, cid, [LineData("Mowing", Decimal(1), 9_000)])
    invoices.issue(db, iid, TODAY)
    plan = payment_links.plan_link(db, iid)
    assert plan.request is not None
    payment_links.link_opened(db, plan.request.link_id, "plink_test_1", LINK_URL)
    with db.read() as s:
        from core.models import Contact

        contact_id = s.scalar(select(Contact.id).where(Contact.client_id == cid))
    return iid, contact_id


def _logged(db) -> list[SmsMessage]:
    with db.read() as s:
        return list(s.scalars(select(SmsMessage)))


async def _open_dialog(pilot, iid: int) -> SmsDialog:
    await settle(pilot)
    await _open(pilot, iid)
    await pilot.press("m")
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, SmsDialog) and dialog.preview is not None
    return dialog


async def test_preview_then_send_only_on_the_send_key(ui_db, twilio):
    iid, _ = invoice_with_link(ui_db)
    app = sms_app(ui_db, twilio)
    async with app.run_test(size=(100, 30)) as pilot:
        dialog = await _open_dialog(pilot, iid)
        shown = screen_text(app)
        assert "Hi Ana, invoice INV-0001" in shown and "$90.00" in shown
        assert LINK_URL in shown and "Ana Ruiz" in shown
        assert dialog.preview is not None and dialog.preview.blocked is None

        await pilot.press("escape")  # closing sends nothing
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDetailScreen)
        assert twilio.sent == [] and _logged(ui_db) == []

        await pilot.press("m")
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDetailScreen)
        assert len(twilio.sent) == 1
        assert twilio.sent[0]["to"] == PHONE and twilio.sent[0]["body"].endswith(LINK_URL)
        [logged] = _logged(ui_db)
        assert logged.related_type == "invoice" and logged.related_id == iid
        assert logged.twilio_sid == twilio.sent[0]["sid"]
        assert any(n.startswith("Texted Ana Ruiz") for n in notices(app))


async def _assert_refused(pilot, app, ui_db, twilio, reason: str) -> None:
    assert reason in " ".join(screen_text(app).split())
    await pilot.press("s")
    await settle(pilot)
    assert isinstance(app.screen, SmsDialog)  # still open, nothing sent or logged
    assert twilio.sent == [] and twilio.requests == [] and _logged(ui_db) == []


@pytest.mark.parametrize(("case", "reason"), [
    ("no consent", "has not agreed to receive texts"),
    ("opted out", "asked not to be texted"),
    ("free tier", "Premium"),
])
async def test_blocked_messages_show_why_and_send_nothing(ui_db, twilio, case, reason):
    iid, contact_id = invoice_with_link(ui_db, consent=case != "no consent")
    if case == "opted out":
        messaging.opt_out(ui_db, contact_id)
    app = sms_app(ui_db, twilio, tier="free" if case == "free tier" else "premium")
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_dialog(pilot, iid)
        await _assert_refused(pilot, app, ui_db, twilio, reason)
        assert any(reason in n for n in notices(app))


async def test_quiet_hours_hold_the_text(ui_db, twilio):
    iid, _ = invoice_with_link(ui_db, quiet=("21:00", "08:00"))
    app = sms_app(ui_db, twilio)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open(pilot, iid)
        late = dt.datetime(2026, 3, 15, 22, 30)  # naive: the business's wall-clock time
        app.push_screen(SmsDialog("invoice", iid, "invoice_link", now=late))
        await settle(pilot)
        await _assert_refused(pilot, app, ui_db, twilio, "It is quiet hours (21:00–08:00)")


async def test_a_twilio_refusal_is_shown_and_logged_as_not_sent(ui_db, twilio):
    iid, _ = invoice_with_link(ui_db)
    twilio.landlines.add(PHONE)
    app = sms_app(ui_db, twilio)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_dialog(pilot, iid)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, SmsDialog)
        said = " ".join(notices(app))
        assert said.startswith("Twilio ") and "Traceback" not in screen_text(app)
        [logged] = _logged(ui_db)
        assert logged.status == "not_sent"
    assert twilio.sent == []


# --------------------------------------------------------------------------- no lost edits


async def _typed_dialog(pilot, ui_db) -> SmsDialog:
    """The hand-typed dialog for Acme's Ana Ruiz, ready (it starts with "Hi Ana, ")."""
    cid = clients.create_client(ui_db, clients.ClientData(name="Acme Lawn Care"), [
        clients.ContactData(name="Ana Ruiz", phone=PHONE, is_primary=True, sms_consent=True)])
    await settle(pilot)
    pilot.app.push_screen(SmsDialog("client", cid, messaging.CUSTOM))
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, SmsDialog)
                     and pilot.app.screen.preview is not None, "the dialog")
    dialog = pilot.app.screen
    assert dialog.query_one("#sms-text").text == "Hi Ana, "
    return dialog


async def test_escape_on_a_typed_message_asks_and_keep_editing_keeps_it(ui_db, twilio):
    business.update(ui_db, "messaging", {"quiet_hours_start": "00:00", "quiet_hours_end": "00:00"})
    app = sms_app(ui_db, twilio)
    async with app.run_test(size=(100, 30)) as pilot:
        dialog = await _typed_dialog(pilot, ui_db)
        under = app.screen_stack[-2]
        await type_text(pilot, "your gate code works.")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Discard this message?" in screen_text(app)
        await pilot.press("n")  # keep editing
        await settle(pilot)
        assert app.screen is dialog
        box = dialog.query_one("#sms-text")
        assert box.text == "Hi Ana, your gate code works." and app.focused is box

        await pilot.press("ctrl+q")  # quitting over it asks too
        await settle(pilot)
        assert "A form has unsaved changes. Quit and lose them?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is dialog and app.is_running

        await pilot.press("escape", "y")  # discard
        await settle(pilot)
        assert app.screen is under and dialog not in app.open_forms
    assert twilio.requests == [] and _logged(ui_db) == []


async def test_an_untouched_typed_message_closes_at_once(ui_db, twilio):
    business.update(ui_db, "messaging", {"quiet_hours_start": "00:00", "quiet_hours_end": "00:00"})
    app = sms_app(ui_db, twilio)
    async with app.run_test(size=(100, 30)) as pilot:
        dialog = await _typed_dialog(pilot, ui_db)
        under = app.screen_stack[-2]
        await type_text(pilot, "ok")
        await pilot.press("backspace", "backspace")  # back to the greeting it started with
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is under and dialog not in app.open_forms
    assert twilio.requests == [] and _logged(ui_db) == []
