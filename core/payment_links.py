"""Payment links for invoices: the bookkeeping side of Stripe (``integrations.stripe_payments``
makes the calls and asks this module what to do before and after each one).

Decisions where the brief is silent:

* A link is a single-use Stripe **Payment Link** (``restrictions.completed_sessions.limit=1``)
  rather than a Checkout Session: it does not die after 24 hours (an invoice link sent by text
  may be opened days later) and needs no success page of our own (Stripe shows its hosted
  confirmation). Payment is found by listing the link's Checkout Sessions.
* The idempotency key is ``tssg-crm:invoice:{id}:attempt:{n}:{random}``, stored in the row
  before the create call and replayed until Stripe answers. The random part keeps two
  databases on one Stripe account (a restored backup, the demo database) from colliding.
* A link whose invoice balance no longer matches (a cash payment, a credit note, a refund) is
  deactivated in Stripe and a new one is made for the new balance. Sessions of a closed link
  are still checked for 24 hours (the longest a Checkout Session lives), so a customer who
  was already paying is recorded, never lost; money beyond the balance becomes client credit.
* A paid session is recorded through :func:`core.payments.record_payment` (method ``card``,
  with the session and PaymentIntent ids); the unique session id makes a second sighting
  return the first payment. Money Stripe collected for an invoice that can no longer take it
  (already paid another way, or void) marks the link ``conflict`` for a person to settle.
* Recording a payment is two short transactions (the payment, then the link's status):
  safe because the payment is keyed by the session id, so a crash in between is repaired by
  the next poll. Everything else is one transaction per use case.
"""

from __future__ import annotations

import datetime as dt
import secrets as pysecrets
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core import audit, business, money, payments
from core.db import Database
from core.errors import NotFound, TransitionError, ValidationError
from core.invoices import OPEN_STATUSES, label, lock_invoice
from core.models import Invoice, Payment, PaymentLink, utcnow

LIVE = ("creating", "open")
CLOSED_POLL_WINDOW = dt.timedelta(hours=24)  # a Checkout Session lives at most 24 hours
MAX_DESCRIPTION = 250


@dataclass(frozen=True)
class LinkRequest:
    """Everything the Stripe call sends. Replaying it with the same key must send the very
    same parameters, so they come only from the stored row."""

    link_id: int
    invoice_id: int
    invoice_number: str
    idempotency_key: str
    amount_cents: int
    currency: str
    description: str


@dataclass(frozen=True)
class LinkView:
    id: int
    invoice_id: int
    invoice_number: str
    status: str
    amount_cents: int
    currency: str
    url: str | None
    stripe_link_id: str | None
    idempotency_key: str
    last_error: str
    created_at: dt.datetime
    closed_at: dt.datetime | None

    @property
    def amount_text(self) -> str:
        return money.format_money(self.amount_cents, self.currency)


@dataclass(frozen=True)
class LinkPlan:
    """What to do to have a link for the invoice's balance: exactly one field is set.

    ``ready``: an open link already asks for the balance (no call needed). ``stale``: an open
    link asks for another amount; deactivate it first. ``request``: call Stripe with this."""

    ready: LinkView | None = None
    stale: LinkView | None = None
    request: LinkRequest | None = None


@dataclass(frozen=True)
class PaidSession:
    """A completed, paid Checkout Session as Stripe reported it."""

    session_id: str
    amount_cents: int
    currency: str
    payment_intent: str | None = None


@dataclass(frozen=True)
class PaymentOutcome:
    """What recording a paid session did: ``recorded`` (new payment), ``already`` (seen
    before), or ``conflict`` (the invoice could not take it; ``message`` says why)."""

    kind: str
    payment_id: int | None
    message: str


def new_idempotency_key(invoice_id: int, attempt: int) -> str:
    return f"tssg-crm:invoice:{invoice_id}:attempt:{attempt}:{pysecrets.token_hex(6)}"


def _view(link: PaymentLink, invoice: Invoice) -> LinkView:
    return LinkView(
        id=link.id, invoice_id=link.invoice_id, invoice_number=label(invoice),
        status=link.status, amount_cents=link.amount_cents, currency=link.currency,
        url=link.url, stripe_link_id=link.stripe_link_id, idempotency_key=link.idempotency_key,
        last_error=link.last_error, created_at=link.created_at, closed_at=link.closed_at,
    )


