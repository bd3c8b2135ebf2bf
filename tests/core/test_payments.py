"""Payments, refunds and client credit on both backends: balances to the cent, refusals that
write nothing, invariants under random sequences, and two writers paying at once."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core import clients, credit_notes, invoices, payments
from core.clients import ClientData
from core.errors import DomainError, NotFound, TransitionError, ValidationError
from core.lines import LineData
from core.models import AuditEvent, ClientCredit, CreditNote, Invoice, Payment, Refund

ON = dt.date(2026, 3, 2)


def _client(db, name: str = "Acme Lawn Care") -> int:
    return clients.create_client(db, ClientData(name=name))


def _issued(db, cid: int, price: int = 10000) -> int:
    iid = invoices.create_blank(db, cid, [LineData("Lawn mowing", Decimal(1), price)])
    invoices.issue(db, iid, ON)
    return iid


def _inv(db, iid: int) -> Invoice:
    return invoices.get(db, iid)


def _credit(db, cid: int) -> int:
    with db.read() as s:
        return payments.available_credit_cents(s, cid)


def _owed(db, cid: int) -> int:
    with db.read() as s:
        return payments.client_balance_cents(s, cid)


def _everything(db) -> dict:
    """Every money row and every invoice's figures: a refusal must leave all of it alone."""
    with db.read() as s:
        return {
            "invoices": s.execute(select(Invoice.id, Invoice.status, Invoice.paid_cents,
                                         Invoice.credited_cents, Invoice.balance_cents,
                                         Invoice.version, Invoice.paid_at)
                                  .order_by(Invoice.id)).all(),
            "payments": s.execute(select(Payment.id, Payment.amount_cents, Payment.refunded_cents)
                                  .order_by(Payment.id)).all(),
            "counts": [s.scalar(select(func.count()).select_from(m))
                       for m in (Refund, ClientCredit, CreditNote, AuditEvent)],
        }


def _actions(db) -> list[str]:
    with db.read() as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# --------------------------------------------------------------------------- payments


def test_a_partial_then_a_final_payment_pays_the_invoice(db):
    cid = _client(db)
    iid = _issued(db, cid, 25000)
    p1 = payments.record_payment(db, iid, 10000, "check", ON, reference="Check #1001")
    inv = _inv(db, iid)
    assert (inv.status, inv.paid_cents, inv.balance_cents, inv.paid_at) == (
        "partially_paid", 10000, 15000, None)
    assert _owed(db, cid) == 15000
    payments.record_payment(db, iid, 15000, "bank", "2026-03-09")
    inv = _inv(db, iid)
    assert (inv.status, inv.paid_cents, inv.balance_cents) == ("paid", 25000, 0)
    assert inv.paid_at is not None
    assert _owed(db, cid) == 0
    with db.read() as s:
        first = s.get(Payment, p1)
        assert (first.method, first.reference, first.received_on, first.client_id) == (
            "check", "Check #1001", ON, cid)
    assert _actions(db)[-2:] == ["payment.record", "payment.record"]


def test_paying_more_than_the_balance_is_refused_and_writes_nothing(db):
    cid = _client(db)
    iid = _issued(db, cid, 10000)
    payments.record_payment(db, iid, 4000, "cash", ON)
    before = _everything(db)
    with pytest.raises(ValidationError) as err:
        payments.record_payment(db, iid, 6001, "cash", ON)
    assert err.value.field == "amount"
    assert "$60.01 is more than the $60.00 still owed on INV-0001" in str(err.value)
    assert _everything(db) == before


