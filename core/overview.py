"""The client overview read model: everything the client detail screen shows, in one read.

A handful of bounded queries in one read transaction (a consistent snapshot): the client with
its counts, contacts, addresses, open proposals, recent jobs, recent invoices, the open
balance and the recent activity. Every list is LIMITed and every aggregate runs in SQL on an
index, so a client with 100,000 invoices costs the same as one with ten.

Decisions where the design is silent: "open" proposals are drafts and sent ones; a sent
proposal past its valid-until date is shown as expired (a draft is not: nobody has seen it).
Jobs and invoices are the most recent ones of any status (``RECENT_LIMIT``), with the total
count beside them. The balance is what open invoices still ask for; overdue is the part of
it whose due date is before ``today``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, select, text
from sqlalchemy.orm import Session

from core import business
from core.db import Database
from core.errors import NotFound
from core.models import (
    Address,
    AuditEvent,
    Client,
    ClientCredit,
    ClientTag,
    Contact,
    Invoice,
    Job,
    Proposal,
)

RECENT_LIMIT = 10
# A client has a few contacts and addresses; the cap only guards against a runaway import.
CHILD_LIMIT = 200
MAX_ACTIVITY = 200
OPEN_PROPOSAL_STATUSES = ("draft", "sent")
# Written out literally (not as bound parameters) so SQLite can use the partial indexes
# ix_invoices_open_client / ix_invoices_open_due, whose predicate is exactly this text.
OPEN_INVOICE_CONDITION = text("invoices.status IN ('issued','partially_paid')")


@dataclass(frozen=True)
class ContactRow:
    id: int
    version: int
    name: str
    email: str
    phone: str
    role: str
    is_primary: bool
    sms_consent: bool
    sms_opted_out: bool


@dataclass(frozen=True)
class AddressRow:
    id: int
    version: int
    kind: str
    label: str
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    country: str
    validated: bool


@dataclass(frozen=True)
class ProposalRow:
    id: int
    number: str | None
    revision: int
    title: str
    status: str
    total_cents: int
    currency: str
    valid_until: dt.date | None
    expired: bool


@dataclass(frozen=True)
class JobRow:
    id: int
    number: str
    title: str
    status: str
    total_cents: int
    currency: str


@dataclass(frozen=True)
class InvoiceRow:
    id: int
    number: str | None
    kind: str
    status: str
    issue_date: dt.date | None
    due_date: dt.date | None
    total_cents: int
    balance_cents: int
    currency: str
    days_overdue: int  # 0 when not overdue

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0


@dataclass(frozen=True)
class ActivityRow:
    at: dt.datetime
    actor: str
    action: str
    summary: str


@dataclass(frozen=True)
class ClientOverview:
    id: int
    version: int
    kind: str
    name: str
    company_name: str
    status: str
    notes: str
    tags: tuple[str, ...]
    custom_fields: dict[str, str]
    created_at: dt.datetime
    anonymised: bool
    contacts: tuple[ContactRow, ...]
    more_contacts: bool  # True: more than CHILD_LIMIT exist; the list is cut
    addresses: tuple[AddressRow, ...]
    more_addresses: bool
    open_proposals: tuple[ProposalRow, ...]
    open_proposal_count: int
    jobs: tuple[JobRow, ...]
    job_count: int
    invoices: tuple[InvoiceRow, ...]
    invoice_count: int
    open_invoice_count: int
    balance_cents: int
    overdue_cents: int
    credit_cents: int
    currency: str  # the business currency, for the balance
    activity: tuple[ActivityRow, ...]


def open_invoice_totals_query(client_id: int, today: dt.date) -> Select[Any]:
    """Count, balance and overdue balance of a client's open invoices (one index range)."""
    overdue = case((Invoice.due_date < today, Invoice.balance_cents), else_=0)
    return select(
        func.count(),
        func.coalesce(func.sum(Invoice.balance_cents), 0),
        func.coalesce(func.sum(overdue), 0),
    ).where(Invoice.client_id == client_id, OPEN_INVOICE_CONDITION)


def _count(model: Any, client_id: int, *conditions: Any) -> Any:
    return (
        select(func.count())
        .select_from(model)
        .where(model.client_id == client_id, *conditions)
        .scalar_subquery()
    )


