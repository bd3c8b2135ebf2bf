"""The invoice's "Payment link" key against the fake Stripe API: the link is made once and
shown as text, ``c`` copies it; a locked tier and a Stripe refusal are said in plain words and
make nothing."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config import load_config
from config.settings import IntegrationsConfig, StripeConfig
from core.models import PaymentLink
from tests.core.factories import make_client
from tests.fakes.stripe_server import API_KEY, FakeStripe
from tests.license_support import grant, paths_for
from tests.tui.support import TODAY, notices, screen_text, settle
from tests.tui.test_invoices import _issued, _open
from tui.app import CrmApp
from tui.screens.invoice_detail import PaymentLinkDialog


@pytest.fixture
def stripe(monkeypatch):
    monkeypatch.setenv("TSSG_CRM_STRIPE_API_KEY", API_KEY)
    with FakeStripe() as server:
        yield server


def stripe_app(db, stripe: FakeStripe, tier: str) -> CrmApp:
    """The app at ``tier`` (a real signed license token) with Stripe pointing at the fake."""
    home = Path(os.environ["TSSG_CRM_HOME"])
    if tier != "free":
        grant(home, tier)
    config = load_config(paths_for(home).config_file)
    config = dataclasses.replace(config, integrations=IntegrationsConfig(
        stripe=StripeConfig(api_base=stripe.base, timeout=5)))
    app = CrmApp(db, config=config, today=TODAY)
    app.animation_level = "none"
    return app


def _links(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(PaymentLink)) or 0


async def _press_link(pilot) -> PaymentLinkDialog:
    await pilot.press("l")
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, PaymentLinkDialog)
    return dialog


async def test_premium_makes_the_link_once_shows_it_and_c_copies_it(ui_db, stripe):
    iid = _issued(ui_db, make_client(ui_db, "Acme Lawn Care"), cents=12_500)
    app = stripe_app(ui_db, stripe, "premium")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open(pilot, iid)
        dialog = await _press_link(pilot)
        assert dialog.link is not None and dialog.link.url
        url = dialog.link.url
        assert url.startswith("https://buy.stripe.com/")
        shown = screen_text(app)
        assert url in shown and "$125.00" in shown
        sent = stripe.requests_to("POST", "/v1/payment_links")
        assert len(sent) == 1 and "[unit_amount]=12500" in sent[0].body.decode()

        await pilot.press("c")
        assert app.clipboard == url
        assert "Copied the payment link." in notices(app)

        await pilot.press("escape")
        await settle(pilot)
        again = await _press_link(pilot)  # the same open link, not a second one
        assert again.link is not None and again.link.url == url
        assert len(stripe.requests_to("POST", "/v1/payment_links")) == 1
        assert _links(ui_db) == 1


async def test_free_tier_shows_why_and_calls_nobody(ui_db, stripe):
    iid = _issued(ui_db, make_client(ui_db, "Acme Lawn Care"))
    app = stripe_app(ui_db, stripe, "free")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open(pilot, iid)
        dialog = await _press_link(pilot)
        assert dialog.link is None
        assert "Premium" in screen_text(app)
        await pilot.press("c")  # nothing to copy
        assert app.clipboard == ""
    assert stripe.requests == [] and _links(ui_db) == 0


async def test_a_stripe_refusal_is_said_in_plain_words(ui_db, stripe):
    iid = _issued(ui_db, make_client(ui_db, "Acme Lawn Care"))
    stripe.fail(401, {"error": {"type": "invalid_request_error",
                                "message": "Invalid API Key provided: sk_test_***0000"}},
                path="/v1/payment_links")
    app = stripe_app(ui_db, stripe, "premium")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open(pilot, iid)
        dialog = await _press_link(pilot)
        assert dialog.link is None
        said = " ".join(notices(app))
        assert "Stripe refused the API key" in said and "Nothing was charged." in said
        assert "Stripe refused the API key" in screen_text(app)
        assert "Traceback" not in screen_text(app)


async def test_a_draft_has_no_link_and_says_to_issue_it_first(ui_db, stripe):
    from decimal import Decimal

    from core import invoices
    from core.lines import LineData

    iid = invoices.create_blank(ui_db, make_client(ui_db, "Acme Lawn Care"),
                                [LineData("Mowing", Decimal(1), 5_000)])
    app = stripe_app(ui_db, stripe, "premium")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open(pilot, iid)
        await _press_link(pilot)
        assert "issue it before asking for payment" in screen_text(app)
    assert stripe.requests_to("POST", "/v1/payment_links") == [] and _links(ui_db) == 0