def _request(link: PaymentLink, invoice: Invoice) -> LinkRequest:
    return LinkRequest(
        link_id=link.id, invoice_id=link.invoice_id, invoice_number=label(invoice),
        idempotency_key=link.idempotency_key, amount_cents=link.amount_cents,
        currency=link.currency, description=link.description,
    )


def _require_collectable(invoice: Invoice) -> None:
    if invoice.status == "draft":
        raise TransitionError("This invoice is still a draft; issue it before asking for payment.")
    if invoice.status == "void":
        raise TransitionError(f"{label(invoice)} is void; there is nothing to collect.")
    if invoice.status == "paid" or invoice.balance_cents <= 0:
        raise TransitionError(f"{label(invoice)} is already paid; there is nothing to collect.")


def _description(s: Session, invoice: Invoice) -> str:
    name = business.get(s, "business")["name"]
    text = f"Invoice {label(invoice)}" + (f" from {name}" if name else "")
    return text[:MAX_DESCRIPTION]


def _load(s: Session, link_id: int, *, lock: bool = False) -> tuple[PaymentLink, Invoice]:
    link = s.get(PaymentLink, link_id, with_for_update=lock)
    if link is None:
        raise NotFound("Payment link", link_id)
    invoice = s.get(Invoice, link.invoice_id)
    assert invoice is not None  # foreign key
    return link, invoice


def _matches_balance(link: PaymentLink, invoice: Invoice) -> bool:
    return (invoice.status in OPEN_STATUSES and link.amount_cents == invoice.balance_cents
            and link.currency == invoice.currency)


# --------------------------------------------------------------------------- before a call


def plan_link(db: Database, invoice_id: int, *, actor: str = "owner") -> LinkPlan:
    """Decide the next step towards a link for the invoice's balance.

    An unfinished attempt (``creating``: the app stopped, or the network failed, before
    Stripe's answer was saved) is replayed with its stored key and parameters, even if the
    balance changed since: Stripe then hands back what it made, and the stale-link rule
    replaces it. Otherwise a new attempt is written, key included, before any call.
    """
    with db.write() as s:
        invoice = lock_invoice(s, invoice_id)
        live = list(s.scalars(select(PaymentLink).where(
            PaymentLink.invoice_id == invoice.id, PaymentLink.status.in_(LIVE))
            .order_by(PaymentLink.attempt)))
        for link in live:
            if link.status == "creating":
                return LinkPlan(request=_request(link, invoice))
        for link in live:
            if _matches_balance(link, invoice):
                return LinkPlan(ready=_view(link, invoice))
        if live:  # an open link for another amount, or for an invoice no longer owed
            return LinkPlan(stale=_view(live[0], invoice))
        _require_collectable(invoice)
        attempt = (s.scalar(select(func.max(PaymentLink.attempt))
                            .where(PaymentLink.invoice_id == invoice.id)) or 0) + 1
        link = PaymentLink(
            invoice_id=invoice.id, attempt=attempt,
            idempotency_key=new_idempotency_key(invoice.id, attempt),
            amount_cents=invoice.balance_cents, currency=invoice.currency,
            description=_description(s, invoice), status="creating", last_error="",
        )
        s.add(link)
        s.flush()
        audit.record(s, actor, "payment_link.prepare", "payment_link", link.id,
                     f"Asking Stripe for a payment link of "
                     f"{money.format_money(link.amount_cents, link.currency)} for {label(invoice)}",
                     client_id=invoice.client_id,
                     after={"attempt": attempt, "idempotency_key": link.idempotency_key,
                            "amount_cents": link.amount_cents})
        return LinkPlan(request=_request(link, invoice))


def replay_request(db: Database, link_id: int) -> LinkRequest:
    """The stored request of an unfinished attempt, to send again with the same key."""
    with db.read() as s:
        link, invoice = _load(s, link_id)
        if link.status != "creating":
            raise TransitionError(f"This payment link attempt is already {link.status}.")
        return _request(link, invoice)


# --------------------------------------------------------------------------- after a call


