"""Payment-link bookkeeping on both backends, without any HTTP: the key is stored before the
call and replayed, a paid session is recorded exactly once, a changed balance makes a link
stale, money the invoice cannot take is flagged, refusals write nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core import clients, invoices, payment_links, payments
from core.errors import TransitionError, ValidationError
from core.lines import LineData
from core.models import AuditEvent, ClientCredit, Invoice, Payment, PaymentLink
from core.payment_links import PaidSession

ON = dt.date(2026, 3, 2)


def _issued(db, price: int = 10_000, name: str = "Acme Lawn Care") -> int:
    cid = clients.create_client(db, clients.ClientData(name=name))
    iid = invoices.create_blank(db, cid, [LineData("Lawn mowing", Decimal(1), price)])
    invoices.issue(db, iid, ON)
    return iid


def _open_link(db, iid: int, n: int = 1) -> payment_links.LinkView:
    plan = payment_links.plan_link(db, iid)
    assert plan.request is not None
    return payment_links.link_opened(db, plan.request.link_id, f"plink_test_{iid}_{n}",
                                     f"https://buy.stripe.com/test_{iid}_{n}")


def _count(db, model) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model))


def _invoice(db, iid: int) -> Invoice:
    return invoices.get(db, iid)


def test_the_key_is_stored_before_the_call_and_replayed_until_stripe_answers(db):
    iid = _issued(db)
    first = payment_links.plan_link(db, iid)
    assert first.request is not None
    req = first.request
    assert req.amount_cents == 10_000 and req.currency == "USD"
    assert req.idempotency_key.startswith(f"tssg-crm:invoice:{iid}:attempt:1:")
    with db.read() as s:  # on disk before any call
        row = s.get(PaymentLink, req.link_id)
        assert (row.status, row.idempotency_key) == ("creating", req.idempotency_key)
    # the app stopped (or the network failed) before the answer was saved: same request again
    again = payment_links.plan_link(db, iid)
    assert again.request == req
    assert _count(db, PaymentLink) == 1
    view = payment_links.link_opened(db, req.link_id, "plink_test_1", "https://buy.stripe.com/x")
    assert view.status == "open" and view.url == "https://buy.stripe.com/x"
    assert payment_links.plan_link(db, iid).ready == view


def test_saving_the_same_answer_twice_changes_nothing(db):
    iid = _issued(db)
    view = _open_link(db, iid)
    events = _count(db, AuditEvent)
    assert payment_links.link_opened(db, view.id, view.stripe_link_id, view.url) == view
    assert _count(db, AuditEvent) == events


def test_no_link_for_a_draft_a_paid_or_a_void_invoice(db):
    cid = clients.create_client(db, clients.ClientData(name="Draft Co"))
    draft = invoices.create_blank(db, cid, [LineData("Work", Decimal(1), 5000)])
    with pytest.raises(TransitionError, match="draft"):
        payment_links.plan_link(db, draft)
    paid = _issued(db, name="Paid Co")
    payments.record_payment(db, paid, 10_000, "cash", ON)
    with pytest.raises(TransitionError, match="already paid"):
        payment_links.plan_link(db, paid)
    assert _count(db, PaymentLink) == 0


def test_a_paid_session_records_one_card_payment_however_often_it_is_seen(db):
    iid = _issued(db)
    view = _open_link(db, iid)
    paid = PaidSession("cs_test_a1", 10_000, "usd", "pi_test_a1")
    first = payment_links.record_paid_session(db, view.id, paid, today=ON)
    assert first.kind == "recorded"
    for _ in range(3):
        assert payment_links.record_paid_session(db, view.id, paid, today=ON).kind == "already"
    with db.read() as s:
        rows = s.scalars(select(Payment)).all()
    assert len(rows) == 1
    p = rows[0]
    assert (p.method, p.amount_cents, p.stripe_session_id, p.stripe_payment_intent) == (
        "card", 10_000, "cs_test_a1", "pi_test_a1")
    inv = _invoice(db, iid)
    assert (inv.status, inv.balance_cents) == ("paid", 0)
    assert payment_links.get_link(db, view.id).status == "paid"


def test_a_partial_balance_link_makes_the_invoice_partially_paid(db):
    iid = _issued(db, 10_000)
    payments.record_payment(db, iid, 2_500, "cash", ON)
    view = _open_link(db, iid)
    assert view.amount_cents == 7_500
    payment_links.record_paid_session(db, view.id, PaidSession("cs_1", 5_000, "usd"), today=ON)
    inv = _invoice(db, iid)
    assert (inv.status, inv.balance_cents) == ("partially_paid", 2_500)


def test_a_changed_balance_makes_the_open_link_stale_and_a_new_attempt_gets_a_new_key(db):
    iid = _issued(db)
    old = _open_link(db, iid)
    payments.record_payment(db, iid, 4_000, "cash", ON)
    assert payment_links.needs_replacement(db, old.id)
    plan = payment_links.plan_link(db, iid)
    assert plan.stale == old
    payment_links.link_closed(db, old.id, "the invoice balance changed")
    new = payment_links.plan_link(db, iid).request
    assert new is not None
    assert new.amount_cents == 6_000
    assert new.idempotency_key != old.idempotency_key and ":attempt:2:" in new.idempotency_key


def test_money_collected_after_the_balance_went_down_becomes_client_credit(db):
    iid = _issued(db)
    old = _open_link(db, iid)
    payments.record_payment(db, iid, 4_000, "cash", ON)  # before the link was replaced
    outcome = payment_links.record_paid_session(db, old.id, PaidSession("cs_2", 10_000, "usd"),
                                                today=ON)
    assert outcome.kind == "recorded"
    inv = _invoice(db, iid)
    assert (inv.status, inv.balance_cents, inv.paid_cents) == ("paid", 0, 10_000)
    with db.read() as s:
        assert s.scalar(select(func.sum(ClientCredit.amount_cents))) == 4_000


def test_money_an_invoice_cannot_take_is_flagged_not_recorded(db):
    iid = _issued(db)
    first = _open_link(db, iid)
    payment_links.record_paid_session(db, first.id, PaidSession("cs_a", 10_000, "usd"), today=ON)
    # a second customer session completed on the same link (a race Stripe allows)
    outcome = payment_links.record_paid_session(db, first.id, PaidSession("cs_b", 10_000, "usd"),
                                                today=ON)
    assert outcome.kind == "conflict"
    assert "already paid" in outcome.message and "Refund it in Stripe" in outcome.message
    assert _count(db, Payment) == 1
    assert payment_links.get_link(db, first.id).status == "conflict"


def test_a_refused_create_closes_the_attempt_and_an_unanswered_one_stays_replayable(db):
    iid = _issued(db)
    req = payment_links.plan_link(db, iid).request
    payment_links.link_failed(db, req.link_id, "no answer", definite=False)
    assert payment_links.plan_link(db, iid).request == req  # same key again
    payment_links.link_failed(db, req.link_id, "Stripe refused the API key", definite=True)
    failed = payment_links.get_link(db, req.link_id)
    assert (failed.status, failed.last_error) == ("failed", "Stripe refused the API key")
    nxt = payment_links.plan_link(db, iid).request
    assert nxt.link_id != req.link_id and nxt.idempotency_key != req.idempotency_key


def test_a_session_recorded_on_another_invoice_is_not_moved_here(db):
    one, two = _issued(db, name="One"), _issued(db, name="Two")
    link_one, link_two = _open_link(db, one), _open_link(db, two)
    payment_links.record_paid_session(db, link_one.id, PaidSession("cs_same", 10_000, "usd"))
    outcome = payment_links.record_paid_session(db, link_two.id,
                                                PaidSession("cs_same", 10_000, "usd"))
    assert outcome.kind == "conflict" and "another invoice" in outcome.message
    assert _invoice(db, two).balance_cents == 10_000


def test_bad_answers_from_outside_are_refused_and_write_nothing(db):
    iid = _issued(db)
    req = payment_links.plan_link(db, iid).request
    before = _count(db, AuditEvent)
    with pytest.raises(ValidationError, match="payment link URL"):
        payment_links.link_opened(db, req.link_id, "plink_1", "javascript:alert(1)")
    with pytest.raises(ValidationError, match="Stripe payment link id"):
        payment_links.link_opened(db, req.link_id, "plink 1\x1b[2J", "https://buy.stripe.com/x")
    with pytest.raises(ValidationError, match="amount"):
        payment_links.record_paid_session(db, req.link_id, PaidSession("cs_1", 0, "usd"))
    assert _count(db, AuditEvent) == before
    assert payment_links.get_link(db, req.link_id).status == "creating"


def test_closed_links_are_polled_for_a_day_then_left_alone(db):
    iid = _issued(db)
    view = _open_link(db, iid)
    payment_links.link_closed(db, view.id, "turned off")
    closed_at = payment_links.get_link(db, view.id).closed_at
    soon = (closed_at + dt.timedelta(hours=23)).replace(tzinfo=dt.UTC)
    later = (closed_at + dt.timedelta(hours=25)).replace(tzinfo=dt.UTC)
    assert [v.id for v in payment_links.links_to_poll(db, now=soon)] == [view.id]
    assert payment_links.links_to_poll(db, now=later) == []


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sightings=st.lists(st.sampled_from(["cs_x", "cs_y"]), min_size=1, max_size=6),
       cash=st.integers(min_value=0, max_value=9_999))
def test_any_sequence_of_sightings_records_each_session_at_most_once(db, sightings, cash):
    iid = _issued(db, name=f"Prop {len(sightings)} {cash}")
    view = _open_link(db, iid, n=cash)
    if cash:
        payments.record_payment(db, iid, cash, "cash", ON)
    for sid in sightings:
        payment_links.record_paid_session(db, view.id, PaidSession(f"{sid}_{iid}", 10_000, "usd"),
                                          today=ON)
    with db.read() as s:
        card = s.scalars(select(Payment).where(Payment.invoice_id == iid,
                                               Payment.method == "card")).all()
        inv = s.get(Invoice, iid)
    assert len(card) == 1  # the first sighting pays in full; a second session cannot
    assert len({p.stripe_session_id for p in card}) == len(card)
    assert inv.balance_cents == 0 and inv.paid_cents == 10_000