def test_an_overpayment_recorded_as_credit_pays_in_full_and_credits_the_excess(db):
    cid = _client(db)
    iid = _issued(db, cid, 10000)
    pid = payments.record_payment(db, iid, 12500, "card", ON, overpayment="credit")
    inv = _inv(db, iid)
    assert (inv.status, inv.paid_cents, inv.balance_cents) == ("paid", 10000, 0)
    with db.read() as s:
        assert s.get(Payment, pid).amount_cents == 10000
        ledger = s.execute(select(ClientCredit.amount_cents, ClientCredit.payment_id,
                                  ClientCredit.invoice_id, ClientCredit.client_id)).all()
    assert ledger == [(2500, pid, iid, cid)]
    assert _credit(db, cid) == 2500
    assert _owed(db, cid) == -2500  # the business owes the client


def test_an_exact_payment_with_credit_allowed_creates_no_credit(db):
    cid = _client(db)
    iid = _issued(db, cid, 10000)
    payments.record_payment(db, iid, 10000, "cash", ON, overpayment="credit")
    assert _credit(db, cid) == 0 and _inv(db, iid).status == "paid"


BAD_PAYMENTS = [
    ({"amount_cents": 0}, "amount"),
    ({"amount_cents": -500}, "amount"),
    ({"amount_cents": True}, "amount"),
    ({"amount_cents": "100"}, "amount"),
    ({"amount_cents": Decimal("1.5")}, "amount"),
    ({"amount_cents": 10**13}, "amount"),
    ({"method": "bitcoin"}, "method"),
    ({"method": "credit"}, "method"),  # credit is applied with apply_credit
    ({"overpayment": "maybe"}, "overpayment"),
    ({"received_on": "yesterday"}, "received on"),
    ({"reference": "x" * 201}, "reference"),
]


def test_bad_payment_input_names_the_field_and_writes_nothing(db):
    iid = _issued(db, _client(db))
    before = _everything(db)
    for kwargs, field in BAD_PAYMENTS:
        args = {"amount_cents": 1000, "method": "cash", "received_on": ON, **kwargs}
        with pytest.raises(ValidationError) as err:
            payments.record_payment(db, iid, **args)
        assert err.value.field == field, kwargs
    assert _everything(db) == before


def test_a_payment_on_a_missing_invoice_is_refused(db):
    with pytest.raises(NotFound):
        payments.record_payment(db, 999, 100, "cash", ON)


def test_a_stripe_session_is_recorded_once(db):
    iid = _issued(db, _client(db))
    first = payments.record_payment(db, iid, 4000, "stripe", ON, stripe_session_id="cs_test_1",
                                    stripe_payment_intent="pi_1")
    again = payments.record_payment(db, iid, 4000, "stripe", ON, stripe_session_id="cs_test_1")
    assert again == first
    assert (_inv(db, iid).paid_cents, _inv(db, iid).balance_cents) == (4000, 6000)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 1


# --------------------------------------------------------------------------- refunds


def test_a_refund_reopens_the_invoice_and_records_the_refund(db):
    cid = _client(db)
    iid = _issued(db, cid, 10000)
    pid = payments.record_payment(db, iid, 10000, "card", ON)
    rid = payments.refund(db, pid, 3000, "Missed the back lawn", "2026-03-05")
    inv = _inv(db, iid)
    assert (inv.status, inv.paid_cents, inv.balance_cents, inv.paid_at) == (
        "partially_paid", 7000, 3000, None)
    with db.read() as s:
        assert s.get(Payment, pid).refunded_cents == 3000
        r = s.get(Refund, rid)
        assert (r.amount_cents, r.reason, r.refunded_on, r.invoice_id) == (
            3000, "Missed the back lawn", dt.date(2026, 3, 5), iid)
    payments.refund(db, pid, 7000, "Cancelled", "2026-03-06")
    inv = _inv(db, iid)
    assert (inv.status, inv.paid_cents, inv.balance_cents) == ("issued", 0, 10000)
    assert _owed(db, cid) == 10000
    assert _actions(db)[-2:] == ["payment.refund", "payment.refund"]


