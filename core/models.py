"""SQLAlchemy models for every entity of the CRM (DESIGN section 1).

Money columns are integer cents (``*_cents``); quantities and tax rates are exact decimals
stored as text (:class:`DecimalText`), never floats. Editable records carry a ``version``
column used for optimistic concurrency (SQLAlchemy's ``version_id_col``: an UPDATE of a stale
row matches nothing and fails). Timestamps are naive UTC; visit times are the business's
local wall-clock time. Constraint names come from :data:`NAMING_CONVENTION` so migrations can
always drop them, SQLite included.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


class DecimalText(TypeDecorator[Decimal]):
    """An exact decimal stored as text, so SQLite never turns it into a float."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("floats are not accepted for exact decimal columns")
        return str(Decimal(value))

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value)


class JSONText(TypeDecorator[Any]):
    """JSON stored as text (portable; the data is small and never queried inside)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Versioned:
    """Mixin: an integer version bumped on every UPDATE (optimistic concurrency)."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, nullable=False, default=utcnow, onupdate=utcnow
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- staff & settings


class User(Versioned, Base):
    """A staff member. Roles: owner, admin, office, technician."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(20), nullable=False, default="technician")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    __table_args__ = (
        CheckConstraint("role IN ('owner','admin','office','technician')", name="role"),
    )


class Setting(Base):
    """One business setting (profile, numbering patterns, defaults) as a JSON value."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONText, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, nullable=False, default=utcnow, onupdate=utcnow
    )


class NumberSequence(Base):
    """The next number per document type and scope (the year, for patterns with ``{year}``)."""

    __tablename__ = "number_sequences"
    doc_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    scope: Mapped[str] = mapped_column(String(20), primary_key=True, default="")
    next_value: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(40), nullable=False)
    entity_id: Mapped[int | None] = mapped_column(Integer)
    client_id: Mapped[int | None] = mapped_column(Integer, index=True)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    before: Mapped[Any | None] = mapped_column(JSONText, nullable=True)
    after: Mapped[Any | None] = mapped_column(JSONText, nullable=True)
    __table_args__ = (Index("ix_audit_events_entity", "entity_type", "entity_id"),)


# --------------------------------------------------------------------------- catalogue


class TaxRate(Versioned, Base):
    __tablename__ = "tax_rates"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    rate: Mapped[Decimal] = mapped_column(DecimalText, nullable=False)  # percent, e.g. 8.875
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class PriceBookItem(Versioned, Base):
    __tablename__ = "price_book_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    unit: Mapped[str] = mapped_column(String(30), nullable=False, default="each")
    unit_price_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    tax_rate_id: Mapped[int | None] = mapped_column(ForeignKey("tax_rates.id"))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    __table_args__ = (Index("ix_price_book_items_name", "name"),)


# --------------------------------------------------------------------------- clients


class Client(Versioned, Base):
    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="person")
    name: Mapped[str] = mapped_column(String(300), nullable=False)  # display name
    # casefolded name: lists sort the way people read (Apple, banana, Cherry), on any backend
    sort_name: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    company_name: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="active")
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    custom_fields: Mapped[dict[str, str]] = mapped_column(JSONText, nullable=False, default=dict)
    anonymised_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="client", order_by="Contact.id", cascade="all, delete-orphan"
    )
    addresses: Mapped[list[Address]] = relationship(
        back_populates="client", order_by="Address.id", cascade="all, delete-orphan"
    )
    tags: Mapped[list[ClientTag]] = relationship(
        order_by="ClientTag.tag", cascade="all, delete-orphan"
    )
    __table_args__ = (
        CheckConstraint("kind IN ('person','company')", name="kind"),
        CheckConstraint("status IN ('lead','active','archived')", name="status"),
        Index("ix_clients_sort_name_id", "sort_name", "id"),
        Index("ix_clients_status_sort_name_id", "status", "sort_name", "id"),
        Index("ix_clients_created_at_id", "created_at", "id"),
    )


class ClientTag(Base):
    __tablename__ = "client_tags"
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(60), primary_key=True)
    __table_args__ = (Index("ix_client_tags_tag", "tag", "client_id"),)


class Contact(Versioned, Base):
    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    email: Mapped[str] = mapped_column(String(320), nullable=False, default="")
    phone: Mapped[str] = mapped_column(String(32), nullable=False, default="")  # E.164
    phone_national: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    role: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    sms_consent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    sms_opted_out_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    client: Mapped[Client] = relationship(back_populates="contacts")
    __table_args__ = (
        Index("ix_contacts_email", "email"),
        Index("ix_contacts_phone", "phone"),
    )


