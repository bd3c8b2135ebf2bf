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
    UniqueConstraint,
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
    # optimistic concurrency like the Versioned records (migration 0005): core.business
    # refuses a save made from an older version; rows written without it start at 1
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's own protocol


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
        Index("ix_contacts_name_id", "name", "id"),  # contacts list sorted by name
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
    __table_args__ = (
        CheckConstraint("kind IN ('billing','service')", name="kind"),
        Index("ix_addresses_line1_id", "line1", "id"),  # properties list sorted by street
    )


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
        # list sorts (core.lists) and the conversion report's period (sent_at)
        Index("ix_proposals_created_at_id", "created_at", "id"),
        Index("ix_proposals_total_id", "total_cents", "id"),
        Index("ix_proposals_sent_at_id", "sent_at", "id"),
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
        Index("ix_jobs_title_id", "title", "id"),  # list sorts (core.lists)
        Index("ix_jobs_created_at_id", "created_at", "id"),
        Index("ix_jobs_total_id", "total_cents", "id"),  # jobs by amount (core.lists)
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
        Index("ix_visits_starts_at", "starts_at", "id"),  # id: keyset paging of the schedule
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
    __table_args__ = (Index("ix_service_logs_logged_on_id", "logged_on", "id"),)


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
        Index("ix_tasks_title_id", "title", "id"),  # tasks by title (core.lists)
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
        # status and total make it covering for the revenue report's accrual sums
        Index("ix_invoices_issue_date", "issue_date", "id", "status", "total_cents"),
        # list sorts (core.lists): number (= issue order), due date, total, balance
        Index("ix_invoices_issued_at_id", "issued_at", "id"),
        Index("ix_invoices_due_date_id", "due_date", "id"),
        Index("ix_invoices_total_id", "total_cents", "id"),
        Index("ix_invoices_balance_id", "balance_cents", "id"),
        # The aging report and "what is owed" read only open invoices. ``status`` is a
        # column too: without it SQLite (3.40) does not treat a partial index as covering
        # and reads every matching invoice row to re-check the WHERE.
        Index(
            "ix_invoices_open_due",
            "due_date",
            "client_id",
            "balance_cents",
            "status",
            sqlite_where=text("status IN ('issued','partially_paid')"),
            postgresql_where=text("status IN ('issued','partially_paid')"),
        ),
        Index(
            "ix_invoices_open_client",
            "client_id",
            "balance_cents",
            "due_date",
            "status",
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
        # id: keyset paging; amount and method: covering for the revenue report
        Index("ix_payments_received_on", "received_on", "id", "amount_cents", "method"),
        Index("ix_payments_amount_id", "amount_cents", "id"),
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


# --------------------------------------------------------------------------- integrations
# Added by migration 0003 (core.payment_links, core.messaging). New tables only: the tables
# the search triggers watch are never rebuilt.


class PaymentLink(Versioned, Base):
    """A single-use Stripe Payment Link asking for an invoice's balance.

    The row (with its deterministic ``idempotency_key``) is written before Stripe is called,
    so a crash between the call and saving its answer replays the same key: Stripe then
    returns the link it already made instead of a second one. creating → open → paid |
    expired (deactivated); failed when Stripe refused the request; conflict when Stripe
    collected money the invoice could no longer take (already paid or void): a person decides.
    """

    __tablename__ = "payment_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    idempotency_key: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    amount_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    description: Mapped[str] = mapped_column(String(300), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="creating")
    stripe_link_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    url: Mapped[str | None] = mapped_column(Text)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(Text, nullable=False, default="")
    __table_args__ = (
        CheckConstraint(
            "status IN ('creating','open','paid','expired','failed','conflict')", name="status"
        ),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        UniqueConstraint("invoice_id", "attempt", name="uq_payment_links_invoice_attempt"),
        Index("ix_payment_links_status_id", "status", "id"),
    )


class SmsMessage(Base):
    """One text message to a client: the per-client message log with delivery status.

    pending (saved, Twilio not answered yet) → a Twilio status (queued, sent, delivered,
    undelivered, failed, ...); ``not_sent`` when it certainly never left; ``unknown`` when
    Twilio's answer was lost (``sync`` looks it up; it is never re-sent blindly).
    """

    __tablename__ = "sms_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), nullable=False)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    to_phone: Mapped[str] = mapped_column(String(32), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    template: Mapped[str] = mapped_column(String(30), nullable=False, default="")
    related_type: Mapped[str] = mapped_column(String(20), nullable=False, default="client")
    related_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    actor: Mapped[str] = mapped_column(String(200), nullable=False, default="owner")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, nullable=False, default=utcnow, onupdate=utcnow
    )
    __table_args__ = (
        Index("ix_sms_messages_client_id", "client_id", "id"),
        Index("ix_sms_messages_status_id", "status", "id"),
    )


class VisitReminder(Base):
    """A visit reminder already sent (or on its way): each visit and template at most once."""

    __tablename__ = "visit_reminders"
    visit_id: Mapped[int] = mapped_column(
        ForeignKey("visits.id", ondelete="CASCADE"), primary_key=True
    )
    template: Mapped[str] = mapped_column(String(30), primary_key=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("sms_messages.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class SmsOptOut(Base):
    """A phone number (E.164) that must never be texted: it replied STOP (Twilio error 21610)
    or the owner opted it out."""

    __tablename__ = "sms_opt_outs"
    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    opted_out_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    source: Mapped[str] = mapped_column(String(20), nullable=False, default="manual")
