"""Credit notes: the only way to reduce what an issued invoice asks for, and to void it.

Decisions where the brief is silent:

* A credit note reduces what is still owed: ``0 < amount <= balance``. Money already paid is
  not credited; refund it first (then the balance is back and can be credited). So a paid
  invoice takes no credit note, and a credit note never creates client credit.
* A credit note for the whole balance of an invoice with no net payment voids the invoice
  (``voids_invoice`` is set), exactly as :func:`void` does; one for part of it, or for the
  rest of a partly paid invoice, does not (the latter leaves the invoice ``paid``).
* :func:`void` credits the whole open balance and needs no net payment on the invoice. A
  voided invoice gives its job lines/visits back to the job, so the work can be billed anew.
* A reason is required: it is what the client and the accountant read on the note.
* The number comes from the gapless ``credit_note`` sequence in the same transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from core import audit, business, numbering, validate
from core.db import Database
from core.errors import DomainError, StaleRecord, TransitionError, ValidationError
from core.invoices import fmt, label, lock_invoice, recompute_balance, release_job_claims, snapshot
from core.models import CreditNote, Invoice, Job
from core.payments import check_amount


def _reason(reason: str) -> str:
    text = validate.note(reason, "reason", 2000).strip()
    if not text:
        raise ValidationError("reason", "is required (it is printed on the credit note)")
    return text


def _refuse_unless_creditable(invoice: Invoice) -> None:
    if invoice.status == "draft":
        raise TransitionError(
            "This invoice is still a draft; edit or delete it instead of issuing a credit note.")
    if invoice.status == "void":
        raise TransitionError(f"{label(invoice)} is already void.")
    if invoice.status == "paid":
        raise TransitionError(f"{label(invoice)} is already paid; record a refund instead.")


def _issue_note(s: Session, invoice: Invoice, amount: int, reason: str, on: dt.date, *,
                voids: bool, actor: str) -> CreditNote:
    pattern = business.get(s, "numbering")["credit_note"]
    number = numbering.next_number(s, "credit_note", pattern, on)
    if s.scalar(select(exists().where(CreditNote.number == number))):
        raise DomainError(
            f"The next credit note number, {number}, is already used. Check the credit note "
            "numbering pattern in Settings; nothing was issued.")
    note = CreditNote(number=number, invoice_id=invoice.id, client_id=invoice.client_id,
                      amount_cents=amount, reason=reason, voids_invoice=voids, issued_on=on)
    s.add(note)
    before = snapshot(invoice)
    recompute_balance(s, invoice)
    released = release_job_claims(s, invoice) if invoice.status == "void" else 0
    s.flush()
    audit.record(s, actor, "credit_note.issue", "credit_note", note.id,
                 f"Issued credit note {number} for {fmt(invoice, amount)} on {label(invoice)}: "
                 f"{reason}", client_id=invoice.client_id, before=before,
                 after={**snapshot(invoice), "credit_note": number,
                        "released_from_job": released})
    if invoice.status == "void":
        audit.record(s, actor, "invoice.void", "invoice", invoice.id,
                     f"Voided {label(invoice)} with credit note {number}: {reason}",
                     client_id=invoice.client_id, before={"status": before["status"]},
                     after={"status": "void", "credit_note": number})
    return note


def _lock_for_note(s: Session, invoice_id: int) -> Invoice:
    # lock order job → invoice, as everywhere a job's claims may change
    job_id = s.scalar(select(Invoice.job_id).where(Invoice.id == invoice_id))
    if job_id is not None:
        s.get(Job, job_id, with_for_update=True)
    return lock_invoice(s, invoice_id)


def issue_credit_note(db: Database, invoice_id: int, amount_cents: int, reason: str, *,
                      issued_on: dt.date | str | None = None, actor: str = "owner") -> int:
    """Reduce an open invoice's balance by ``amount_cents``; returns the credit note id."""
    amount = check_amount(amount_cents)
    why = _reason(reason)
    on = validate.parse_date(issued_on, "issued on") or dt.date.today()
    with db.write() as s:
        invoice = _lock_for_note(s, invoice_id)
        _refuse_unless_creditable(invoice)
        if amount > invoice.balance_cents:
            raise ValidationError(
                "amount",
                f"is more than the {fmt(invoice, invoice.balance_cents)} still owed on "
                f"{label(invoice)}; a credit note only reduces what is owed (refund payments "
                "first to credit more)")
        voids = amount == invoice.balance_cents and invoice.paid_cents == 0
        return _issue_note(s, invoice, amount, why, on, voids=voids, actor=actor).id


def void(db: Database, invoice_id: int, reason: str, *, issued_on: dt.date | str | None = None,
         expected_version: int | None = None, actor: str = "owner") -> int | None:
    """Void an issued invoice with a credit note for its whole open balance; returns its id.

    An invoice that never owed anything (a job invoice a paid deposit covered in full) needs
    no credit note: it is voided as it is (None), and its job's work is free to invoice again.
    """
    why = _reason(reason)
    on = validate.parse_date(issued_on, "issued on") or dt.date.today()
    with db.write() as s:
        invoice = _lock_for_note(s, invoice_id)
        if expected_version is not None and invoice.version != expected_version:
            raise StaleRecord("invoice")
        if invoice.status == "draft":
            raise TransitionError("A draft invoice is deleted, not voided.")
        if invoice.status == "void":
            raise TransitionError(f"{label(invoice)} is already void.")
        if invoice.paid_cents > 0:
            raise TransitionError(
                f"{label(invoice)} has {fmt(invoice, invoice.paid_cents)} in payments; refund the "
                "payments first, then void it.")
        if invoice.total_cents == 0:
            before = invoice.status
            invoice.status = "void"
            recompute_balance(s, invoice)
            released = release_job_claims(s, invoice)
            audit.record(s, actor, "invoice.void", "invoice", invoice.id,
                         f"Voided {label(invoice)} (it owed nothing, so no credit note): {why}",
                         client_id=invoice.client_id, before={"status": before},
                         after={"status": "void", "released_from_job": released})
            return None
        return _issue_note(s, invoice, invoice.balance_cents, why, on, voids=True, actor=actor).id