def link_opened(db: Database, link_id: int, stripe_link_id: str, url: str, *,
                actor: str = "owner") -> LinkView:
    """Save Stripe's answer to a create call. Saving the same answer again changes nothing."""
    stripe_id = _stripe_id(stripe_link_id, "Stripe payment link id")
    clean_url = _url(url)
    with db.write() as s:
        link, invoice = _load(s, link_id, lock=True)
        if link.stripe_link_id == stripe_id:
            return _view(link, invoice)
        if link.status != "creating":
            raise TransitionError(
                f"This payment link attempt is already {link.status}; it cannot be opened again.")
        link.stripe_link_id, link.url, link.status, link.last_error = stripe_id, clean_url, "open", ""
        s.flush()
        audit.record(s, actor, "payment_link.open", "payment_link", link.id,
                     f"Stripe made a payment link of "
                     f"{money.format_money(link.amount_cents, link.currency)} for {label(invoice)}",
                     client_id=invoice.client_id,
                     after={"stripe_link_id": stripe_id, "status": "open"})
        return _view(link, invoice)


def link_failed(db: Database, link_id: int, message: str, *, definite: bool,
                actor: str = "owner") -> LinkView:
    """Note a failed create call. ``definite``: Stripe refused it, so nothing exists there and
    the attempt is closed; otherwise (no answer) it stays ``creating`` to be replayed."""
    why = _reason(message)
    with db.write() as s:
        link, invoice = _load(s, link_id, lock=True)
        if link.status != "creating":
            return _view(link, invoice)
        link.last_error = why
        if definite:
            link.status, link.closed_at = "failed", utcnow()
        s.flush()
        audit.record(s, actor, "payment_link.fail", "payment_link", link.id,
                     f"Stripe did not make the payment link for {label(invoice)}: {why}",
                     client_id=invoice.client_id,
                     after={"status": link.status, "definite": definite})
        return _view(link, invoice)


def link_closed(db: Database, link_id: int, reason: str, *, actor: str = "owner") -> LinkView:
    """The link was deactivated in Stripe (here, or by Stripe itself): mark it expired.
    A paid, failed or conflicting link keeps its status."""
    why = _reason(reason)
    with db.write() as s:
        link, invoice = _load(s, link_id, lock=True)
        if link.status not in LIVE:
            return _view(link, invoice)
        link.status, link.closed_at = "expired", utcnow()
        s.flush()
        audit.record(s, actor, "payment_link.expire", "payment_link", link.id,
                     f"Payment link for {label(invoice)} expired: {why}",
                     client_id=invoice.client_id, before={"status": "open"},
                     after={"status": "expired"})
        return _view(link, invoice)


def record_paid_session(db: Database, link_id: int, paid: PaidSession, *,
                        today: dt.date | None = None, actor: str = "owner") -> PaymentOutcome:
    """Record a paid Checkout Session of a link: one payment, however often it is seen."""
    if paid.amount_cents <= 0:
        raise ValidationError("amount", "a paid Stripe session must have an amount")
    session_id = _stripe_id(paid.session_id, "Stripe session id")
    with db.read() as s:
        link, invoice = _load(s, link_id)
        invoice_id, currency = link.invoice_id, invoice.currency
    if paid.currency.upper() != currency:
        charged = money.format_money(paid.amount_cents, paid.currency.upper())
        return _conflict(db, link_id, f"Stripe collected {charged} ({session_id}) but the "
                         f"invoice is in {currency}; record it by hand.", actor)
    before = _payment_for_session(db, session_id)
    if before is not None and before[1] != invoice_id:
        return _conflict(db, link_id, f"Stripe session {session_id} is already recorded as a "
                         "payment on another invoice; check it in Stripe.", actor)
    try:
        # a session recorded before returns its payment here (checked before the status)
        payment_id = payments.record_payment(
            db, invoice_id, paid.amount_cents, "card", received_on=today or dt.date.today(),
            reference=f"Stripe {paid.payment_intent or session_id}"[:200], overpayment="credit",
            stripe_session_id=session_id, stripe_payment_intent=paid.payment_intent, actor=actor)
    except TransitionError as exc:
        charged = money.format_money(paid.amount_cents, currency)
        return _conflict(db, link_id, f"Stripe collected {charged} ({session_id}), but {exc} "
                         "Refund it in Stripe, or record it by hand as client credit.", actor)
    with db.write() as s:
        link, invoice = _load(s, link_id, lock=True)
        changed = False
        if link.payment_id is None:
            link.payment_id, changed = payment_id, True
        if link.status in LIVE:
            link.status, link.closed_at, changed = "paid", utcnow(), True
        if changed:
            s.flush()
            audit.record(s, actor, "payment_link.paid", "payment_link", link.id,
                         f"Payment link for {label(invoice)} was paid in Stripe",
                         client_id=invoice.client_id,
                         after={"status": link.status, "payment_id": payment_id,
                                "session_id": session_id})
    return PaymentOutcome("already" if before is not None else "recorded", payment_id, "")


