"""``integrations.sync``: what the background poll and ``tssg-crm sync`` run, built from the
real config and secrets objects, against the Stripe and Twilio fakes; and "Test connection"
for each integration as the Settings screen will call it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from config.secrets import Secrets
from config.settings import parse_config
from core import business, clients, invoices, messaging, payment_links
from core.clients import ContactData
from core.lines import LineData
from core.tiers import FeatureLocked
from integrations import stripe_payments, sync, twilio_sms
from integrations.http import IntegrationError, RetryPolicy
from tests.fakes.stripe_server import API_KEY, FakeStripe
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.fakes.usps_server import CLIENT_ID, CLIENT_SECRET, FakeUsps

pytestmark = pytest.mark.filterwarnings("ignore:Use .content=:DeprecationWarning")
ON = dt.date(2026, 3, 2)
NOON = dt.datetime(2026, 3, 10, 12, 0)
FAST = RetryPolicy(retries=1, backoff=0.0)


@pytest.fixture
def fakes():
    with FakeStripe() as s, FakeTwilio() as t, FakeUsps() as u:
        yield s, t, u


def _config(fakes):
    s, t, u = fakes
    return parse_config({"integrations": {
        "stripe": {"api_base": s.base, "timeout": 5},
        "twilio": {"api_base": t.base, "from_number": FROM_NUMBER, "timeout": 5},
        "usps": {"api_base": u.base, "timeout": 5}}})


def _secrets(**only: str) -> Secrets:
    from config.secrets import Secret

    values = {"stripe_api_key": API_KEY, "twilio_account_sid": ACCOUNT_SID,
              "twilio_auth_token": AUTH_TOKEN, "usps_client_id": CLIENT_ID,
              "usps_client_secret": CLIENT_SECRET}
    if only:
        values = only
    return Secrets(path=Path("/nonexistent/secrets.toml"),
                   values={k: Secret(v) for k, v in values.items()})


def _sleepless(**kw):
    return {"sleep": lambda s: None, "policy": FAST, **kw}


def _paid_link_and_a_sent_text(db, fakes) -> tuple[int, int]:
    s, t, _ = fakes
    business.update(db, "messaging", {"quiet_hours_start": "00:00", "quiet_hours_end": "00:00"})
    cid = clients.create_client(db, clients.ClientData(name="Acme Lawn Care"), [
        ContactData(name="Ana", phone="+13125550142", sms_consent=True)])
    iid = invoices.create_blank(db, cid, [LineData("Mowing", Decimal(1), 9_000)])
    invoices.issue(db, iid, ON)
    config, secrets = _config(fakes), _secrets()
    gw = stripe_payments.StripeGateway.from_config(config, secrets)
    view = stripe_payments.ensure_link(db, gw, "premium", iid)
    gw.close()
    tw = twilio_sms.TwilioGateway.from_config(config, secrets)
    sent = twilio_sms.send_message(db, tw, "premium", "invoice", iid, "invoice_link", now=NOON)
    tw.close()
    assert t.sent[0]["body"].endswith(view.url)  # the link went out by text
    s.pay(view.stripe_link_id)
    t.set_status(sent.sid, "delivered")
    return iid, cid


def test_sync_all_records_the_payment_and_the_delivery(db, fakes):
    iid, cid = _paid_link_and_a_sent_text(db, fakes)
    report = sync.sync_all(db, _config(fakes), _secrets(), "premium", today=ON, **_sleepless())
    assert report.ok, report.errors
    assert any("Recorded a card payment" in e for e in report.events)
    assert any("delivered" in e for e in report.routine)
    assert invoices.get(db, iid).status == "paid"
    assert messaging.client_messages(db, cid)[0].status == "delivered"
    again = sync.sync_all(db, _config(fakes), _secrets(), "premium", today=ON, **_sleepless())
    assert again.ok and again.events == again.routine == []


def test_sync_all_reports_a_locked_tier_and_a_missing_key_without_stopping(db, fakes):
    iid, _ = _paid_link_and_a_sent_text(db, fakes)
    locked = sync.sync_all(db, _config(fakes), _secrets(), "free", **_sleepless())
    assert len(locked.errors) == 2 and all("Premium" in e for e in locked.errors)
    only_twilio = _secrets(twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN)
    report = sync.sync_all(db, _config(fakes), only_twilio, "premium", **_sleepless())
    assert report.errors == ["Payment links were not checked: Stripe: is not set up: add the "
                             "Stripe secret key in Settings (or TSSG_CRM_STRIPE_API_KEY)."]
    assert any("delivered" in e for e in report.routine)  # texts were still checked
    assert invoices.get(db, iid).status == "issued"
    assert payment_links.current_link(db, iid).status == "open"


@pytest.mark.parametrize("service, words", [
    ("stripe", "Connected to Stripe (test mode)"),
    ("twilio", "Connected to Twilio (Test Shop)"),
    ("usps", "Connected to USPS"),
])
def test_test_connection_for_each_integration(fakes, service, words):
    assert sync.test_connection(service, _config(fakes), _secrets(), "premium",
                                **_sleepless()).startswith(words)
    with pytest.raises(FeatureLocked):
        sync.test_connection(service, _config(fakes), _secrets(), "free")
    with pytest.raises(IntegrationError, match="not set up"):
        sync.test_connection(service, _config(fakes), _secrets(ai_api_key="x"), "premium")
