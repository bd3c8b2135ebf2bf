"""Payments, refunds and client credit: the money that moves an invoice's balance.

Every use case locks the invoice (PostgreSQL ``FOR UPDATE``; SQLite's write transaction holds
the database lock), writes its rows, and lets :func:`core.invoices.recompute_balance` derive
paid/balance/status from them. Decisions where the brief is silent:

* ``Payment.amount_cents`` is what was applied to the invoice. An overpayment recorded as
  credit applies the balance and puts the excess on the client's credit ledger, linked to the
  payment; a refund of that payment covers the applied part only (the excess is credit).
* Refunding a payment made from client credit (method ``credit``) gives the credit back to
  the ledger instead of paying out money.
* ``apply_credit`` without an amount applies as much as the credit and the balance allow.
* A payment with a ``stripe_session_id`` already recorded is not recorded twice: the call
  returns the existing payment's id (Stripe status is polled, so it may be seen again).
* Lock order is invoice, then client (for the credit ledger), so two writers cannot deadlock.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit, money, validate
from core.db import Database
from core.errors import NotFound, TransitionError, ValidationError
from core.invoices import OPEN_STATUSES, fmt, label, lock_invoice, recompute_balance, snapshot
from core.models import Client, ClientCredit, Invoice, Payment, Refund

METHODS = ("cash", "check", "bank", "card", "stripe")
OVERPAYMENT_CHOICES = ("refuse", "credit")


def check_amount(value: object, field: str = "amount") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, "must be a whole number of cents")
    if value <= 0:
        raise ValidationError(field, "must be more than zero")
    if value >= money.MAX_CENTS:
        raise ValidationError(field, "is too large")
    return value


def _require_open(invoice: Invoice, action: str) -> None:
    if invoice.status == "draft":
        raise TransitionError(f"This invoice is still a draft; issue it before {action}.")
    if invoice.status == "void":
        raise TransitionError(f"{label(invoice)} is void; it accepts no payments.")
    if invoice.status == "paid":
        raise TransitionError(f"{label(invoice)} is already paid; nothing more is owed on it.")


def available_credit_cents(s: Session, client_id: int) -> int:
    """The client's unused credit: the sum of their credit ledger."""
    return int(s.scalar(select(func.coalesce(func.sum(ClientCredit.amount_cents), 0))
                        .where(ClientCredit.client_id == client_id)) or 0)


def client_balance_cents(s: Session, client_id: int) -> int:
    """What the client owes: open invoice balances minus their available credit."""
    owed = int(s.scalar(select(func.coalesce(func.sum(Invoice.balance_cents), 0))
                        .where(Invoice.client_id == client_id,
                               Invoice.status.in_(OPEN_STATUSES))) or 0)
    return owed - available_credit_cents(s, client_id)


def record_payment(
    db: Database,
    invoice_id: int,
    amount_cents: int,
    method: str,
    received_on: dt.date | str | None = None,
    reference: str = "",
    overpayment: str = "refuse",
    *,
    stripe_session_id: str | None = None,
    stripe_payment_intent: str | None = None,
    actor: str = "owner",
) -> int:
    """Record money received on an issued invoice; returns the payment id.

    More than the balance is refused unless ``overpayment="credit"``: then the invoice is paid
    in full and the excess becomes client credit.
    """
    amount = check_amount(amount_cents)
    validate.choice(method, "method", METHODS)
    validate.choice(overpayment, "overpayment", OVERPAYMENT_CHOICES)
    on = validate.parse_date(received_on, "received on") or dt.date.today()
    ref = validate.optional_line(reference, "reference", 200)
    session_id = validate.optional_line(stripe_session_id, "Stripe session", 200) or None
    intent = validate.optional_line(stripe_payment_intent, "Stripe payment intent", 200) or None
    with db.write() as s:
        invoice = lock_invoice(s, invoice_id)
        if session_id is not None:
            existing = s.scalar(select(Payment.id).where(Payment.stripe_session_id == session_id))
            if existing is not None:
                return int(existing)
        _require_open(invoice, "recording a payment")
        balance = invoice.balance_cents
        excess = 0
        if amount > balance:
            if overpayment == "refuse":
                raise ValidationError(
                    "amount",
                    f"{fmt(invoice, amount)} is more than the {fmt(invoice, balance)} still owed on "
                    f"{label(invoice)}; enter at most {fmt(invoice, balance)}, or record the excess "
                    "as client credit")
            excess = amount - balance
        payment = Payment(invoice_id=invoice.id, client_id=invoice.client_id,
                          amount_cents=amount - excess, refunded_cents=0, method=method,
                          received_on=on, reference=ref, stripe_session_id=session_id,
                          stripe_payment_intent=intent)
        s.add(payment)
        s.flush()
        if excess:
            s.add(ClientCredit(client_id=invoice.client_id, amount_cents=excess,
                               payment_id=payment.id, invoice_id=invoice.id,
                               note=f"Overpayment on {label(invoice)}"))
        before = snapshot(invoice)
        recompute_balance(s, invoice)
        summary = f"Recorded a {method} payment of {fmt(invoice, amount)} on {label(invoice)}"
        if excess:
            summary += f" ({fmt(invoice, excess)} kept as client credit)"
        audit.record(s, actor, "payment.record", "payment", payment.id, summary,
                     client_id=invoice.client_id, before=before,
                     after={**snapshot(invoice), "applied_cents": payment.amount_cents,
                            "credit_cents": excess, "method": method,
                            "received_on": on.isoformat()})
        return payment.id