BAD_REFUNDS = [
    (6001, ON, "amount", "more than the $60.00 of this payment that has not been refunded"),
    (0, ON, "amount", "more than zero"),
    (100, "2026-03-01", "refunded on", "before the payment was received"),
    (100, "03/05/2026", "refunded on", "is not a date"),
]


def test_bad_refunds_are_refused_and_write_nothing(db):
    iid = _issued(db, _client(db))
    pid = payments.record_payment(db, iid, 6000, "cash", ON)
    before = _everything(db)
    for amount, refunded_on, field, message in BAD_REFUNDS:
        with pytest.raises(ValidationError) as err:
            payments.refund(db, pid, amount, "x", refunded_on)
        assert err.value.field == field and message in str(err.value), (amount, refunded_on)
    assert _everything(db) == before


def test_a_fully_refunded_payment_cannot_be_refunded_again(db):
    iid = _issued(db, _client(db))
    pid = payments.record_payment(db, iid, 6000, "cash", ON)
    payments.refund(db, pid, 6000, "Returned", ON)
    before = _everything(db)
    with pytest.raises(TransitionError) as err:
        payments.refund(db, pid, 1, "again", ON)
    assert "already been refunded in full" in str(err.value)
    assert _everything(db) == before
    with pytest.raises(NotFound):
        payments.refund(db, 999, 1, "none", ON)


def test_refunding_an_overpayment_gives_back_only_what_was_applied(db):
    cid = _client(db)
    iid = _issued(db, cid, 10000)
    pid = payments.record_payment(db, iid, 15000, "bank", ON, overpayment="credit")
    with pytest.raises(ValidationError):
        payments.refund(db, pid, 10001, "too much", ON)
    payments.refund(db, pid, 10000, "all of it", ON)
    assert (_inv(db, iid).status, _inv(db, iid).balance_cents) == ("issued", 10000)
    assert _credit(db, cid) == 5000  # the excess stays the client's credit


# --------------------------------------------------------------------------- client credit


def test_credit_from_an_overpayment_pays_the_next_invoice(db):
    cid = _client(db)
    first, second = _issued(db, cid, 10000), _issued(db, cid, 8000)
    payments.record_payment(db, first, 13000, "cash", ON, overpayment="credit")
    assert _owed(db, cid) == 8000 - 3000
    pid = payments.apply_credit(db, second, 2000, applied_on=ON)
    inv = _inv(db, second)
    assert (inv.status, inv.paid_cents, inv.balance_cents) == ("partially_paid", 2000, 6000)
    assert _credit(db, cid) == 1000
    with db.read() as s:
        p = s.get(Payment, pid)
        assert (p.method, p.amount_cents) == ("credit", 2000)
        assert s.scalar(select(ClientCredit.amount_cents)
                        .where(ClientCredit.payment_id == pid)) == -2000
    payments.apply_credit(db, second)  # the rest of the credit
    assert (_inv(db, second).balance_cents, _credit(db, cid)) == (5000, 0)
    assert _owed(db, cid) == 5000
    assert "credit.apply" in _actions(db)


def test_applying_credit_never_takes_more_than_is_owed(db):
    cid = _client(db)
    first, second = _issued(db, cid, 10000), _issued(db, cid, 1500)
    payments.record_payment(db, first, 15000, "cash", ON, overpayment="credit")
    payments.apply_credit(db, second)
    assert (_inv(db, second).status, _inv(db, second).balance_cents) == ("paid", 0)
    assert _credit(db, cid) == 3500


BAD_CREDIT_USES = [
    (3001, ValidationError, "available credit of $30.00"),
    (0, ValidationError, "more than zero"),
]


def test_bad_credit_applications_are_refused(db):
    cid = _client(db)
    first, second = _issued(db, cid, 10000), _issued(db, cid, 8000)
    payments.record_payment(db, first, 13000, "cash", ON, overpayment="credit")
    before = _everything(db)
    for amount, error, message in BAD_CREDIT_USES:
        with pytest.raises(error) as err:
            payments.apply_credit(db, second, amount)
        assert message in str(err.value), amount
    assert _everything(db) == before


