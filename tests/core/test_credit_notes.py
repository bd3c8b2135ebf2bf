"""Credit notes and voiding on both backends: what a credit note may reduce, gapless CN
numbers, voiding only through a credit note and only when no net payment remains."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import business, clients, credit_notes, invoices, payments
from core.clients import ClientData
from core.errors import NotFound, StaleRecord, TransitionError, ValidationError
from core.lines import LineData
from core.models import AuditEvent, CreditNote, Invoice, NumberSequence, Payment

ON = dt.date(2026, 3, 2)


def _client(db) -> int:
    return clients.create_client(db, ClientData(name="Acme Lawn Care"))


def _issued(db, cid: int | None = None, price: int = 10000) -> int:
    iid = invoices.create_blank(db, cid or _client(db), [LineData("Lawn mowing", Decimal(1), price)])
    invoices.issue(db, iid, ON)
    return iid


def _inv(db, iid: int) -> Invoice:
    return invoices.get(db, iid)


def _notes(db) -> list[tuple]:
    with db.read() as s:
        return s.execute(select(CreditNote.number, CreditNote.invoice_id, CreditNote.amount_cents,
                                CreditNote.voids_invoice, CreditNote.reason, CreditNote.issued_on)
                         .order_by(CreditNote.id)).all()


def _everything(db) -> dict:
    with db.read() as s:
        return {
            "invoices": s.execute(select(Invoice.id, Invoice.status, Invoice.paid_cents,
                                         Invoice.credited_cents, Invoice.balance_cents,
                                         Invoice.version).order_by(Invoice.id)).all(),
            "notes": s.execute(select(CreditNote.id, CreditNote.number)).all(),
            "seqs": sorted(s.execute(select(NumberSequence.doc_type, NumberSequence.next_value))
                           .all()),
            "audit": s.scalar(select(func.count()).select_from(AuditEvent)),
        }


def test_a_credit_note_reduces_the_balance_and_takes_the_next_cn_number(db):
    cid = _client(db)
    iid = _issued(db, cid)
    nid = credit_notes.issue_credit_note(db, iid, 2500, "Hedge not trimmed", issued_on=ON)
    inv = _inv(db, iid)
    assert (inv.status, inv.credited_cents, inv.balance_cents, inv.total_cents) == (
        "issued", 2500, 7500, 10000)  # the document itself never changes
    assert _notes(db) == [("CN-0001", iid, 2500, False, "Hedge not trimmed", ON)]
    with db.read() as s:
        assert s.get(CreditNote, nid).client_id == cid
        assert payments.client_balance_cents(s, cid) == 7500
    credit_notes.issue_credit_note(db, iid, 500, "Late", issued_on=ON)
    assert [n[0] for n in _notes(db)] == ["CN-0001", "CN-0002"]
    assert _inv(db, iid).balance_cents == 7000


def test_crediting_the_rest_of_a_partly_paid_invoice_leaves_it_paid(db):
    iid = _issued(db)
    payments.record_payment(db, iid, 6000, "cash", ON)
    credit_notes.issue_credit_note(db, iid, 4000, "Agreed discount", issued_on=ON)
    inv = _inv(db, iid)
    assert (inv.status, inv.paid_cents, inv.credited_cents, inv.balance_cents) == (
        "paid", 6000, 4000, 0)
    assert inv.paid_at is not None
    assert _notes(db)[0][3] is False  # not a void: the client paid for what they got


def test_crediting_everything_owed_when_nothing_was_paid_voids_the_invoice(db):
    iid = _issued(db)
    credit_notes.issue_credit_note(db, iid, 3000, "Part", issued_on=ON)
    credit_notes.issue_credit_note(db, iid, 7000, "The rest", issued_on=ON)
    inv = _inv(db, iid)
    assert (inv.status, inv.balance_cents, inv.credited_cents) == ("void", 0, 10000)
    assert [n[3] for n in _notes(db)] == [False, True]


BAD_NOTES = [
    (10001, "Too much", "amount", "more than the $100.00 still owed on INV-0001"),
    (0, "Nothing", "amount", "more than zero"),
    (-100, "Negative", "amount", "more than zero"),
    (100, "   ", "reason", "is required"),
    ("100", "Text amount", "amount", "whole number of cents"),
]


def test_bad_credit_notes_are_refused_and_take_no_number(db):
    iid = _issued(db)
    before = _everything(db)
    for amount, reason, field, message in BAD_NOTES:
        with pytest.raises(ValidationError) as err:
            credit_notes.issue_credit_note(db, iid, amount, reason, issued_on=ON)
        assert err.value.field == field and message in str(err.value), (amount, reason)
    assert _everything(db) == before
    credit_notes.issue_credit_note(db, iid, 100, "Fine", issued_on=ON)
    assert [n[0] for n in _notes(db)] == ["CN-0001"]


def test_a_credit_note_cannot_reach_money_already_paid(db):
    iid = _issued(db)
    pid = payments.record_payment(db, iid, 7000, "cash", ON)
    before = _everything(db)
    with pytest.raises(ValidationError) as err:
        credit_notes.issue_credit_note(db, iid, 3001, "Too much", issued_on=ON)
    assert "refund payments first" in str(err.value)
    assert _everything(db) == before
    payments.refund(db, pid, 1000, "Back to the client", ON)
    credit_notes.issue_credit_note(db, iid, 4000, "Now possible", issued_on=ON)
    assert (_inv(db, iid).status, _inv(db, iid).balance_cents) == ("paid", 0)


def test_a_missing_invoice_is_reported(db):
    with pytest.raises(NotFound):
        credit_notes.issue_credit_note(db, 404, 100, "x", issued_on=ON)
    with pytest.raises(NotFound):
        credit_notes.void(db, 404, "x", issued_on=ON)


def test_credit_notes_follow_their_own_numbering_pattern(db):
    business.update(db, "numbering", {"credit_note": "CR{year}-{seq:03}"})
    iid = _issued(db)
    credit_notes.issue_credit_note(db, iid, 100, "One", issued_on=dt.date(2026, 5, 1))
    assert _notes(db)[0][0] == "CR2026-001"
    assert _inv(db, iid).number == "INV-0001"  # the invoice sequence is separate


# --------------------------------------------------------------------------- void


def test_void_credits_the_whole_open_balance_and_audits(db):
    iid = _issued(db)
    credit_notes.issue_credit_note(db, iid, 1500, "Part", issued_on=ON)
    nid = credit_notes.void(db, iid, "Client cancelled", issued_on=ON)
    inv = _inv(db, iid)
    assert (inv.status, inv.balance_cents, inv.credited_cents, inv.number) == (
        "void", 0, 10000, "INV-0001")
    with db.read() as s:
        note = s.get(CreditNote, nid)
        assert (note.number, note.amount_cents, note.voids_invoice) == ("CN-0002", 8500, True)
        actions = s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["credit_note.issue", "invoice.void"]


def test_void_is_refused_while_payments_remain_and_allowed_after_refunds(db):
    iid = _issued(db)
    pid = payments.record_payment(db, iid, 2500, "card", ON)
    before = _everything(db)
    with pytest.raises(TransitionError) as err:
        credit_notes.void(db, iid, "Wrong invoice", issued_on=ON)
    assert "INV-0001 has $25.00 in payments; refund the payments first" in str(err.value)
    assert _everything(db) == before
    payments.refund(db, pid, 2500, "Void", ON)
    credit_notes.void(db, iid, "Wrong invoice", issued_on=ON)
    inv = _inv(db, iid)
    assert (inv.status, inv.paid_cents, inv.balance_cents, inv.credited_cents) == (
        "void", 0, 0, 10000)
    with db.read() as s:  # the payment and its refund stay on record
        assert s.get(Payment, pid).refunded_cents == 2500


def test_a_void_invoice_takes_nothing_more(db):
    iid = _issued(db)
    credit_notes.void(db, iid, "Duplicate", issued_on=ON)
    before = _everything(db)
    for attempt in (
        lambda: credit_notes.void(db, iid, "again", issued_on=ON),
        lambda: credit_notes.issue_credit_note(db, iid, 1, "more", issued_on=ON),
        lambda: payments.record_payment(db, iid, 1, "cash", ON),
        lambda: invoices.edit_draft(db, iid, invoices.InvoiceData()),
    ):
        with pytest.raises(TransitionError):
            attempt()
    assert _everything(db) == before


def test_a_draft_is_deleted_not_voided(db):
    iid = invoices.create_blank(db, _client(db), [LineData("Draft", 1, 100)])
    before = _everything(db)
    with pytest.raises(TransitionError) as err:
        credit_notes.void(db, iid, "No", issued_on=ON)
    assert str(err.value) == "A draft invoice is deleted, not voided."
    assert _everything(db) == before


def test_void_needs_a_reason_and_the_current_version(db):
    iid = _issued(db)
    with pytest.raises(ValidationError) as err:
        credit_notes.void(db, iid, "", issued_on=ON)
    assert err.value.field == "reason"
    old = _inv(db, iid).version
    # someone records and refunds a payment meanwhile: voidable again, but not what was seen
    pid = payments.record_payment(db, iid, 100, "cash", ON)
    payments.refund(db, pid, 100, "undo", ON)
    before = _everything(db)
    with pytest.raises(StaleRecord):
        credit_notes.void(db, iid, "Stale", issued_on=ON, expected_version=old)
    assert _everything(db) == before
    credit_notes.void(db, iid, "Fresh", issued_on=ON, expected_version=_inv(db, iid).version)
    assert _inv(db, iid).status == "void"


def test_credit_note_numbers_stay_gapless_across_refusals(db):
    cid = _client(db)
    a, b = _issued(db, cid), _issued(db, cid)
    credit_notes.issue_credit_note(db, a, 100, "One", issued_on=ON)
    with pytest.raises(ValidationError):
        credit_notes.issue_credit_note(db, b, 999999, "Too much", issued_on=ON)
    payments.record_payment(db, b, 100, "cash", ON)
    with pytest.raises(TransitionError):
        credit_notes.void(db, b, "Paid", issued_on=ON)
    credit_notes.void(db, a, "Two", issued_on=ON)
    assert [n[0] for n in _notes(db)] == ["CN-0001", "CN-0002"]