def _payment_for_session(db: Database, session_id: str) -> tuple[int, int] | None:
    """(payment id, invoice id) of the payment recorded for a session, if any."""
    with db.read() as s:
        row = s.execute(select(Payment.id, Payment.invoice_id)
                        .where(Payment.stripe_session_id == session_id)).first()
        return (row[0], row[1]) if row else None


def _conflict(db: Database, link_id: int, message: str, actor: str) -> PaymentOutcome:
    with db.write() as s:
        link, invoice = _load(s, link_id, lock=True)
        if link.status != "conflict" or link.last_error != message:
            link.status, link.last_error = "conflict", message
            link.closed_at = link.closed_at or utcnow()
            s.flush()
            audit.record(s, actor, "payment_link.conflict", "payment_link", link.id,
                         f"Needs attention: {message}", client_id=invoice.client_id,
                         after={"status": "conflict"})
    return PaymentOutcome("conflict", None, message)


# --------------------------------------------------------------------------- queries


def needs_replacement(db: Database, link_id: int) -> bool:
    """True when an open link no longer asks for what the invoice owes."""
    with db.read() as s:
        link, invoice = _load(s, link_id)
        return link.status == "open" and not _matches_balance(link, invoice)


def invoice_collectable(db: Database, invoice_id: int) -> bool:
    with db.read() as s:
        invoice = s.get(Invoice, invoice_id)
        return bool(invoice and invoice.status in OPEN_STATUSES and invoice.balance_cents > 0)


def links_to_poll(db: Database, *, now: dt.datetime | None = None) -> list[LinkView]:
    """Links whose Stripe state can still change: live ones, and those closed in the last
    24 hours (a customer may have started paying just before). ``now`` is aware (a naive
    value is taken as UTC)."""
    moment = now.astimezone(dt.UTC).replace(tzinfo=None) if now and now.tzinfo else now
    since = (moment or utcnow()) - CLOSED_POLL_WINDOW
    with db.read() as s:
        rows = s.execute(
            select(PaymentLink, Invoice).join(Invoice, Invoice.id == PaymentLink.invoice_id)
            .where(or_(PaymentLink.status.in_(LIVE),
                       (PaymentLink.status.in_(("paid", "expired")))
                       & (PaymentLink.closed_at >= since)))
            .order_by(PaymentLink.id)).all()
        return [_view(link, invoice) for link, invoice in rows]


def current_link(db: Database, invoice_id: int) -> LinkView | None:
    """The link the invoice screen shows: the newest attempt that is not a failure."""
    with db.read() as s:
        row = s.execute(
            select(PaymentLink, Invoice).join(Invoice, Invoice.id == PaymentLink.invoice_id)
            .where(PaymentLink.invoice_id == invoice_id, PaymentLink.status != "failed")
            .order_by(PaymentLink.attempt.desc()).limit(1)).first()
        return _view(*row) if row else None


def get_link(db: Database, link_id: int) -> LinkView:
    with db.read() as s:
        return _view(*_load(s, link_id))


def links_for_invoice(db: Database, invoice_id: int) -> list[LinkView]:
    with db.read() as s:
        rows = s.execute(
            select(PaymentLink, Invoice).join(Invoice, Invoice.id == PaymentLink.invoice_id)
            .where(PaymentLink.invoice_id == invoice_id).order_by(PaymentLink.attempt)).all()
        return [_view(link, invoice) for link, invoice in rows]


# --------------------------------------------------------------------------- input checks


def _stripe_id(value: str, field: str) -> str:
    text = (value or "").strip()
    if not text or len(text) > 200 or not text.isascii() or any(c.isspace() for c in text):
        raise ValidationError(field, "is not an id Stripe would send")
    return text


def _url(value: str) -> str:
    text = (value or "").strip()
    if not text.startswith(("https://", "http://")) or len(text) > 2000 or any(
            c.isspace() or ord(c) < 32 for c in text):
        raise ValidationError("payment link URL", "is not a web address Stripe would send")
    return text


def _reason(message: str) -> str:
    from core.text import clean_line

    return clean_line(message or "")[:1000]