class Address(Versioned, Base):
    """A billing address or a service property of a client."""

    __tablename__ = "addresses"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="service")
    label: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    line1: Mapped[str] = mapped_column(String(300), nullable=False)
    line2: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    city: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    region: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    postal_code: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    country: Mapped[str] = mapped_column(String(2), nullable=False, default="US")
    validated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    client: Mapped[Client] = relationship(back_populates="addresses")
    __table_args__ = (CheckConstraint("kind IN ('billing','service')", name="kind"),)


# --------------------------------------------------------------------------- documents


class DocumentTotalsMixin:
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="USD")
    rounding_rule: Mapped[str] = mapped_column(
        String(30), nullable=False, default="half_up_per_line"
    )
    discount_kind: Mapped[str] = mapped_column(String(10), nullable=False, default="none")
    discount_value: Mapped[Decimal] = mapped_column(DecimalText, nullable=False, default=Decimal(0))
    subtotal_cents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    discount_cents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    tax_cents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total_cents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class LineMixin:
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    price_book_item_id: Mapped[int | None] = mapped_column(ForeignKey("price_book_items.id"))
    description: Mapped[str] = mapped_column(Text, nullable=False)
    quantity: Mapped[Decimal] = mapped_column(DecimalText, nullable=False, default=Decimal(1))
    unit_price_cents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    tax_rate_id: Mapped[int | None] = mapped_column(ForeignKey("tax_rates.id"))
    tax_rate: Mapped[Decimal] = mapped_column(DecimalText, nullable=False, default=Decimal(0))
    discount_kind: Mapped[str] = mapped_column(String(10), nullable=False, default="none")
    discount_value: Mapped[Decimal] = mapped_column(DecimalText, nullable=False, default=Decimal(0))
    subtotal_cents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    discount_cents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    tax_cents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total_cents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Proposal(Versioned, DocumentTotalsMixin, Base):
    """A quote. draft → sent → approved / declined; changes requested → draft (new revision)."""

    __tablename__ = "proposals"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), nullable=False)
    address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id"))
    title: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="draft")
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    terms: Mapped[str] = mapped_column(Text, nullable=False, default="")
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    deposit_kind: Mapped[str] = mapped_column(String(10), nullable=False, default="none")
    deposit_value: Mapped[Decimal] = mapped_column(DecimalText, nullable=False, default=Decimal(0))
    changes_requested: Mapped[str] = mapped_column(Text, nullable=False, default="")
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    job_id: Mapped[int | None] = mapped_column(Integer)  # set on conversion
    lines: Mapped[list[ProposalLine]] = relationship(
        order_by="ProposalLine.position", cascade="all, delete-orphan"
    )
    __table_args__ = (
        CheckConstraint("status IN ('draft','sent','approved','declined')", name="status"),
        Index("ix_proposals_client_id", "client_id", "id"),
        Index("ix_proposals_status_id", "status", "id"),
    )


class ProposalLine(LineMixin, Base):
    __tablename__ = "proposal_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False, index=True
    )


