"""Invoice use cases: blank drafts, drafts from a job or a proposal's deposit, editing and
deleting drafts, issuing with the next gapless number, and the one balance recomputation.

Decisions where the brief is silent:

* Lines with a negative price are *deductions* (e.g. "Deposit received (INV-0003)"). The
  document discount applies to the charges only and deductions are computed on their own,
  so a deduction never shrinks a percent discount or fails a fixed one (``core.money`` takes
  a percent of the net *including* negative lines). A deduction cannot carry a discount.
* The job's fixed discount goes on the job's first standard invoice that is not void, capped
  at that invoice's charges; a percent discount goes on every invoice from the job.
* A paid deposit is deducted once per job in total, across the job's invoices that are not
  void, and never takes an invoice below zero: what does not fit is deducted next time.
* A job becomes ``invoiced`` only from ``completed``: a job invoiced in advance
  (``allow_incomplete``) keeps its status, since its work is not done.
  :func:`job_fully_invoiced` lets the job service decide when it completes such a job.
* Deleting a draft and voiding an invoice both release the job lines/visits it claimed (the
  invoice lines keep ``job_line_id``/``visit_id`` as history) and put an ``invoiced`` job back
  to ``completed``. Editing a draft does not release claims: delete it to start again.
* The due date stays empty on a draft unless set; issuing fills ``issue_date + terms_days``.
* ``paid_cents``/``credited_cents``/``balance_cents`` and the paid-through statuses are only
  ever written by :func:`recompute_balance`, from the payment, refund and credit-note rows.
  A credit note for everything still owed, when no net payment remains, makes the invoice void.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload

from core import audit, business, money, numbering, validate
from core.db import Database
from core.errors import DomainError, NotFound, StaleRecord, TransitionError, ValidationError
from core.lines import CleanLine, LineData, as_line_data, clean_lines
from core.models import (
    Client,
    CreditNote,
    Invoice,
    InvoiceLine,
    Job,
    JobLine,
    Payment,
    Proposal,
    Visit,
    utcnow,
)

OPEN_STATUSES = ("issued", "partially_paid")
LOCKED_MESSAGE = "An issued invoice is locked; issue a credit note to change what it asks for"
MAX_TERMS_DAYS = 365


class _DueLike(Protocol):
    status: str
    balance_cents: int
    due_date: dt.date | None


def days_overdue(invoice: _DueLike, today: dt.date) -> int:
    """Days past the due date of an open invoice that still has a balance; 0 otherwise."""
    if invoice.status not in OPEN_STATUSES or invoice.balance_cents <= 0 or invoice.due_date is None:
        return 0
    return max(0, (today - invoice.due_date).days)


def is_overdue(invoice: _DueLike, today: dt.date) -> bool:
    return days_overdue(invoice, today) > 0


@dataclass
class InvoiceData:
    """What the invoice form sends. ``None`` terms take the business defaults."""

    lines: list[LineData] = field(default_factory=list)
    discount_kind: str = "none"
    discount_value: Decimal | str | int = Decimal(0)  # percent, or cents for "fixed"
    terms_days: int | str | None = None
    terms: str | None = None
    notes: str = ""
    due_date: dt.date | str | None = None  # None: issue date + terms_days


# --------------------------------------------------------------------------- shared helpers


def lock_invoice(s: Session, invoice_id: int) -> Invoice:
    """Load an invoice for change; on PostgreSQL the row stays locked until commit (SQLite's
    write transaction already holds the database lock)."""
    invoice = s.get(Invoice, invoice_id, with_for_update=True)
    if invoice is None:
        raise NotFound("Invoice", invoice_id)
    return invoice


def label(invoice: Invoice) -> str:
    return invoice.number or f"draft invoice #{invoice.id}"


def fmt(invoice: Invoice, cents: int) -> str:
    return money.format_money(cents, invoice.currency)


def snapshot(invoice: Invoice) -> dict[str, Any]:
    return {
        "number": invoice.number,
        "status": invoice.status,
        "total_cents": invoice.total_cents,
        "paid_cents": invoice.paid_cents,
        "credited_cents": invoice.credited_cents,
        "balance_cents": invoice.balance_cents,
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
    }


def recompute_balance(s: Session, invoice: Invoice) -> None:
    """Set paid, credited, balance, status and paid_at from the rows; the only writer of them.

    paid = payments net of refunds; balance = total − paid − credited. An issued invoice is
    ``paid`` at balance 0, ``partially_paid`` while something is paid, else ``issued``; one
    whose balance was wholly credited with nothing paid is ``void``, and void stays void.
    """
    s.flush()
    paid = int(s.scalar(
        select(func.coalesce(func.sum(Payment.amount_cents - Payment.refunded_cents), 0))
        .where(Payment.invoice_id == invoice.id)
    ) or 0)
    credited = int(s.scalar(
        select(func.coalesce(func.sum(CreditNote.amount_cents), 0))
        .where(CreditNote.invoice_id == invoice.id)
    ) or 0)
    if invoice.status == "draft":
        if paid or credited:  # pragma: no cover - the services never allow it
            raise DomainError("A draft invoice cannot carry payments or credit notes.")
        invoice.paid_cents = invoice.credited_cents = invoice.balance_cents = 0
        return
    balance = invoice.total_cents - paid - credited
    if balance < 0:
        raise DomainError(
            f"This would leave {label(invoice)} owing less than nothing "
            f"({fmt(invoice, balance)}); nothing was saved."
        )
    invoice.paid_cents, invoice.credited_cents, invoice.balance_cents = paid, credited, balance
    # fully credited (and never paid) reads as void; a job invoice the deposit covered in
    # full owes nothing from the start, so it is paid
    if invoice.status == "void" or (balance == 0 and paid == 0 and credited > 0):
        status = "void"
    elif balance == 0:
        status = "paid"
    elif paid > 0:
        status = "partially_paid"
    else:
        status = "issued"
    invoice.status = status
    if status == "paid":
        invoice.paid_at = invoice.paid_at or utcnow()
    else:
        invoice.paid_at = None


def job_fully_invoiced(s: Session, job: Job) -> bool:
    """True when nothing billable on the job waits for an invoice (per its billing mode)."""
    if job.billing == "per_visit":
        return not s.scalar(select(exists().where(
            Visit.job_id == job.id, Visit.status == "completed", Visit.invoice_id.is_(None))))
    return not s.scalar(select(exists().where(JobLine.job_id == job.id, JobLine.invoice_id.is_(None))))


def release_job_claims(s: Session, invoice: Invoice) -> int:
    """Give the invoice's job lines and visits back to the job; returns how many."""
    rows: list[JobLine | Visit] = [*s.scalars(select(JobLine).where(JobLine.invoice_id == invoice.id)),
                                   *s.scalars(select(Visit).where(Visit.invoice_id == invoice.id))]
    for row in rows:
        row.invoice_id = None
    released = len(rows)
    if invoice.job_id is not None and released:
        job = s.get(Job, invoice.job_id)
        if job is not None and job.status == "invoiced":
            job.status = "completed"
    return released