def test_credit_cannot_exceed_the_balance_or_come_from_nowhere(db):
    cid = _client(db)
    small = _issued(db, cid, 1000)
    with pytest.raises(TransitionError) as err:
        payments.apply_credit(db, small)
    assert "no credit to apply" in str(err.value)
    big = _issued(db, cid, 10000)
    payments.record_payment(db, big, 15000, "cash", ON, overpayment="credit")
    before = _everything(db)
    with pytest.raises(ValidationError) as err2:
        payments.apply_credit(db, small, 1001)
    assert "still owed" in str(err2.value)
    assert _everything(db) == before


def test_credit_belongs_to_its_client(db):
    a, b = _client(db, "Ann"), _client(db, "Bob")
    payments.record_payment(db, _issued(db, a), 11000, "cash", ON, overpayment="credit")
    bobs = _issued(db, b)
    with pytest.raises(TransitionError):
        payments.apply_credit(db, bobs)
    assert (_credit(db, a), _credit(db, b)) == (1000, 0)


def test_refunding_a_credit_payment_returns_the_credit(db):
    cid = _client(db)
    first, second = _issued(db, cid, 10000), _issued(db, cid, 8000)
    payments.record_payment(db, first, 13000, "cash", ON, overpayment="credit")
    pid = payments.apply_credit(db, second, applied_on=ON)
    assert _credit(db, cid) == 0
    payments.refund(db, pid, 1000, "Applied to the wrong invoice", ON)
    assert _credit(db, cid) == 1000
    assert (_inv(db, second).paid_cents, _inv(db, second).balance_cents) == (2000, 6000)


def test_client_balance_counts_open_invoices_only(db):
    cid = _client(db)
    _issued(db, cid, 10000)
    invoices.create_blank(db, cid, [LineData("Draft work", 1, 99999)])  # drafts owe nothing
    voided = _issued(db, cid, 5000)
    credit_notes.void(db, voided, "Duplicate", issued_on=ON)
    paid = _issued(db, cid, 7000)
    payments.record_payment(db, paid, 7000, "cash", ON)
    assert _owed(db, cid) == 10000


# --------------------------------------------------------------------------- invariants


def _check_invariants(db, cid: int) -> None:
    with db.read() as s:
        for inv in s.scalars(select(Invoice).where(Invoice.client_id == cid)):
            paid = s.scalar(select(func.coalesce(func.sum(Payment.amount_cents
                                                          - Payment.refunded_cents), 0))
                            .where(Payment.invoice_id == inv.id))
            credited = s.scalar(select(func.coalesce(func.sum(CreditNote.amount_cents), 0))
                                .where(CreditNote.invoice_id == inv.id))
            assert (inv.paid_cents, inv.credited_cents) == (paid, credited)
            assert inv.balance_cents >= 0
            if inv.status == "void":
                assert inv.balance_cents == 0 and paid == 0
                continue
            assert inv.balance_cents == inv.total_cents - paid - credited
            expected = ("paid" if inv.balance_cents == 0 else
                        "partially_paid" if paid > 0 else "issued")
            assert inv.status == expected
            assert (inv.paid_at is not None) == (inv.status == "paid")
        for p in s.scalars(select(Payment).where(Payment.client_id == cid)):
            refunds = s.scalar(select(func.coalesce(func.sum(Refund.amount_cents), 0))
                               .where(Refund.payment_id == p.id))
            assert 0 <= p.refunded_cents == refunds <= p.amount_cents
        assert payments.available_credit_cents(s, cid) >= 0