def client_overview(
    db: Database,
    client_id: int,
    *,
    activity_limit: int = 20,
    today: dt.date | None = None,
) -> ClientOverview:
    """Read one client's overview; raises :class:`NotFound` if the client does not exist."""
    today = today or dt.date.today()
    activity_limit = max(0, min(activity_limit, MAX_ACTIVITY))
    with db.read() as s:
        head = s.execute(
            select(
                Client,
                _count(Proposal, client_id, Proposal.status.in_(OPEN_PROPOSAL_STATUSES)),
                _count(Job, client_id),
                _count(Invoice, client_id),
            ).where(Client.id == client_id)
        ).first()
        if head is None:
            raise NotFound("Client", client_id)
        client, open_proposal_count, job_count, invoice_count = head
        tags = tuple(
            s.scalars(
                select(ClientTag.tag)
                .where(ClientTag.client_id == client_id)
                .order_by(ClientTag.tag)
                .limit(CHILD_LIMIT)
            )
        )
        contacts, more_contacts = _contacts(s, client_id)
        addresses, more_addresses = _addresses(s, client_id)
        open_count, balance, overdue = s.execute(open_invoice_totals_query(client_id, today)).one()
        credit = s.scalar(
            select(func.coalesce(func.sum(ClientCredit.amount_cents), 0)).where(
                ClientCredit.client_id == client_id
            )
        )
        currency = business.get(s, "business")["currency"]
        return ClientOverview(
            id=client.id,
            version=client.version,
            kind=client.kind,
            name=client.name,
            company_name=client.company_name,
            status=client.status,
            notes=client.notes,
            tags=tags,
            custom_fields=dict(client.custom_fields or {}),
            created_at=client.created_at,
            anonymised=client.anonymised_at is not None,
            contacts=contacts,
            more_contacts=more_contacts,
            addresses=addresses,
            more_addresses=more_addresses,
            open_proposals=_open_proposals(s, client_id, today),
            open_proposal_count=int(open_proposal_count),
            jobs=_recent_jobs(s, client_id),
            job_count=int(job_count),
            invoices=_recent_invoices(s, client_id, today),
            invoice_count=int(invoice_count),
            open_invoice_count=int(open_count),
            balance_cents=int(balance),
            overdue_cents=int(overdue),
            credit_cents=int(credit or 0),
            currency=currency,
            activity=_activity(s, client_id, activity_limit),
        )


def _contacts(s: Session, client_id: int) -> tuple[tuple[ContactRow, ...], bool]:
    rows = s.execute(
        select(
            Contact.id, Contact.version, Contact.name, Contact.email, Contact.phone, Contact.role,
            Contact.is_primary, Contact.sms_consent, Contact.sms_opted_out_at,
        )
        .where(Contact.client_id == client_id)
        .order_by(Contact.id)
        .limit(CHILD_LIMIT + 1)
    ).all()
    out = tuple(
        ContactRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), bool(r[7]), r[8] is not None)
        for r in rows[:CHILD_LIMIT]
    )
    return out, len(rows) > CHILD_LIMIT


def _addresses(s: Session, client_id: int) -> tuple[tuple[AddressRow, ...], bool]:
    rows = s.execute(
        select(
            Address.id, Address.version, Address.kind, Address.label, Address.line1,
            Address.line2, Address.city, Address.region, Address.postal_code, Address.country,
            Address.validated_at,
        )
        .where(Address.client_id == client_id)
        .order_by(Address.id)
        .limit(CHILD_LIMIT + 1)
    ).all()
    out = tuple(AddressRow(*r[:10], validated=r[10] is not None) for r in rows[:CHILD_LIMIT])
    return out, len(rows) > CHILD_LIMIT


def _open_proposals(s: Session, client_id: int, today: dt.date) -> tuple[ProposalRow, ...]:
    rows = s.execute(
        select(
            Proposal.id, Proposal.number, Proposal.revision, Proposal.title, Proposal.status,
            Proposal.total_cents, Proposal.currency, Proposal.valid_until,
        )
        .where(Proposal.client_id == client_id, Proposal.status.in_(OPEN_PROPOSAL_STATUSES))
        .order_by(Proposal.id.desc())
        .limit(RECENT_LIMIT)
    ).all()
    return tuple(
        ProposalRow(
            *r,
            expired=r.status == "sent" and r.valid_until is not None and r.valid_until < today,
        )
        for r in rows
    )


def _recent_jobs(s: Session, client_id: int) -> tuple[JobRow, ...]:
    rows = s.execute(
        select(Job.id, Job.number, Job.title, Job.status, Job.total_cents, Job.currency)
        .where(Job.client_id == client_id)
        .order_by(Job.id.desc())
        .limit(RECENT_LIMIT)
    ).all()
    return tuple(JobRow(*r) for r in rows)


def _recent_invoices(s: Session, client_id: int, today: dt.date) -> tuple[InvoiceRow, ...]:
    rows = s.execute(
        select(
            Invoice.id, Invoice.number, Invoice.kind, Invoice.status, Invoice.issue_date,
            Invoice.due_date, Invoice.total_cents, Invoice.balance_cents, Invoice.currency,
        )
        .where(Invoice.client_id == client_id)
        .order_by(Invoice.id.desc())
        .limit(RECENT_LIMIT)
    ).all()
    out = []
    for r in rows:
        open_ = r.status in ("issued", "partially_paid") and r.balance_cents > 0
        late = (today - r.due_date).days if open_ and r.due_date and r.due_date < today else 0
        out.append(InvoiceRow(*r, days_overdue=late))
    return tuple(out)


def _activity(s: Session, client_id: int, limit: int) -> tuple[ActivityRow, ...]:
    if limit == 0:
        return ()
    rows = s.execute(
        select(AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.summary)
        .where(AuditEvent.client_id == client_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    ).all()
    return tuple(ActivityRow(*r) for r in rows)


def client_names(db: Database, client_ids: list[int]) -> dict[int, str]:
    """Names of a few clients by id (search results show whose contact or address matched)."""
    wanted = sorted(set(client_ids))[:MAX_ACTIVITY]
    if not wanted:
        return {}
    with db.read() as s:
        rows = s.execute(select(Client.id, Client.name).where(Client.id.in_(wanted))).all()
    return {r[0]: r[1] for r in rows}