def _clean_terms_days(value: int | str | None, default: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ValidationError("payment terms (days)", "is not a whole number")
    return validate.positive_int(value, "payment terms (days)", minimum=0, maximum=MAX_TERMS_DAYS)


def _apply_data(s: Session, invoice: Invoice, data: InvoiceData) -> list[CleanLine]:
    """Validate everything the form sent and put it on ``invoice`` (lines and totals too)."""
    defaults = business.get(s, "defaults")
    invoice.discount_kind = validate.choice(data.discount_kind, "discount kind", money.DISCOUNT_KINDS)
    invoice.discount_value = (
        money.parse_decimal(data.discount_value, "discount", max_places=4)
        if invoice.discount_kind != "none" else Decimal(0)
    )
    invoice.terms_days = _clean_terms_days(data.terms_days, int(defaults["payment_terms_days"]))
    invoice.terms = validate.note(
        defaults["invoice_terms"] if data.terms is None else data.terms, "terms", 5000)
    invoice.notes = validate.note(data.notes, "notes", 10_000)
    invoice.due_date = validate.parse_date(data.due_date, "due date")
    clean = clean_lines(s, data.lines, allow_negative=True)
    store_lines(invoice, clean)
    return clean


def store_lines(invoice: Invoice, clean: list[CleanLine],
                links: list[tuple[int | None, int | None]] | None = None) -> money.DocumentTotals:
    """Replace the invoice's lines and totals. ``links`` gives (job_line_id, visit_id) per line.

    Charges (price ≥ 0) take the document discount; deductions (price < 0) are computed on
    their own, untouched by it (see the module docstring).
    """
    def as_input(c: CleanLine) -> money.LineInput:
        return money.LineInput(c.quantity, c.unit_price_cents, c.tax_rate, c.discount_kind,
                               c.discount_value)

    rule = invoice.rounding_rule or money.ROUNDING_RULE
    # first pass: every line on its own, so a bad line discount is reported with its own number
    money.compute_totals([as_input(c) for c in clean], rounding_rule=rule)
    charge_idx = [i for i, c in enumerate(clean) if c.unit_price_cents >= 0]
    deduction_idx = [i for i, c in enumerate(clean) if c.unit_price_cents < 0]
    for i in deduction_idx:
        if clean[i].discount_kind != "none":
            raise ValidationError(f"line {i + 1} discount",
                                  "a deduction (a line with a negative price) cannot have a discount")
    charges = money.compute_totals([as_input(clean[i]) for i in charge_idx],
                                   invoice.discount_kind, invoice.discount_value, rule)
    deductions = money.compute_totals([as_input(clean[i]) for i in deduction_idx], rounding_rule=rule)
    per_line = dict(zip(charge_idx, charges.lines, strict=True))
    per_line.update(zip(deduction_idx, deductions.lines, strict=True))
    rows = []
    for pos, c in enumerate(clean):
        t = per_line[pos]
        job_line_id, visit_id = links[pos] if links else (None, None)
        rows.append(InvoiceLine(
            position=pos, description=c.description, quantity=c.quantity,
            unit_price_cents=c.unit_price_cents, tax_rate_id=c.tax_rate_id, tax_rate=c.tax_rate,
            discount_kind=c.discount_kind, discount_value=c.discount_value,
            price_book_item_id=c.price_book_item_id, subtotal_cents=t.subtotal_cents,
            discount_cents=t.discount_cents, tax_cents=t.tax_cents, total_cents=t.total_cents,
            job_line_id=job_line_id, visit_id=visit_id,
        ))
    invoice.lines = rows
    totals = money.DocumentTotals(
        lines=[per_line[i] for i in range(len(clean))],
        subtotal_cents=charges.subtotal_cents + deductions.subtotal_cents,
        discount_cents=charges.discount_cents + deductions.discount_cents,
        tax_cents=charges.tax_cents + deductions.tax_cents,
        total_cents=charges.total_cents + deductions.total_cents,
        tax_by_rate={r: charges.tax_by_rate.get(r, 0) + deductions.tax_by_rate.get(r, 0)
                     for r in {*charges.tax_by_rate, *deductions.tax_by_rate}},
        rounding_rule=rule,
    )
    invoice.subtotal_cents = totals.subtotal_cents
    invoice.discount_cents = totals.discount_cents
    invoice.tax_cents = totals.tax_cents
    invoice.total_cents = totals.total_cents
    return totals


def _draft(s: Session, client_id: int, **kw: Any) -> Invoice:
    """A new draft, not yet added to the session (so queries made while building it do not
    see it half-built); the caller adds it."""
    client = s.get(Client, client_id)
    if client is None:
        raise NotFound("Client", client_id)
    kw.setdefault("currency", business.get(s, "business")["currency"])
    kw.setdefault("discount_kind", "none")
    kw.setdefault("discount_value", Decimal(0))
    return Invoice(client_id=client.id, status="draft", rounding_rule=money.ROUNDING_RULE,
                   paid_cents=0, credited_cents=0, balance_cents=0, **kw)


def _check_version(invoice: Invoice, expected_version: int | None) -> None:
    if expected_version is not None and invoice.version != expected_version:
        raise StaleRecord("invoice")


def _require_draft(invoice: Invoice) -> None:
    if invoice.status == "void":
        raise TransitionError(f"{label(invoice)} is void; a void invoice cannot be changed.")
    if invoice.status != "draft":
        raise TransitionError(LOCKED_MESSAGE)


# --------------------------------------------------------------------------- use cases


def get(db: Database, invoice_id: int) -> Invoice:
    """An invoice with its lines, for display (detached, read-only)."""
    with db.read() as s:
        invoice = s.scalar(select(Invoice).options(selectinload(Invoice.lines))
                           .where(Invoice.id == invoice_id))
        if invoice is None:
            raise NotFound("Invoice", invoice_id)
        return invoice


def as_invoice_data(invoice: Invoice) -> InvoiceData:
    """A stored invoice as the form's input (to edit a draft)."""
    return InvoiceData(
        lines=[as_line_data(line) for line in invoice.lines],
        discount_kind=invoice.discount_kind, discount_value=invoice.discount_value,
        terms_days=invoice.terms_days, terms=invoice.terms, notes=invoice.notes,
        due_date=invoice.due_date,
    )


def create_blank(
    db: Database,
    client_id: int,
    lines: list[LineData],
    *,
    discount_kind: str = "none",
    discount_value: Decimal | str | int = Decimal(0),
    terms_days: int | str | None = None,
    notes: str = "",
    terms: str | None = None,
    due_date: dt.date | str | None = None,
    actor: str = "owner",
) -> int:
    """A draft invoice (no number) for a client; terms default to the business defaults."""
    data = InvoiceData(lines=lines, discount_kind=discount_kind, discount_value=discount_value,
                       terms_days=terms_days, terms=terms, notes=notes, due_date=due_date)
    with db.write() as s:
        invoice = _draft(s, client_id)
        _apply_data(s, invoice, data)
        s.add(invoice)
        s.flush()
        audit.record(s, actor, "invoice.create", "invoice", invoice.id,
                     f"Created a draft invoice for {fmt(invoice, invoice.total_cents)}",
                     client_id=invoice.client_id, after=snapshot(invoice))
        return invoice.id


def edit_draft(db: Database, invoice_id: int, data: InvoiceData, *,
               expected_version: int | None = None, actor: str = "owner") -> int:
    """Replace a draft's lines, discount, terms, notes and due date; returns the new version."""
    with db.write() as s:
        invoice = lock_invoice(s, invoice_id)
        _check_version(invoice, expected_version)
        _require_draft(invoice)
        before = {**snapshot(invoice), "lines": len(invoice.lines), "notes": invoice.notes,
                  "terms": invoice.terms, "terms_days": invoice.terms_days,
                  "discount": f"{invoice.discount_kind} {invoice.discount_value}"}
        _apply_data(s, invoice, data)
        s.flush()
        after = {**snapshot(invoice), "lines": len(invoice.lines), "notes": invoice.notes,
                 "terms": invoice.terms, "terms_days": invoice.terms_days,
                 "discount": f"{invoice.discount_kind} {invoice.discount_value}"}
        old, new = audit.changes(before, after)
        audit.record(s, actor, "invoice.edit", "invoice", invoice.id,
                     f"Edited {label(invoice)}", client_id=invoice.client_id, before=old, after=new)
        return invoice.version


def delete_draft(db: Database, invoice_id: int, *, expected_version: int | None = None,
                 actor: str = "owner") -> None:
    """Delete a draft; the job lines/visits it claimed can be invoiced again."""
    with db.write() as s:
        job_id = s.scalar(select(Invoice.job_id).where(Invoice.id == invoice_id))
        if job_id is not None:
            s.get(Job, job_id, with_for_update=True)  # lock order: job, then invoice
        invoice = lock_invoice(s, invoice_id)
        _check_version(invoice, expected_version)
        if invoice.status != "draft":
            raise TransitionError(
                f"{label(invoice)} is issued and keeps its number; only a draft can be deleted. "
                "Void it with a credit note instead.")
        released = release_job_claims(s, invoice)
        s.flush()  # the claims point at the invoice: clear them before it goes
        before = {**snapshot(invoice), "lines": len(invoice.lines), "released_from_job": released}
        audit.record(s, actor, "invoice.delete", "invoice", invoice.id,
                     f"Deleted {label(invoice)}", client_id=invoice.client_id, before=before)
        s.delete(invoice)


def create_from_job(db: Database, job_id: int, *, allow_incomplete: bool = False,
                    actor: str = "owner") -> int:
    """One draft invoice for what the job has not billed yet (see the module docstring)."""
    with db.write() as s:
        job = s.get(Job, job_id, with_for_update=True)
        if job is None:
            raise NotFound("Job", job_id)
        if job.status == "cancelled":
            raise TransitionError(f"Job {job.number} was cancelled; there is nothing to invoice.")
        if not job.lines:
            raise TransitionError(f"Job {job.number} has no line items to invoice.")
        data: list[LineData] = []
        links: list[tuple[int | None, int | None]] = []
        claimed_lines: list[JobLine] = []
        claimed_visits: list[Visit] = []
        if job.billing == "per_visit":
            visits = sorted((v for v in job.visits if v.status == "completed" and v.invoice_id is None),
                            key=lambda v: (v.starts_at, v.id))
            if not visits:
                raise TransitionError(
                    f"Job {job.number} has no completed visit waiting to be invoiced.")
            for visit in visits:
                for line in job.lines:
                    item = as_line_data(line)
                    item.description = f"{visit.starts_at.date().isoformat()}: {line.description}"
                    data.append(item)
                    links.append((line.id, visit.id))
            claimed_visits = visits
        else:
            claimed_lines = [line for line in job.lines if line.invoice_id is None]
            if not claimed_lines:
                raise TransitionError(f"Everything on job {job.number} has already been invoiced.")
            if job.status != "completed" and not allow_incomplete:
                raise TransitionError(
                    f"Job {job.number} is not completed yet. Complete it first, or choose to "
                    "invoice it in advance.")
            data = [as_line_data(line) for line in claimed_lines]
            links = [(line.id, None) for line in claimed_lines]

        clean = clean_lines(s, data, allow_negative=True)
        discount = _job_discount(s, job, clean)
        defaults = business.get(s, "defaults")
        invoice = _draft(
            s, job.client_id, job_id=job.id, proposal_id=job.proposal_id, currency=job.currency,
            terms_days=int(defaults["payment_terms_days"]), terms=defaults["invoice_terms"],
            discount_kind=discount[0], discount_value=discount[1],
        )
        totals = store_lines(invoice, clean, links)
        deductions = _deposit_deductions(s, job, totals.total_cents)
        if deductions:
            clean += clean_lines(s, [item for item, _ in deductions], allow_negative=True)
            links += [link for _, link in deductions]
            store_lines(invoice, clean, links)
        s.add(invoice)
        s.flush()
        for line in claimed_lines:
            line.invoice_id = invoice.id
        for visit in claimed_visits:
            visit.invoice_id = invoice.id
        s.flush()
        job_status = job.status
        if job.status == "completed" and job_fully_invoiced(s, job):
            job.status = "invoiced"
        audit.record(
            s, actor, "invoice.create_from_job", "invoice", invoice.id,
            f"Created a draft invoice from job {job.number} for {fmt(invoice, invoice.total_cents)}",
            client_id=invoice.client_id,
            after={**snapshot(invoice), "job": job.number, "job_lines": len(claimed_lines),
                   "visits": len(claimed_visits), "job_status": [job_status, job.status]},
        )
        return invoice.id


def _job_discount(s: Session, job: Job, clean: list[CleanLine]) -> tuple[str, Decimal]:
    if job.discount_kind == "percent":
        return "percent", job.discount_value
    if job.discount_kind != "fixed" or not job.discount_value:
        return "none", Decimal(0)
    earlier = s.scalar(select(exists().where(
        Invoice.job_id == job.id, Invoice.kind == "standard", Invoice.status != "void")))
    if earlier:
        return "none", Decimal(0)
    # the discount comes off the charges' net; cap it there so the invoice can still be built
    nets = money.compute_totals([money.LineInput(c.quantity, c.unit_price_cents, c.tax_rate,
                                                 c.discount_kind, c.discount_value)
                                 for c in clean if c.unit_price_cents >= 0])
    capped = min(int(job.discount_value), max(nets.subtotal_cents - nets.discount_cents, 0))
    return ("fixed", Decimal(capped)) if capped else ("none", Decimal(0))


DEPOSIT_LINE = "Deposit received ({number})"


def _prepaid(invoice: Invoice) -> bool:
    """A job's invoice that the proposal's paid deposit covers in full: the work is billed
    and the deposit deducted, so it is issued for the record and owes nothing."""
    prefix = DEPOSIT_LINE.split("{", 1)[0]
    return invoice.job_id is not None and any(
        line.total_cents < 0 and line.description.startswith(prefix) for line in invoice.lines)


def _deposit_deductions(s: Session, job: Job, room_cents: int
                        ) -> list[tuple[LineData, tuple[int | None, int | None]]]:
    """Untaxed negative lines for what was paid on the job's proposal's deposit invoices,
    minus what earlier invoices of the job already deducted, at most ``room_cents`` in all."""
    if job.proposal_id is None:
        return []
    deposits = s.scalars(
        select(Invoice).where(Invoice.proposal_id == job.proposal_id, Invoice.kind == "deposit",
                              Invoice.status.in_(("partially_paid", "paid")))
        .order_by(Invoice.id)
    ).all()
    out: list[tuple[LineData, tuple[int | None, int | None]]] = []
    for deposit in deposits:
        text = DEPOSIT_LINE.format(number=deposit.number)
        already = -int(s.scalar(
            select(func.coalesce(func.sum(InvoiceLine.total_cents), 0))
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(Invoice.job_id == job.id, Invoice.kind == "standard",
                   Invoice.status != "void", InvoiceLine.description == text)
        ) or 0)
        amount = min(deposit.paid_cents - already, room_cents)
        if amount <= 0:
            continue
        room_cents -= amount
        out.append((LineData(description=text, quantity=Decimal(1), unit_price_cents=-amount),
                    (None, None)))
    return out


def create_deposit_draft(s: Session, proposal: Proposal, job: Job | None, actor: str) -> Invoice:
    """A draft deposit invoice for an approved proposal, inside the caller's transaction.

    One untaxed line "Deposit for proposal PRO-…" of :func:`core.money.deposit_cents`.
    """
    amount = money.deposit_cents(proposal.total_cents, proposal.deposit_kind, proposal.deposit_value)
    if amount <= 0:
        raise ValidationError("deposit", "this proposal asks for no deposit, so there is nothing to invoice")
    s.flush()
    defaults = business.get(s, "defaults")
    invoice = _draft(
        s, proposal.client_id, kind="deposit", job_id=job.id if job is not None else None,
        proposal_id=proposal.id, currency=proposal.currency,
        terms_days=int(defaults["payment_terms_days"]), terms=defaults["invoice_terms"],
    )
    number = proposal.number or f"#{proposal.id}"
    store_lines(invoice, [CleanLine(f"Deposit for proposal {number}", Decimal(1), amount, None,
                                    Decimal(0), "none", Decimal(0), None)])
    s.add(invoice)
    s.flush()
    audit.record(s, actor, "invoice.create_deposit", "invoice", invoice.id,
                 f"Created a draft deposit invoice for proposal {number} "
                 f"({fmt(invoice, amount)})", client_id=invoice.client_id, after=snapshot(invoice))
    return invoice


def issue(db: Database, invoice_id: int, issue_date: dt.date | str | None = None, *,
          expected_version: int | None = None, actor: str = "owner") -> str:
    """Issue a draft: the next gapless number in this same transaction; returns the number."""
    with db.write() as s:
        invoice = lock_invoice(s, invoice_id)
        _check_version(invoice, expected_version)
        return issue_in(s, invoice, issue_date, actor=actor)


def issue_in(s: Session, invoice: Invoice, issue_date: dt.date | str | None = None, *,
             actor: str = "owner") -> str:
    """:func:`issue` inside the caller's transaction (for services that issue as one step)."""
    if invoice.status == "void":
        raise TransitionError(f"{label(invoice)} is void; it cannot be issued again.")
    if invoice.status != "draft":
        raise TransitionError(f"This invoice is already issued as {invoice.number}.")
    if not invoice.lines:
        raise ValidationError("lines", "an invoice needs at least one line before it is issued")
    if invoice.total_cents < 0 or (invoice.total_cents == 0 and not _prepaid(invoice)):
        raise ValidationError("total", "must be more than zero to issue the invoice")
    on = validate.parse_date(issue_date, "issue date") or dt.date.today()
    due = invoice.due_date or on + dt.timedelta(days=invoice.terms_days)
    if due < on:
        raise ValidationError("due date", f"{due.isoformat()} is before the issue date {on.isoformat()}")
    pattern = business.get(s, "numbering")["invoice"]
    number = numbering.next_number(s, "invoice", pattern, on)
    if s.scalar(select(exists().where(Invoice.number == number))):
        raise DomainError(
            f"The next invoice number, {number}, is already used by another invoice. Check the "
            "invoice numbering pattern in Settings; nothing was issued.")
    invoice.number = number
    invoice.status = "issued"
    invoice.issue_date = on
    invoice.due_date = due
    invoice.issued_at = utcnow()
    recompute_balance(s, invoice)
    audit.record(s, actor, "invoice.issue", "invoice", invoice.id,
                 f"Issued {number} for {fmt(invoice, invoice.total_cents)}, due {due.isoformat()}",
                 client_id=invoice.client_id, before={"status": "draft"}, after=snapshot(invoice))
    return number
