"""``tssg-crm sync`` and ``tssg-crm remind`` end to end: the real command line, a SQLite file,
the license tier granted through the real signed-token mechanism, keys from environment
variables, and the Stripe and Twilio fakes on 127.0.0.1 named in the config file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from config.secrets import Secret
from core import business, clients, invoices, payment_links
from core.clients import ContactData
from core.lines import LineData
from core.models import Invoice, Payment
from integrations import stripe_payments
from integrations.stripe_payments import StripeGateway
from tests.cli.support import assert_usage_error
from tests.core.factories import make_job, schedule, visit_ids
from tests.fakes.stripe_server import API_KEY, FakeStripe
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.license_support import grant

pytestmark = pytest.mark.filterwarnings("ignore:Use .content=:DeprecationWarning")


@pytest.fixture
def fakes():
    with FakeStripe() as stripe_fake, FakeTwilio() as twilio_fake:
        yield stripe_fake, twilio_fake


@pytest.fixture
def shop(_isolated_home, sqlite_db, fakes, monkeypatch):
    """A shop whose config points at the fakes, with keys in the environment and no quiet
    hours (the test must not depend on the time of day). Tier: set by each test."""
    stripe_fake, twilio_fake = fakes
    config = _isolated_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'[integrations.stripe]\napi_base = "{stripe_fake.base}"\n'
        f'[integrations.twilio]\napi_base = "{twilio_fake.base}"\n'
        f'from_number = "{FROM_NUMBER}"\n', encoding="utf-8")
    monkeypatch.setenv("TSSG_CRM_STRIPE_API_KEY", API_KEY)
    monkeypatch.setenv("TSSG_CRM_TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TSSG_CRM_TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    business.update(sqlite_db, "messaging", {"quiet_hours_start": "00:00",
                                             "quiet_hours_end": "00:00"})
    return sqlite_db


def _db_arg(db) -> list[str]:
    return ["--db", str(db.path)]


def _visit_tomorrow(db, name: str, phone: str, at: str, consent: bool = True) -> int:
    cid = clients.create_client(db, clients.ClientData(name=name), [
        ContactData(name=name, phone=phone, sms_consent=consent)],
        [clients.AddressData(line1="12 Elm St", city="Springfield", region="IL")])
    with db.read() as s:
        address_id = s.get(clients.Client, cid).addresses[0].id
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    job = make_job(db, cid, address_id=address_id, schedule=schedule(tomorrow, at))
    return visit_ids(db, job)[0]


def test_remind_twice_texts_each_visit_once(cli, shop, fakes, _isolated_home):
    grant(_isolated_home, "premium")
    _, twilio_fake = fakes
    _visit_tomorrow(shop, "Maria Lopez", "+13125550142", "09:00")
    _visit_tomorrow(shop, "Luis Ortega", "+13125550143", "11:30")
    _visit_tomorrow(shop, "No Consent", "+13125550144", "14:00", consent=False)

    first = cli("remind", "--date", "tomorrow", *_db_arg(shop))
    assert first.code == 0, first
    assert "Sent 2 reminder(s)" in first.out and "skipped" in first.out
    assert "No Consent" in first.out and "not agreed" in first.out
    assert sorted(m["to"] for m in twilio_fake.sent) == ["+13125550142", "+13125550143"]

    second = cli("remind", *_db_arg(shop))  # tomorrow is the default
    assert second.code == 0 and "Sent 0 reminder(s)" in second.out
    assert len(twilio_fake.sent) == 2


def test_remind_dry_run_sends_nothing(cli, shop, fakes, _isolated_home):
    grant(_isolated_home, "premium")
    _visit_tomorrow(shop, "Maria Lopez", "+13125550142", "09:00")
    result = cli("remind", "--dry-run", *_db_arg(shop))
    assert result.code == 0 and "Would text 1 reminder(s)" in result.out
    assert "+13125550142" in result.out and fakes[1].requests == []


def test_remind_refuses_a_bad_date_with_one_line(cli, shop, _isolated_home):
    grant(_isolated_home, "premium")
    assert_usage_error(cli("remind", "--date", "next blursday", *_db_arg(shop)),
                       "not a date", "tomorrow")
    assert_usage_error(cli("remind", "--date", "2026-02-30", *_db_arg(shop)), "not a date")


def test_remind_on_the_free_tier_says_which_tier_has_it(cli, shop, fakes):
    _visit_tomorrow(shop, "Maria Lopez", "+13125550142", "09:00")
    result = cli("remind", *_db_arg(shop))
    assert result.code == 1 and result.out == ""
    assert "Premium" in result.err and len(result.err_lines) == 1
    assert fakes[1].requests == []


def test_remind_without_twilio_settings_says_what_to_set(cli, shop, monkeypatch,
                                                         _isolated_home):
    grant(_isolated_home, "premium")
    monkeypatch.delenv("TSSG_CRM_TWILIO_AUTH_TOKEN")
    _visit_tomorrow(shop, "Maria Lopez", "+13125550142", "09:00")
    result = cli("remind", *_db_arg(shop))
    assert result.code == 1 and "TSSG_CRM_TWILIO_AUTH_TOKEN" in result.err
    assert AUTH_TOKEN not in result.err + result.out


def _issued_with_link(db, stripe_fake) -> tuple[int, payment_links.LinkView]:
    cid = clients.create_client(db, clients.ClientData(name="Acme Lawn Care"))
    iid = invoices.create_blank(db, cid, [LineData("Lawn mowing", Decimal(1), 8_000)])
    invoices.issue(db, iid, dt.date.today())
    gateway = StripeGateway(Secret(API_KEY), api_base=stripe_fake.base)
    try:
        view = stripe_payments.ensure_link(db, gateway, "premium", iid)
    finally:
        gateway.close()
    return iid, view


def test_sync_records_a_paid_link_once(cli, shop, fakes, _isolated_home):
    grant(_isolated_home, "premium")
    stripe_fake, _ = fakes
    iid, view = _issued_with_link(shop, stripe_fake)
    stripe_fake.pay(view.stripe_link_id)

    first = cli("sync", *_db_arg(shop))
    assert first.code == 0, first
    assert "Recorded a card payment on INV-" in first.out
    second = cli("sync", "--quiet", *_db_arg(shop))
    assert second.code == 0 and second.out == ""
    with shop.read() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 1
        assert s.get(Invoice, iid).status == "paid"


def test_sync_reports_a_stripe_refusal_on_stderr(cli, shop, fakes, monkeypatch,
                                                 _isolated_home):
    grant(_isolated_home, "premium")
    _issued_with_link(shop, fakes[0])
    monkeypatch.setenv("TSSG_CRM_STRIPE_API_KEY", "sk_test_revoked_key_000000")
    result = cli("sync", *_db_arg(shop))
    assert result.code == 1 and "refused the API key" in result.err
    assert "sk_test_revoked_key_000000" not in result.err + result.out


def test_sync_with_nothing_to_do_needs_no_keys_and_no_tier(cli, shop, fakes, monkeypatch):
    monkeypatch.delenv("TSSG_CRM_STRIPE_API_KEY")
    result = cli("sync", *_db_arg(shop))
    assert result.code == 0 and "Nothing changed." in result.out
    assert fakes[0].requests == [] and fakes[1].requests == []
