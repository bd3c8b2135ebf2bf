"""The payment and text-status poll while the app runs (tui.background.IntegrationPoll),
against the fake Stripe API on 127.0.0.1 through the real SDK: a link the customer paid is
recorded once and the invoice on screen turns paid; with nothing waiting no service is
asked; a locked tier is one quiet status line, never a popup."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import func, select

from config.secrets import load_secrets
from core import invoices, licensing
from core.models import Payment
from tests.core.factories import make_client
from tests.fakes.license_server import LicenseServer
from tests.license_support import paths_for, trust_test_key
from tests.tui.support import notices, screen_text, settle, wait_until
from tests.tui.test_invoice_payment_link import stripe, stripe_app  # noqa: F401  (fixture)
from tests.tui.test_invoices import _issued, _open
from tui.app import CrmApp
from tui.background import IntegrationPoll, LicenseView
from tui.widgets.status_line import StatusLine

__all__ = ["stripe"]


def _home() -> Path:
    return Path(os.environ["TSSG_CRM_HOME"])


def _poll(app: CrmApp) -> IntegrationPoll:
    """The poll as run_app wires it, minus the license check (its own tests cover that)."""
    view = LicenseView()
    poll = IntegrationPoll(app, paths_for(_home()), app.config, view,
                           publish=lambda: app._show_license_view(view),
                           sleep=lambda _seconds: None)
    app.integration_poll = poll
    return poll


def _payments(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(Payment)) or 0


def _make_link(db, app: CrmApp, invoice_id: int) -> str:
    from integrations import stripe_payments

    gateway = stripe_payments.StripeGateway.from_config(
        app.config, load_secrets(paths_for(_home()).secrets_file))
    try:
        tier = licensing.effective_tier(paths_for(_home()), app.config)
        view = stripe_payments.ensure_link(db, gateway, tier, invoice_id)
    finally:
        gateway.close()
    assert view.stripe_link_id is not None
    return view.stripe_link_id


async def test_a_paid_link_is_recorded_once_and_the_open_invoice_turns_paid(ui_db, stripe):
    iid = _issued(ui_db, make_client(ui_db, "Acme Lawn Care"), cents=12_500)
    app = stripe_app(ui_db, stripe, "premium")
    link_id = _make_link(ui_db, app, iid)
    poll = _poll(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open(pilot, iid)
        assert "Balance $125.00" in screen_text(app)

        version = app.data_version
        poll.run_round()  # the customer has not paid yet: the link is asked about, no change
        await wait_until(pilot, lambda: poll.rounds == 1, "the first poll")
        assert poll.calls == 1 and _payments(ui_db) == 0 and notices(app) == []
        assert app.data_version == version  # nothing moved: the screen is not reloaded

        stripe.pay(link_id)
        poll.run_round()
        await wait_until(pilot, lambda: poll.rounds == 2, "the second poll")
        assert _payments(ui_db) == 1 and app.data_version > version
        assert invoices.get(ui_db, iid).status == "paid"
        assert any("Recorded a card payment" in n for n in notices(app))
        # the invoice on screen reloads by itself
        await wait_until(pilot, lambda: "Balance $0.00" in screen_text(app), "the paid invoice shown")

        app.clear_notifications()
        poll.run_round()  # seen again: nothing recorded twice, nothing said twice
        await wait_until(pilot, lambda: poll.rounds == 3, "the third poll")
        assert _payments(ui_db) == 1 and notices(app) == []
        # the next round is a couple of minutes away, not a busy loop
        assert poll._timer is not None and 60 <= poll._timer._interval <= 300


async def test_with_nothing_waiting_no_service_is_asked(ui_db, stripe):
    _issued(ui_db, make_client(ui_db, "Acme Lawn Care"))
    app = stripe_app(ui_db, stripe, "premium")
    poll = _poll(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        poll.run_round()
        await wait_until(pilot, lambda: poll.rounds == 1, "the poll")
        assert poll.calls == 0
        assert stripe.requests == []


async def test_a_locked_tier_is_one_quiet_line_not_a_popup(ui_db, stripe):
    iid = _issued(ui_db, make_client(ui_db, "Acme Lawn Care"))
    premium = stripe_app(ui_db, stripe, "premium")
    _make_link(ui_db, premium, iid)  # made while premium; the license has since lapsed
    licensing.license_file(paths_for(_home())).unlink()
    app = stripe_app(ui_db, stripe, "free")
    poll = _poll(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.mount(StatusLine())  # run_app gives every screen one; this app has no license check
        await settle(pilot)
        before = len(stripe.requests)
        poll.run_round()
        await wait_until(pilot, lambda: poll.rounds == 1, "the poll")
        assert len(stripe.requests) == before  # locked: Stripe is not called
        assert notices(app) == []
        line = app.screen.query_one(StatusLine)
        shown = screen_text(app).splitlines()[line.region.y]
        assert "Payment links were not checked" in shown and "Premium" in shown


async def test_run_app_wiring_starts_the_poll_with_the_license_check(ui_db):
    with LicenseServer(tier="premium") as server:
        config = trust_test_key(_home(), server_url=server.url)
        app = CrmApp(ui_db, config=config, paths=paths_for(_home()), background=True)
        app.animation_level = "none"
        assert app.background is not None and app.integration_poll is not None
        app.background.sleep = lambda _seconds: None
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.background.rounds == 1, "the license check")
            timer = app.integration_poll._timer
            assert timer is not None and 60 <= timer._interval <= 300
            assert app.integration_poll.view is app.background.view  # one status line



async def test_a_delivery_status_reaches_the_open_client_page_without_a_popup(ui_db):
    from core import messaging
    from integrations import twilio_sms
    from integrations.http import RetryPolicy
    from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
    from tests.tui.test_sms_dialog import sms_app
    from tests.tui.test_sms_from_records import _acme, _client_page

    os.environ["TSSG_CRM_TWILIO_ACCOUNT_SID"] = ACCOUNT_SID
    os.environ["TSSG_CRM_TWILIO_AUTH_TOKEN"] = AUTH_TOKEN
    try:
        with FakeTwilio() as twilio:
            cid = _acme(ui_db)
            app = sms_app(ui_db, twilio)
            gateway = twilio_sms.TwilioGateway.from_config(
                app.config, load_secrets(paths_for(_home()).secrets_file),
                policy=RetryPolicy(retries=0, backoff=0))
            try:
                twilio_sms.send_message(ui_db, gateway, "premium", "client", cid,
                                        messaging.CUSTOM, body="Hi Ana, see you at nine.")
            finally:
                gateway.close()
            poll = _poll(app)
            async with app.run_test(size=(120, 40)) as pilot:
                await _client_page(pilot, cid)
                assert "Queued at Twilio" in screen_text(app)
                twilio.set_status(twilio.sent[0]["sid"], "delivered")
                poll.run_round()
                await wait_until(pilot, lambda: poll.rounds == 1, "the poll")
                assert poll.calls == 1 and notices(app) == []
                await wait_until(pilot, lambda: "Delivered" in screen_text(app),
                                 "the new status on the page on show")
    finally:
        del os.environ["TSSG_CRM_TWILIO_ACCOUNT_SID"], os.environ["TSSG_CRM_TWILIO_AUTH_TOKEN"]