class Job(Versioned, DocumentTotalsMixin, Base):
    """Work at a property. Recurring jobs generate visits from their rule."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), nullable=False)
    address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="unscheduled")
    held_from: Mapped[str | None] = mapped_column(String(20))  # status before on_hold
    billing: Mapped[str] = mapped_column(String(10), nullable=False, default="per_job")
    # recurrence: none | weekly | every_n_weeks | monthly
    recurrence: Mapped[str] = mapped_column(String(20), nullable=False, default="none")
    recurrence_interval: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    recurrence_until: Mapped[dt.date | None] = mapped_column(Date)
    recurrence_count: Mapped[int | None] = mapped_column(Integer)
    lines: Mapped[list[JobLine]] = relationship(
        order_by="JobLine.position", cascade="all, delete-orphan"
    )
    visits: Mapped[list[Visit]] = relationship(
        order_by="Visit.starts_at", cascade="all, delete-orphan", back_populates="job"
    )
    __table_args__ = (
        CheckConstraint(
            "status IN ('unscheduled','scheduled','in_progress','completed','invoiced',"
            "'cancelled','on_hold')",
            name="status",
        ),
        CheckConstraint("billing IN ('per_job','per_visit')", name="billing"),
        Index("ix_jobs_client_id", "client_id", "id"),
        Index("ix_jobs_status_id", "status", "id"),
    )


class JobLine(LineMixin, Base):
    __tablename__ = "job_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))  # per_job billing


class Visit(Versioned, Base):
    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False)
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    ends_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="scheduled")
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))  # per_visit
    job: Mapped[Job] = relationship(back_populates="visits")
    __table_args__ = (
        CheckConstraint(
            "status IN ('scheduled','in_progress','completed','cancelled')", name="status"
        ),
        CheckConstraint("ends_at >= starts_at", name="ends_after_start"),
        Index("ix_visits_job_id", "job_id", "starts_at"),
        Index("ix_visits_starts_at", "starts_at"),
    )


class ServiceLog(Versioned, Base):
    """What happened at a visit."""

    __tablename__ = "service_logs"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), nullable=False, index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), nullable=False, index=True)
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    minutes_spent: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    materials: Mapped[str] = mapped_column(Text, nullable=False, default="")
    logged_on: Mapped[dt.date] = mapped_column(Date, nullable=False)


class Task(Versioned, Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    priority: Mapped[str] = mapped_column(String(10), nullable=False, default="normal")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    linked_type: Mapped[str | None] = mapped_column(String(20))
    linked_id: Mapped[int | None] = mapped_column(Integer)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    __table_args__ = (
        CheckConstraint("status IN ('open','done')", name="status"),
        CheckConstraint("priority IN ('low','normal','high')", name="priority"),
        Index("ix_tasks_status_due", "status", "due_date", "id"),
    )


class Invoice(Versioned, DocumentTotalsMixin, Base):
    """draft (no number) → issued → partially_paid → paid; void only via a credit note."""

    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="standard")
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), nullable=False)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="draft")
    issue_date: Mapped[dt.date | None] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    terms_days: Mapped[int] = mapped_column(Integer, nullable=False, default=30)
    terms: Mapped[str] = mapped_column(Text, nullable=False, default="")
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    paid_cents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # net of refunds
    credited_cents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    balance_cents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    issued_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    paid_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    lines: Mapped[list[InvoiceLine]] = relationship(
        order_by="InvoiceLine.position", cascade="all, delete-orphan"
    )
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft','issued','partially_paid','paid','void')", name="status"
        ),
        CheckConstraint("kind IN ('standard','deposit')", name="kind"),
        CheckConstraint("balance_cents >= 0", name="balance_not_negative"),
        Index("ix_invoices_client_id", "client_id", "id"),
        Index("ix_invoices_status_id", "status", "id"),
        Index("ix_invoices_issue_date", "issue_date", "id"),
        # The aging report and "what is owed" read only open invoices.
        Index(
            "ix_invoices_open_due",
            "due_date",
            "client_id",
            "balance_cents",
            sqlite_where=text("status IN ('issued','partially_paid')"),
            postgresql_where=text("status IN ('issued','partially_paid')"),
        ),
        Index(
            "ix_invoices_open_client",
            "client_id",
            "balance_cents",
            sqlite_where=text("status IN ('issued','partially_paid')"),
            postgresql_where=text("status IN ('issued','partially_paid')"),
        ),
    )


class InvoiceLine(LineMixin, Base):
    __tablename__ = "invoice_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False, index=True
    )
    job_line_id: Mapped[int | None] = mapped_column(ForeignKey("job_lines.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))


class Payment(Base):
    """Money received. ``amount_cents`` is what was applied to the invoice; an overpayment
    recorded as credit adds a :class:`ClientCredit` for the excess."""

    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), nullable=False, index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), nullable=False, index=True)
    amount_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    refunded_cents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    received_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    reference: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    stripe_session_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    stripe_payment_intent: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    __table_args__ = (
        CheckConstraint("method IN ('cash','check','bank','card','stripe','credit')", name="method"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("refunded_cents >= 0 AND refunded_cents <= amount_cents", name="refund_le"),
        Index("ix_payments_received_on", "received_on"),
    )


class Refund(Base):
    __tablename__ = "refunds"
    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), nullable=False, index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), nullable=False, index=True)
    amount_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    refunded_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)


class CreditNote(Base):
    """Reduces what an invoice asks for; a credit note for the whole open amount voids it."""

    __tablename__ = "credit_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), nullable=False, index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), nullable=False, index=True)
    amount_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    voids_invoice: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    issued_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)


class ClientCredit(Base):
    """A client's credit ledger: + overpayments recorded as credit, − credit applied."""

    __tablename__ = "client_credits"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), nullable=False, index=True)
    amount_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
