"""Read models for the invoice, task and schedule screens: one invoice with everything about
it, what an action on it would be refused for, one task, one visit, and the labels of the
records tasks link to.

Each function is one read transaction (a consistent snapshot) with bounded queries. Decisions
where the brief is silent:

* :func:`invoice_refusal` states, without writing, why the invoice services would refuse an
  action in the invoice's current state (same words as the services), so a screen can say so
  before asking for an amount; the services still check again when the action runs.
* An invoice shows at most ``CHILD_LIMIT`` payments, refunds and credit notes each; more than
  that is a data-entry accident, and the balance (stored on the invoice) stays exact.
* A task linked to a record that no longer exists gets the label "(deleted <kind>)".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from core import money
from core.db import Database
from core.errors import NotFound
from core.invoices import LOCKED_MESSAGE, days_overdue
from core.models import (
    Client,
    ClientCredit,
    Contact,
    CreditNote,
    Invoice,
    InvoiceLine,
    Job,
    Payment,
    Proposal,
    Refund,
    Task,
    Visit,
)

CHILD_LIMIT = 200
INVOICE_ACTIONS = (
    "edit", "delete", "issue", "payment", "refund", "credit_note", "void", "apply_credit",
)


# --------------------------------------------------------------------------- invoices


@dataclass(frozen=True)
class InvoiceLineView:
    description: str
    quantity: Decimal
    unit_price_cents: int
    tax_rate: Decimal  # percent
    discount_cents: int
    total_cents: int


@dataclass(frozen=True)
class PaymentView:
    id: int
    received_on: dt.date
    method: str
    reference: str
    amount_cents: int
    refunded_cents: int

    @property
    def refundable_cents(self) -> int:
        return self.amount_cents - self.refunded_cents


@dataclass(frozen=True)
class RefundView:
    id: int
    payment_id: int
    refunded_on: dt.date
    amount_cents: int
    reason: str


@dataclass(frozen=True)
class CreditNoteView:
    id: int
    number: str
    issued_on: dt.date
    amount_cents: int
    reason: str
    voids_invoice: bool


@dataclass(frozen=True)
class InvoiceView:
    id: int
    version: int
    number: str | None
    kind: str  # standard | deposit
    status: str
    client_id: int
    client_name: str
    job_id: int | None
    job_number: str | None
    issue_date: dt.date | None
    due_date: dt.date | None
    terms_days: int
    terms: str
    notes: str
    currency: str
    discount_kind: str
    discount_value: Decimal
    subtotal_cents: int
    discount_cents: int
    tax_cents: int
    total_cents: int
    paid_cents: int
    credited_cents: int
    balance_cents: int
    days_overdue: int
    client_credit_cents: int  # the client's unused credit, which can pay this invoice
    lines: tuple[InvoiceLineView, ...]
    payments: tuple[PaymentView, ...]
    refunds: tuple[RefundView, ...]
    credit_notes: tuple[CreditNoteView, ...]

    @property
    def label(self) -> str:
        """As the services name it in their messages."""
        return self.number or f"draft invoice #{self.id}"

    @property
    def refundable_payments(self) -> tuple[PaymentView, ...]:
        return tuple(p for p in self.payments if p.refundable_cents > 0)


def invoice_view(db: Database, invoice_id: int, *, today: dt.date | None = None) -> InvoiceView:
    """One invoice with its lines, payments, refunds and credit notes; raises NotFound."""
    today = today or dt.date.today()
    with db.read() as s:
        head = s.execute(
            select(Invoice, Client.name, Job.number)
            .join(Client, Client.id == Invoice.client_id)
            .outerjoin(Job, Job.id == Invoice.job_id)
            .where(Invoice.id == invoice_id)
        ).first()
        if head is None:
            raise NotFound("Invoice", invoice_id)
        inv, client_name, job_number = head
        lines = s.execute(
            select(InvoiceLine.description, InvoiceLine.quantity, InvoiceLine.unit_price_cents,
                   InvoiceLine.tax_rate, InvoiceLine.discount_cents, InvoiceLine.total_cents)
            .where(InvoiceLine.invoice_id == invoice_id)
            .order_by(InvoiceLine.position, InvoiceLine.id)
        ).all()
        pays = s.execute(
            select(Payment.id, Payment.received_on, Payment.method, Payment.reference,
                   Payment.amount_cents, Payment.refunded_cents)
            .where(Payment.invoice_id == invoice_id)
            .order_by(Payment.received_on, Payment.id)
            .limit(CHILD_LIMIT)
        ).all()
        refunds = s.execute(
            select(Refund.id, Refund.payment_id, Refund.refunded_on, Refund.amount_cents,
                   Refund.reason)
            .where(Refund.invoice_id == invoice_id)
            .order_by(Refund.refunded_on, Refund.id)
            .limit(CHILD_LIMIT)
        ).all()
        notes = s.execute(
            select(CreditNote.id, CreditNote.number, CreditNote.issued_on,
                   CreditNote.amount_cents, CreditNote.reason, CreditNote.voids_invoice)
            .where(CreditNote.invoice_id == invoice_id)
            .order_by(CreditNote.issued_on, CreditNote.id)
            .limit(CHILD_LIMIT)
        ).all()
        credit = s.scalar(select(func.coalesce(func.sum(ClientCredit.amount_cents), 0))
                          .where(ClientCredit.client_id == inv.client_id))
        return InvoiceView(
            id=inv.id, version=inv.version, number=inv.number, kind=inv.kind, status=inv.status,
            client_id=inv.client_id, client_name=client_name or "", job_id=inv.job_id,
            job_number=job_number, issue_date=inv.issue_date, due_date=inv.due_date,
            terms_days=inv.terms_days, terms=inv.terms, notes=inv.notes, currency=inv.currency,
            discount_kind=inv.discount_kind, discount_value=inv.discount_value,
            subtotal_cents=inv.subtotal_cents, discount_cents=inv.discount_cents,
            tax_cents=inv.tax_cents, total_cents=inv.total_cents, paid_cents=inv.paid_cents,
            credited_cents=inv.credited_cents, balance_cents=inv.balance_cents,
            days_overdue=days_overdue(inv, today), client_credit_cents=int(credit or 0),
            lines=tuple(InvoiceLineView(*r) for r in lines),
            payments=tuple(PaymentView(*r) for r in pays),
            refunds=tuple(RefundView(*r) for r in refunds),
            credit_notes=tuple(CreditNoteView(r[0], r[1], r[2], r[3], r[4], bool(r[5]))
                               for r in notes),
        )


def invoice_refusal(view: InvoiceView, action: str) -> str | None:
    """Why ``action`` (one of :data:`INVOICE_ACTIONS`) would be refused now, or None.

    Mirrors the checks of :mod:`core.invoices`, :mod:`core.payments` and
    :mod:`core.credit_notes` in the order they make them (tests hold the two together).
    """
    status, name = view.status, view.label
    fmt = money.format_money
    if action == "edit":
        if status == "void":
            return f"{name} is void; a void invoice cannot be changed."
        return None if status == "draft" else LOCKED_MESSAGE
    if action == "delete":
        if status != "draft":
            return (f"{name} is issued and keeps its number; only a draft can be deleted. "
                    "Void it with a credit note instead.")
        return None
    if action == "issue":
        if status == "void":
            return f"{name} is void; it cannot be issued again."
        if status != "draft":
            return f"This invoice is already issued as {view.number}."
        if not view.lines:
            return "Lines: an invoice needs at least one line before it is issued"
        if view.total_cents <= 0:
            return "Total: must be more than zero to issue the invoice"
        return None
    if action in ("payment", "apply_credit"):
        verb = "recording a payment" if action == "payment" else "applying credit"
        if status == "draft":
            return f"This invoice is still a draft; issue it before {verb}."
        if status == "void":
            return f"{name} is void; it accepts no payments."
        if status == "paid":
            return f"{name} is already paid; nothing more is owed on it."
        if action == "apply_credit" and view.client_credit_cents <= 0:
            return "This client has no credit to apply."
        return None
    if action == "refund":
        if not view.refundable_payments:
            return f"There is no payment on {name} left to refund."
        return None
    if action == "credit_note":
        if status == "draft":
            return ("This invoice is still a draft; edit or delete it instead of issuing a "
                    "credit note.")
        if status == "void":
            return f"{name} is already void."
        if status == "paid":
            return f"{name} is already paid; record a refund instead."
        return None
    if action == "void":
        if status == "draft":
            return "A draft invoice is deleted, not voided."
        if status == "void":
            return f"{name} is already void."
        if view.paid_cents > 0:
            return (f"{name} has {fmt(view.paid_cents, view.currency)} in payments; refund the "
                    "payments first, then void it.")
        return None
    raise ValueError(f"unknown invoice action {action!r}")


# --------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class TaskView:
    id: int
    version: int
    title: str
    notes: str
    due_date: dt.date | None
    priority: str
    status: str
    assignee_id: int | None
    linked_type: str | None
    linked_id: int | None


def task_view(db: Database, task_id: int) -> TaskView:
    """One task as its edit form needs it; raises NotFound."""
    with db.read() as s:
        t = s.get(Task, task_id)
        if t is None:
            raise NotFound("Task", task_id)
        return TaskView(t.id, t.version, t.title, t.notes, t.due_date, t.priority, t.status,
                        t.assignee_id, t.linked_type, t.linked_id)


@dataclass(frozen=True)
class LinkedRecord:
    """What a task links to, as a person reads it, and where ``enter`` should take them."""

    kind: str  # client | contact | proposal | job | visit | invoice
    id: int
    label: str  # e.g. "Invoice INV-0003", "Visit JOB-0007 10 Mar 09:00"
    exists: bool
    client_id: int | None
    job_id: int | None = None  # visits: their job
    day: dt.date | None = None  # visits: the day they start


def linked_records(db: Database, refs: Iterable[tuple[str, int]]) -> dict[tuple[str, int], LinkedRecord]:
    """Labels for the records tasks link to, one query per kind of record."""
    wanted: dict[str, set[int]] = {}
    for kind, ident in refs:
        wanted.setdefault(kind, set()).add(ident)
    out: dict[tuple[str, int], LinkedRecord] = {}
    with db.read() as s:
        for kind, ids in wanted.items():
            id_list = sorted(ids)[:1000]
            if kind == "client":
                for cid, name in s.execute(select(Client.id, Client.name).where(Client.id.in_(id_list))):
                    out[kind, cid] = LinkedRecord(kind, cid, f"Client {name}", True, cid)
            elif kind == "contact":
                contacts = s.execute(select(Contact.id, Contact.name, Contact.client_id)
                                     .where(Contact.id.in_(id_list)))
                for cid, name, client_id in contacts:
                    out[kind, cid] = LinkedRecord(kind, cid, f"Contact {name}", True, client_id)
            elif kind == "proposal":
                proposals = s.execute(select(Proposal.id, Proposal.number, Proposal.title,
                                             Proposal.client_id).where(Proposal.id.in_(id_list)))
                for pid, number, title, client_id in proposals:
                    label = f"Proposal {number or 'draft'} {title}".rstrip()
                    out[kind, pid] = LinkedRecord(kind, pid, label, True, client_id)
            elif kind == "job":
                job_rows = s.execute(select(Job.id, Job.number, Job.title, Job.client_id)
                                     .where(Job.id.in_(id_list)))
                for jid, job_number, title, client_id in job_rows:
                    out[kind, jid] = LinkedRecord(kind, jid, f"Job {job_number} {title}".rstrip(),
                                                  True, client_id, job_id=jid)
            elif kind == "invoice":
                invoice_rows = s.execute(select(Invoice.id, Invoice.number, Invoice.client_id)
                                         .where(Invoice.id.in_(id_list)))
                for iid, invoice_number, client_id in invoice_rows:
                    label = (f"Invoice {invoice_number}" if invoice_number
                             else f"Draft invoice #{iid}")
                    out[kind, iid] = LinkedRecord(kind, iid, label, True, client_id)
            elif kind == "visit":
                visits = s.execute(select(Visit.id, Visit.starts_at, Visit.job_id, Job.number,
                                          Job.client_id)
                                   .join(Job, Job.id == Visit.job_id).where(Visit.id.in_(id_list)))
                for vid, starts_at, job_id, visit_job, client_id in visits:
                    out[kind, vid] = LinkedRecord(
                        kind, vid, f"Visit {visit_job} {starts_at.day} {starts_at:%b %H:%M}", True,
                        client_id, job_id=job_id, day=starts_at.date())
            for ident in ids:
                out.setdefault((kind, ident),
                               LinkedRecord(kind, ident, f"(deleted {kind})", False, None))
    return out


# --------------------------------------------------------------------------- visits


@dataclass(frozen=True)
class VisitView:
    id: int
    version: int
    job_id: int
    job_number: str
    job_title: str
    client_name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    assignee_id: int | None
    status: str

    @property
    def duration_minutes(self) -> int:
        return max(1, int((self.ends_at - self.starts_at).total_seconds() // 60))


def visit_view(db: Database, visit_id: int) -> VisitView:
    """One visit as the move dialog needs it (its version guards the move); raises NotFound."""
    with db.read() as s:
        row = s.execute(
            select(Visit.id, Visit.version, Visit.job_id, Job.number, Job.title, Client.name,
                   Visit.starts_at, Visit.ends_at, Visit.assignee_id, Visit.status)
            .join(Job, Job.id == Visit.job_id)
            .join(Client, Client.id == Job.client_id)
            .where(Visit.id == visit_id)
        ).first()
        if row is None:
            raise NotFound("Visit", visit_id)
        return VisitView(id=row[0], version=row[1], job_id=row[2], job_number=row[3],
                         job_title=row[4], client_name=row[5], starts_at=row[6], ends_at=row[7],
                         assignee_id=row[8], status=row[9])


_VISIT_STATE = {
    "in_progress": "is already in progress",
    "completed": "is already completed",
    "cancelled": "was cancelled",
}


def visit_move_refusal(view: VisitView) -> str | None:
    """Why :func:`core.jobs.move_visit` would refuse to move this visit now, or None."""
    if view.status == "scheduled":
        return None
    state = _VISIT_STATE.get(view.status, f"is {view.status}")
    return f"This visit {state}, so it cannot be moved."