def apply_credit(db: Database, invoice_id: int, amount_cents: int | None = None, *,
                 applied_on: dt.date | str | None = None, actor: str = "owner") -> int:
    """Pay an open invoice from the client's credit; returns the (method "credit") payment id."""
    if amount_cents is not None:
        check_amount(amount_cents)
    on = validate.parse_date(applied_on, "applied on") or dt.date.today()
    with db.write() as s:
        invoice = lock_invoice(s, invoice_id)
        _require_open(invoice, "applying credit")
        s.get(Client, invoice.client_id, with_for_update=True)  # one spender of the credit at a time
        available = available_credit_cents(s, invoice.client_id)
        if available <= 0:
            raise TransitionError("This client has no credit to apply.")
        amount = amount_cents if amount_cents is not None else min(available, invoice.balance_cents)
        if amount > available:
            raise ValidationError(
                "amount", f"is more than the client's available credit of {fmt(invoice, available)}")
        if amount > invoice.balance_cents:
            raise ValidationError(
                "amount", f"is more than the {fmt(invoice, invoice.balance_cents)} still owed on "
                f"{label(invoice)}")
        payment = Payment(invoice_id=invoice.id, client_id=invoice.client_id, amount_cents=amount,
                          refunded_cents=0, method="credit", received_on=on,
                          reference="Client credit")
        s.add(payment)
        s.flush()
        s.add(ClientCredit(client_id=invoice.client_id, amount_cents=-amount, payment_id=payment.id,
                           invoice_id=invoice.id, note=f"Applied to {label(invoice)}"))
        before = snapshot(invoice)
        recompute_balance(s, invoice)
        audit.record(s, actor, "credit.apply", "payment", payment.id,
                     f"Applied {fmt(invoice, amount)} of client credit to {label(invoice)}",
                     client_id=invoice.client_id, before=before,
                     after={**snapshot(invoice), "credit_left_cents": available - amount})
        return payment.id


def refund(db: Database, payment_id: int, amount_cents: int, reason: str = "",
           refunded_on: dt.date | str | None = None, *, actor: str = "owner") -> int:
    """Give back part or all of a payment; the invoice's balance goes back up. Returns the
    refund id."""
    amount = check_amount(amount_cents)
    why = validate.note(reason, "reason", 2000).strip()
    on = validate.parse_date(refunded_on, "refunded on") or dt.date.today()
    with db.write() as s:
        invoice_id = s.scalar(select(Payment.invoice_id).where(Payment.id == payment_id))
        if invoice_id is None:
            raise NotFound("Payment", payment_id)
        invoice = lock_invoice(s, invoice_id)
        payment = s.get(Payment, payment_id, with_for_update=True)
        assert payment is not None
        refundable = payment.amount_cents - payment.refunded_cents
        if refundable <= 0:
            raise TransitionError("This payment has already been refunded in full.")
        if amount > refundable:
            raise ValidationError(
                "amount", f"is more than the {fmt(invoice, refundable)} of this payment that has "
                "not been refunded yet")
        if on < payment.received_on:
            raise ValidationError(
                "refunded on", f"is before the payment was received ({payment.received_on.isoformat()})")
        payment.refunded_cents += amount
        row = Refund(payment_id=payment.id, invoice_id=invoice.id, amount_cents=amount, reason=why,
                     refunded_on=on)
        s.add(row)
        if payment.method == "credit":
            s.add(ClientCredit(client_id=invoice.client_id, amount_cents=amount,
                               payment_id=payment.id, invoice_id=invoice.id,
                               note=f"Credit returned from {label(invoice)}"))
        before = snapshot(invoice)
        recompute_balance(s, invoice)
        s.flush()
        to = "client credit" if payment.method == "credit" else "the client"
        audit.record(s, actor, "payment.refund", "refund", row.id,
                     f"Refunded {fmt(invoice, amount)} of a {payment.method} payment on "
                     f"{label(invoice)} to {to}" + (f": {why}" if why else ""),
                     client_id=invoice.client_id, before=before,
                     after={**snapshot(invoice), "payment_id": payment.id,
                            "payment_refunded_cents": payment.refunded_cents})
        return row.id