operation = st.one_of(
    st.tuples(st.just("pay"), st.integers(0, 1), st.integers(1, 15000), st.booleans()),
    st.tuples(st.just("refund"), st.integers(0, 5), st.integers(1, 9000), st.just(False)),
    st.tuples(st.just("credit_note"), st.integers(0, 1), st.integers(1, 9000), st.just(False)),
    st.tuples(st.just("apply_credit"), st.integers(0, 1), st.integers(1, 9000), st.booleans()),
    st.tuples(st.just("void"), st.integers(0, 1), st.just(0), st.just(False)),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=10))
def test_random_sequences_keep_every_balance_consistent_and_never_negative(db, ops):
    cid = _client(db, "Random")
    targets = [_issued(db, cid, 10000), _issued(db, cid, 4321)]
    for kind, which, amount, flag in ops:
        try:
            if kind == "pay":
                payments.record_payment(db, targets[which], amount, "cash", ON,
                                        overpayment="credit" if flag else "refuse")
            elif kind == "refund":
                with db.read() as s:
                    ids = s.scalars(select(Payment.id).where(Payment.client_id == cid)
                                    .order_by(Payment.id)).all()
                if ids:
                    payments.refund(db, ids[which % len(ids)], amount, "test", ON)
            elif kind == "credit_note":
                credit_notes.issue_credit_note(db, targets[which], amount, "test", issued_on=ON)
            elif kind == "apply_credit":
                payments.apply_credit(db, targets[which], None if flag else amount, applied_on=ON)
            else:
                credit_notes.void(db, targets[which], "test", issued_on=ON)
        except DomainError:
            pass  # a refusal is fine; what matters is that the books still add up
        _check_invariants(db, cid)


# --------------------------------------------------------------------------- two writers


def test_two_writers_paying_the_same_balance_cannot_overpay(db):
    """Both clerks record the full balance at the same moment: exactly one succeeds."""
    iid = _issued(db, _client(db), 10000)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def clerk() -> None:
        barrier.wait()
        try:
            payments.record_payment(db, iid, 10000, "cash", ON)
            outcomes.append("paid")
        except DomainError as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=clerk) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["TransitionError", "paid"]  # the second sees it paid
    inv = _inv(db, iid)
    assert (inv.status, inv.paid_cents, inv.balance_cents) == ("paid", 10000, 0)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 1


def test_two_writers_spending_the_same_credit_cannot_overspend(db):
    cid = _client(db)
    source = _issued(db, cid, 1000)
    payments.record_payment(db, source, 6000, "cash", ON, overpayment="credit")  # $50 credit
    targets = [_issued(db, cid, 5000), _issued(db, cid, 5000)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def spend(iid: int) -> None:
        barrier.wait()
        try:
            payments.apply_credit(db, iid, 5000, applied_on=ON)
            outcomes.append("applied")
        except DomainError as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=spend, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["TransitionError", "applied"]  # no credit left for the second
    assert _credit(db, cid) == 0
    assert sorted(_inv(db, t).balance_cents for t in targets) == [0, 5000]


def test_every_money_use_case_writes_its_audit_event(db):
    cid = _client(db)
    a, b = _issued(db, cid, 10000), _issued(db, cid, 5000)
    pid = payments.record_payment(db, a, 12000, "cash", ON, overpayment="credit")
    payments.apply_credit(db, b, applied_on=ON)
    payments.refund(db, pid, 500, "Goodwill", ON)
    credit_notes.issue_credit_note(db, a, 200, "Late arrival", issued_on=ON)
    with db.read() as s:
        events = s.execute(select(AuditEvent.action, AuditEvent.client_id, AuditEvent.summary)
                           .where(AuditEvent.entity_type != "client")
                           .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == [
        "invoice.create", "invoice.issue", "invoice.create", "invoice.issue",
        "payment.record", "credit.apply", "payment.refund", "credit_note.issue"]
    assert {e.client_id for e in events} == {cid}
    assert "($20.00 kept as client credit)" in events[4].summary
    assert "Refunded $5.00 of a cash payment on INV-0001 to the client: Goodwill" == events[6].summary
