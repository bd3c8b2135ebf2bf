"""Stripe payment links through the real ``stripe`` SDK against a loopback fake that speaks
Stripe's wire format: invoice → link → paid → polled → one payment; faults (timeout, 500,
429, connection refused, bad key, declined) end in a clear message, no second link and no
payment recorded twice; a crash between the create call and the save replays the same key."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from config.secrets import Secret
from core import clients, invoices, payment_links, payments
from core.errors import TransitionError
from core.lines import LineData
from core.models import AuditEvent, ClientCredit, Invoice, Payment, PaymentLink
from core.tiers import FeatureLocked
from integrations import stripe_payments
from integrations.http import IntegrationError, RetryPolicy
from integrations.stripe_payments import StripeGateway
from tests.fakes.loopback import closed_port_url
from tests.fakes.stripe_server import (
    API_KEY,
    CARD_DECLINED,
    PERMISSION,
    RATE_LIMITED,
    SERVER_ERROR,
    FakeStripe,
)

ON = dt.date(2026, 3, 2)
# the stripe SDK hands httpx the form body as bytes; that is its business, not ours
pytestmark = pytest.mark.filterwarnings("ignore:Use .content=:DeprecationWarning")
FAST = RetryPolicy(retries=2, backoff=0.01)
PREMIUM = "premium"


@pytest.fixture
def stripe_fake():
    with FakeStripe() as fake:
        yield fake


def _gateway(base: str, *, sleeps: list[float] | None = None, timeout: float = 5.0,
             key: str = API_KEY, policy: RetryPolicy = FAST) -> StripeGateway:
    return StripeGateway(Secret(key), api_base=base, timeout=timeout, policy=policy,
                         sleep=sleeps.append if sleeps is not None else (lambda s: None))


@pytest.fixture
def gateway(stripe_fake):
    gw = _gateway(stripe_fake.base)
    yield gw
    gw.close()


def _issued(db, price: int = 12_500, name: str = "Acme Lawn Care") -> int:
    cid = clients.create_client(db, clients.ClientData(name=name))
    iid = invoices.create_blank(db, cid, [LineData("Lawn mowing", Decimal(1), price)])
    invoices.issue(db, iid, ON)
    return iid


def _count(db, model, *where) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _invoice(db, iid: int) -> Invoice:
    return invoices.get(db, iid)


def _creates(fake: FakeStripe):
    return fake.requests_to("POST", "/v1/payment_links")


# --------------------------------------------------------------------------- the happy path


def test_invoice_link_paid_polled_records_one_payment_and_polling_again_changes_nothing(
        db, stripe_fake, gateway):
    iid = _issued(db)
    view = stripe_payments.ensure_link(db, gateway, PREMIUM, iid)
    assert view.status == "open" and view.url.startswith("https://buy.stripe.com/")
    assert view.amount_cents == 12_500
    assert payment_links.current_link(db, iid) == view

    # the request Stripe got: form-encoded, the balance in cents, single use, the stored key
    (create,) = _creates(stripe_fake)
    form = create.form
    assert create.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert form["line_items[0][price_data][unit_amount]"] == "12500"
    assert form["line_items[0][price_data][currency]"] == "usd"
    assert form["line_items[0][quantity]"] == "1"
    assert form["restrictions[completed_sessions][limit]"] == "1"
    assert form["metadata[invoice_id]"] == str(iid)
    assert create.headers["idempotency-key"] == view.idempotency_key

    stripe_fake.pay(view.stripe_link_id)
    first = stripe_payments.sync_links(db, gateway, PREMIUM, today=ON)
    assert first.error is None
    assert any("Recorded a card payment" in e for e in first.events)
    inv = _invoice(db, iid)
    assert (inv.status, inv.balance_cents, inv.paid_cents) == ("paid", 0, 12_500)
    with db.read() as s:
        (payment,) = s.scalars(select(Payment)).all()
    (session,) = stripe_fake.sessions_of(view.stripe_link_id)
    assert (payment.method, payment.stripe_session_id, payment.stripe_payment_intent) == (
        "card", session["id"], session["payment_intent"])
    assert payment_links.get_link(db, view.id).status == "paid"

    audit_before = _count(db, AuditEvent)
    for _ in range(2):
        again = stripe_payments.sync_links(db, gateway, PREMIUM, today=ON)
        assert again.error is None and again.events == []
    assert _count(db, Payment) == 1 and _count(db, AuditEvent) == audit_before
    assert _invoice(db, iid).paid_cents == 12_500


def test_asking_again_for_the_same_balance_reuses_the_open_link(db, stripe_fake, gateway):
    iid = _issued(db)
    first = stripe_payments.ensure_link(db, gateway, PREMIUM, iid)
    second = stripe_payments.ensure_link(db, gateway, PREMIUM, iid)
    assert second == first and len(_creates(stripe_fake)) == 1


def test_a_paid_invoice_gets_no_link_and_stripe_is_not_called(db, stripe_fake, gateway):
    iid = _issued(db)
    payments.record_payment(db, iid, 12_500, "cash", ON)
    with pytest.raises(TransitionError, match="already paid"):
        stripe_payments.ensure_link(db, gateway, PREMIUM, iid)
    assert stripe_fake.requests == []


def test_the_free_tier_is_told_which_tier_has_it_and_nothing_is_sent(db, stripe_fake, gateway):
    iid = _issued(db)
    with pytest.raises(FeatureLocked, match="Premium"):
        stripe_payments.ensure_link(db, gateway, "free", iid)
    with pytest.raises(FeatureLocked):
        stripe_payments.sync_links(db, gateway, "free")
    assert stripe_fake.requests == [] and _count(db, PaymentLink) == 0


# --------------------------------------------------------------------------- balance changes


def test_a_changed_balance_turns_the_link_off_and_makes_one_for_the_new_balance(
        db, stripe_fake, gateway):
    iid = _issued(db, 10_000)
    old = stripe_payments.ensure_link(db, gateway, PREMIUM, iid)
    payments.record_payment(db, iid, 4_000, "cash", ON)
    result = stripe_payments.sync_links(db, gateway, PREMIUM, today=ON)
    assert result.error is None
    assert stripe_fake.links[old.stripe_link_id]["active"] is False
    assert payment_links.get_link(db, old.id).status == "expired"
    new = payment_links.current_link(db, iid)
    assert new.id != old.id and new.amount_cents == 6_000 and new.status == "open"
    assert stripe_fake.links[new.stripe_link_id]["active"] is True
    assert new.idempotency_key != old.idempotency_key
    with pytest.raises(AssertionError):  # the customer can no longer pay the old amount
        stripe_fake.pay(old.stripe_link_id)


def test_a_customer_paying_the_old_link_during_the_change_is_recorded_once_never_twice(
        db, stripe_fake, gateway):
    iid = _issued(db, 10_000)
    old = stripe_payments.ensure_link(db, gateway, PREMIUM, iid)
    session = stripe_fake.open_session(old.stripe_link_id)  # typing their card number
    payments.record_payment(db, iid, 4_000, "cash", ON)
    stripe_payments.sync_links(db, gateway, PREMIUM, today=ON)  # old off, new for 60.00
    replacement = payment_links.current_link(db, iid)
    assert replacement.amount_cents == 6_000
    stripe_fake.complete(session)  # their payment of 100.00 still goes through

    for _ in range(2):
        assert stripe_payments.sync_links(db, gateway, PREMIUM, today=ON).error is None
    inv = _invoice(db, iid)
    assert (inv.status, inv.balance_cents) == ("paid", 0)
    assert _count(db, Payment, Payment.method == "card") == 1
    with db.read() as s:
        assert s.scalar(select(func.sum(ClientCredit.amount_cents))) == 4_000  # kept as credit
    # the replacement is off, so nobody pays a second time
    assert stripe_fake.links[replacement.stripe_link_id]["active"] is False
    assert payment_links.get_link(db, replacement.id).status == "expired"


def test_a_link_turned_off_in_the_stripe_dashboard_is_marked_expired(db, stripe_fake, gateway):
    iid = _issued(db)
    view = stripe_payments.ensure_link(db, gateway, PREMIUM, iid)
    stripe_fake.links[view.stripe_link_id]["active"] = False
    result = stripe_payments.sync_links(db, gateway, PREMIUM, today=ON)
    assert any("turned off in Stripe" in e for e in result.events)
    assert payment_links.get_link(db, view.id).status == "expired"


# --------------------------------------------------------------------------- crashes and faults


def test_a_crash_between_the_call_and_the_save_replays_the_same_key(db, stripe_fake, gateway):
    iid = _issued(db)
    plan = payment_links.plan_link(db, iid)
    made = gateway.create_link(plan.request)  # Stripe made it ... and the app died here
    assert payment_links.get_link(db, plan.request.link_id).status == "creating"

    view = stripe_payments.ensure_link(db, gateway, PREMIUM, iid)  # after the restart
    keys = [r.headers["idempotency-key"] for r in _creates(stripe_fake)]
    assert keys == [plan.request.idempotency_key] * 2
    assert len(stripe_fake.links) == 1 and view.stripe_link_id == made.id
    assert view.url == made.url and view.status == "open"


def test_sync_finishes_an_interrupted_creation_with_the_stored_key(db, stripe_fake, gateway):
    iid = _issued(db)
    plan = payment_links.plan_link(db, iid)
    gateway.create_link(plan.request)
    result = stripe_payments.sync_links(db, gateway, PREMIUM, today=ON)
    assert result.error is None and len(stripe_fake.links) == 1
    assert payment_links.get_link(db, plan.request.link_id).status == "open"


def test_a_timeout_after_stripe_made_the_link_is_retried_with_the_same_key(db, stripe_fake):
    iid = _issued(db)
    stripe_fake.slow(1.0, method="POST", path="/v1/payment_links")
    gw = _gateway(stripe_fake.base, timeout=0.3)
    try:
        view = stripe_payments.ensure_link(db, gw, PREMIUM, iid)
    finally:
        gw.close()
    creates = _creates(stripe_fake)
    assert len(creates) == 2 and len({r.headers["idempotency-key"] for r in creates}) == 1
    assert len(stripe_fake.links) == 1 and view.stripe_link_id in stripe_fake.links


@pytest.mark.parametrize("status, body, headers, waits", [
    (500, SERVER_ERROR, {}, [0.01]),
    (429, RATE_LIMITED, {"Retry-After": "3"}, [3.0]),
])
def test_a_server_error_or_rate_limit_is_retried_then_succeeds_once(
        db, stripe_fake, status, body, headers, waits):
    iid = _issued(db)
    stripe_fake.fail(status, body, headers=headers, method="POST", path="/v1/payment_links")
    sleeps: list[float] = []
    gw = _gateway(stripe_fake.base, sleeps=sleeps)
    view = stripe_payments.ensure_link(db, gw, PREMIUM, iid)
    gw.close()
    assert sleeps == waits
    assert len(_creates(stripe_fake)) == 2 and len(stripe_fake.links) == 1
    assert view.status == "open"


def test_giving_up_is_bounded_and_says_nothing_was_charged(db, stripe_fake):
    iid = _issued(db)
    stripe_fake.fail(500, SERVER_ERROR, times=10, path="/v1/payment_links")
    sleeps: list[float] = []
    gw = _gateway(stripe_fake.base, sleeps=sleeps)
    with pytest.raises(IntegrationError) as err:
        stripe_payments.ensure_link(db, gw, PREMIUM, iid)
    gw.close()
    assert len(_creates(stripe_fake)) == 3 and sleeps == [0.01, 0.02]
    assert "server error" in str(err.value) and "gave up after 3 tries" in str(err.value)
    assert "Nothing was charged" in str(err.value)
    # the attempt stays replayable with its key; no payment anywhere
    link = payment_links.current_link(db, iid)
    assert link.status == "creating" and "server error" in link.last_error
    assert _count(db, Payment) == 0


def test_connection_refused_is_retried_a_bounded_number_of_times(db):
    iid = _issued(db)
    sleeps: list[float] = []
    gw = _gateway(closed_port_url(), sleeps=sleeps)
    with pytest.raises(IntegrationError, match="could not be reached") as err:
        stripe_payments.ensure_link(db, gw, PREMIUM, iid)
    assert len(sleeps) == 2 and "gave up after 3 tries" in str(err.value)
    assert payment_links.current_link(db, iid).status == "creating"


@pytest.mark.parametrize("status, body, words", [
    (402, CARD_DECLINED, "declined the request: Your card was declined."),
    (403, PERMISSION, "does not let this API key do that"),
])
def test_refusals_are_explained_not_retried_and_close_the_attempt(db, stripe_fake, status,
                                                                   body, words):
    iid = _issued(db)
    stripe_fake.fail(status, body, path="/v1/payment_links")
    gw = _gateway(stripe_fake.base)
    with pytest.raises(IntegrationError, match=words):
        stripe_payments.ensure_link(db, gw, PREMIUM, iid)
    gw.close()
    assert len(_creates(stripe_fake)) == 1
    assert payment_links.links_for_invoice(db, iid)[0].status == "failed"


def test_a_bad_key_is_explained_without_showing_the_key(db, stripe_fake):
    iid = _issued(db)
    secret = "sk_test_wrongwrongwrongwrong1234"
    gw = _gateway(stripe_fake.base, key=secret)
    with pytest.raises(IntegrationError) as err:
        stripe_payments.ensure_link(db, gw, PREMIUM, iid)
    assert "refused the API key" in str(err.value) and secret not in str(err.value)
    assert len(stripe_fake.requests) == 1
    assert secret not in repr(gw.__dict__)
    assert secret not in payment_links.links_for_invoice(db, iid)[0].last_error


def test_sync_stops_at_an_outage_and_keeps_what_was_done(db, stripe_fake, gateway):
    one, two = _issued(db, name="One"), _issued(db, name="Two")
    first = stripe_payments.ensure_link(db, gateway, PREMIUM, one)
    stripe_payments.ensure_link(db, gateway, PREMIUM, two)
    stripe_fake.pay(first.stripe_link_id)
    stripe_fake.fail(500, SERVER_ERROR, times=10, path="/v1/checkout/sessions")
    result = stripe_payments.sync_links(db, gateway, PREMIUM, today=ON)
    assert result.error and "gave up" in result.error
    assert _count(db, Payment) == 0
    stripe_fake.faults.clear()
    assert stripe_payments.sync_links(db, gateway, PREMIUM, today=ON).error is None
    assert _invoice(db, one).status == "paid" and _invoice(db, two).status == "issued"


def test_test_connection_says_which_mode(stripe_fake, gateway):
    assert gateway.test_connection() == "Connected to Stripe (test mode); payment links can be made."
    with pytest.raises(IntegrationError, match="refused the API key"):
        _gateway(stripe_fake.base, key="sk_live_nope").test_connection()


def test_a_missing_key_says_where_to_put_it():
    with pytest.raises(IntegrationError, match="TSSG_CRM_STRIPE_API_KEY"):
        StripeGateway(Secret(""))
