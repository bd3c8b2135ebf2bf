"""The whitelist of the structured query language: entities, their fields (type, description,
how each is computed in SQL) and their one-hop relations (DESIGN section 6).

This module is the only place that decides what a query can reach. Internal tables
(settings, audit events, number sequences, the search index, alembic's version) and users'
internal fields have no entry, so no query can name them; :mod:`core.query.execute` denies
them again at the database on SQLite.

Derived fields reuse the definitions other code already uses:

* invoice ``days_overdue``/``overdue``: :func:`core.invoices.days_overdue` (an open invoice,
  issued or partially paid, with a balance, past its due date);
* proposal ``status``: :func:`core.proposals.effective_status` (a sent proposal past its
  valid-until date reads "expired");
* task ``overdue``: :func:`core.tasks.is_overdue` (open and due before today);
* client ``balance``/``email``/``phone``: :func:`core.lists.client_balance_expr` and the
  primary contact as :func:`core.lists.list_clients` picks it;
* job ``needs_invoice``: :func:`core.reports.jobs_to_invoice`;
* job ``next_visit``: the next scheduled visit from today on, as in :func:`core.lists.list_jobs`.

Decisions where the issue is silent: text ``eq`` is exact and case-sensitive while
``contains``/``startswith`` ignore case (ASCII case on SQLite); ``is_null`` on a text field
also matches an empty text (the app stores "no email" as ""); ``ne`` keeps rows where the
field is empty. Money is read and written as decimal strings in the business currency.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    func,
    not_,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from core.models import (
    Address,
    Client,
    ClientTag,
    Contact,
    Invoice,
    Job,
    JobLine,
    Payment,
    Proposal,
    ServiceLog,
    Task,
    User,
    Visit,
)

# --------------------------------------------------------------------------- types

TEXT, ENUM, INTEGER, MONEY, DATE, DATETIME, BOOLEAN, TAGS = (
    "text", "enum", "integer", "money", "date", "datetime", "boolean", "tags")

OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "contains", "startswith", "between",
             "is_null")
_ORDERED = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "between", "is_null")
OPS_BY_TYPE: dict[str, tuple[str, ...]] = {
    TEXT: ("eq", "ne", "in", "contains", "startswith", "is_null"),
    ENUM: ("eq", "ne", "in", "is_null"),
    INTEGER: _ORDERED,
    MONEY: _ORDERED,
    DATE: _ORDERED,
    DATETIME: _ORDERED,
    BOOLEAN: ("eq", "ne", "is_null"),
    TAGS: ("contains", "is_null"),
}
AGGREGATE_FUNCTIONS = ("count", "sum", "avg", "min", "max")
AGG_TYPES: dict[str, tuple[str, ...]] = {
    "sum": (INTEGER, MONEY),
    "avg": (INTEGER, MONEY),
    "min": (INTEGER, MONEY, DATE, DATETIME),
    "max": (INTEGER, MONEY, DATE, DATETIME),
}
BUCKETS = ("day", "week", "month", "year")
GROUPABLE = (TEXT, ENUM, INTEGER, BOOLEAN, DATE, DATETIME)
SORTABLE = (TEXT, ENUM, INTEGER, MONEY, DATE, DATETIME, BOOLEAN)

OPEN_INVOICE_STATUSES = ("issued", "partially_paid")


@dataclass
class Ctx:
    """What compiling one query needs besides the query: the backend and "today"."""

    dialect: str
    today: dt.date
    _today_param: BindParameter[dt.date] | None = None
    _today_start: BindParameter[dt.datetime] | None = None

    @property
    def today_param(self) -> BindParameter[dt.date]:
        """One parameter for every use of today in the statement."""
        if self._today_param is None:
            self._today_param = bindparam("today", self.today, type_=Date())
        return self._today_param

    @property
    def today_start(self) -> BindParameter[dt.datetime]:
        if self._today_start is None:
            self._today_start = bindparam("today_start",
                                          dt.datetime.combine(self.today, dt.time()),
                                          type_=DateTime())
        return self._today_start

    def days_between(self, later: Any, earlier: Any) -> ColumnElement[int]:
        """Whole days from ``earlier`` to ``later`` (two dates), on either backend."""
        if self.dialect == "postgresql":
            return type_coerce(later - earlier, Integer())
        return cast(func.julianday(later) - func.julianday(earlier), Integer())


Build = Callable[[Ctx, Any], ColumnElement[Any]]


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str
    description: str
    build: Build
    values: tuple[str, ...] = ()  # enum values
    nullable: bool = False
    # redaction: the kind of personal value ("Client", "Email", ...), or free text that may
    # contain personal values
    personal: str | None = None
    free_text: bool = False


@dataclass(frozen=True)
class Relation:
    """A one-hop relation: ``steps`` are the foreign keys walked from the entity's table
    (``(table, local column, remote column)``; visits reach their client through the job)."""

    name: str
    target: str
    description: str
    steps: tuple[tuple[Any, str, str], ...]


@dataclass(frozen=True)
class Entity:
    name: str
    table: Any
    description: str
    fields: dict[str, FieldDef]
    relations: dict[str, Relation] = field(default_factory=dict)
    default_fields: tuple[str, ...] = ()
    top_level: bool = True


# --------------------------------------------------------------------------- field helpers


def _col(name: str, type_: str, description: str, column: str | None = None,
         **kw: Any) -> FieldDef:
    column_name = column or name

    def build(ctx: Ctx, t: Any) -> ColumnElement[Any]:
        return t.c[column_name]  # type: ignore[no-any-return]

    return FieldDef(name, type_, description, build, **kw)


def _derived(name: str, type_: str, description: str, build: Build, **kw: Any) -> FieldDef:
    return FieldDef(name, type_, description, build, **kw)


def _fields(*defs: FieldDef) -> dict[str, FieldDef]:
    return {d.name: d for d in defs}


def _id(what: str) -> FieldDef:
    return _col("id", INTEGER, f"The {what}'s id (use it to refer to this {what})")


# --------------------------------------------------------------------------- derived fields


def _open_balance(open_only_past_due: bool) -> Build:
    def build(ctx: Ctx, t: Any) -> ColumnElement[Any]:
        inv = Invoice.__table__.alias()
        cond = [inv.c.client_id == t.c.id, inv.c.status.in_(OPEN_INVOICE_STATUSES)]
        if open_only_past_due:
            cond.append(inv.c.due_date < ctx.today_param)
        return (select(func.coalesce(func.sum(inv.c.balance_cents), 0))
                .where(*cond).scalar_subquery())
    return build


def _primary_contact(column: str) -> Build:
    def build(ctx: Ctx, t: Any) -> ColumnElement[Any]:
        c = Contact.__table__.alias()
        return (select(c.c[column]).where(c.c.client_id == t.c.id)
                .order_by(c.c.is_primary.desc(), c.c.id).limit(1).scalar_subquery())
    return build


def _tags(ctx: Ctx, t: Any) -> ColumnElement[Any]:
    tag = ClientTag.__table__.alias()
    # unit separator: a tag never contains it; the executor splits and sorts
    agg = (func.string_agg(tag.c.tag, "\x1f") if ctx.dialect == "postgresql"
           else func.group_concat(tag.c.tag, "\x1f"))
    return select(agg).where(tag.c.client_id == t.c.id).scalar_subquery()


def _has_tag(ctx: Ctx, t: Any, value: str) -> ColumnElement[bool]:
    tag = ClientTag.__table__.alias()
    return select(tag.c.client_id).where(tag.c.client_id == t.c.id, tag.c.tag == value).exists()


def _no_tags(ctx: Ctx, t: Any) -> ColumnElement[bool]:
    tag = ClientTag.__table__.alias()
    return not_(select(tag.c.client_id).where(tag.c.client_id == t.c.id).exists())


def _invoice_is_late(ctx: Ctx, t: Any) -> ColumnElement[bool]:
    return and_(t.c.status.in_(OPEN_INVOICE_STATUSES), t.c.balance_cents > 0,
                t.c.due_date.is_not(None), t.c.due_date < ctx.today_param)


def _days_overdue(ctx: Ctx, t: Any) -> ColumnElement[Any]:
    return case((_invoice_is_late(ctx, t), ctx.days_between(ctx.today_param, t.c.due_date)),
                else_=0)


def _invoice_overdue(ctx: Ctx, t: Any) -> ColumnElement[Any]:
    return type_coerce(case((_invoice_is_late(ctx, t), True), else_=False), Boolean())


def _proposal_status(ctx: Ctx, t: Any) -> ColumnElement[Any]:
    expired = and_(t.c.status == "sent", t.c.valid_until.is_not(None),
                   t.c.valid_until < ctx.today_param)
    return case((expired, "expired"), else_=t.c.status)


def _task_overdue(ctx: Ctx, t: Any) -> ColumnElement[Any]:
    late = and_(t.c.status == "open", t.c.due_date.is_not(None), t.c.due_date < ctx.today_param)
    return type_coerce(case((late, True), else_=False), Boolean())


def _is_set(column: str) -> Build:
    def build(ctx: Ctx, t: Any) -> ColumnElement[Any]:
        return type_coerce(case((t.c[column].is_not(None), True), else_=False), Boolean())
    return build


def _needs_invoice(ctx: Ctx, t: Any) -> ColumnElement[Any]:
    """core.reports.jobs_to_invoice: not cancelled or on hold, and either billed per job,
    completed, with a job line on no invoice, or billed per visit with a completed visit on
    no invoice."""
    line = JobLine.__table__.alias()
    visit = Visit.__table__.alias()
    # EXISTS over a named column: a bare exists() selects *, reading columns of job_lines
    # that queries may not read
    line_open = (select(line.c.job_id)
                 .where(line.c.job_id == t.c.id, line.c.invoice_id.is_(None)).exists())
    visit_open = (select(visit.c.job_id)
                  .where(visit.c.job_id == t.c.id, visit.c.status == "completed",
                         visit.c.invoice_id.is_(None)).exists())
    cond = and_(
        t.c.status.not_in(("cancelled", "on_hold")),
        or_(and_(t.c.billing == "per_job", t.c.status == "completed", line_open),
            and_(t.c.billing == "per_visit", visit_open)),
    )
    return type_coerce(case((cond, True), else_=False), Boolean())


def _next_visit(ctx: Ctx, t: Any) -> ColumnElement[Any]:
    visit = Visit.__table__.alias()
    return (select(func.min(visit.c.starts_at))
            .where(visit.c.job_id == t.c.id, visit.c.status == "scheduled",
                   visit.c.starts_at >= ctx.today_start)
            .scalar_subquery())


def _net_payment(ctx: Ctx, t: Any) -> ColumnElement[Any]:
    return t.c.amount_cents - t.c.refunded_cents  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- entities

def _rel(name: str, target: str, description: str, *steps: tuple[Any, str, str]) -> Relation:
    return Relation(name, target, description, tuple(steps))


def _to_client(description: str = "The client") -> Relation:
    return _rel("client", "clients", description, (Client.__table__, "client_id", "id"))


CLIENT_STATUSES = ("lead", "active", "archived")
INVOICE_STATUSES = ("draft", "issued", "partially_paid", "paid", "void")
PROPOSAL_STATUSES = ("draft", "sent", "approved", "declined", "expired")
JOB_STATUSES = ("unscheduled", "scheduled", "in_progress", "completed", "invoiced", "cancelled",
                "on_hold")
VISIT_STATUSES = ("scheduled", "in_progress", "completed", "cancelled")
PAYMENT_METHODS = ("cash", "check", "bank", "card", "stripe", "credit")

_ENTITIES: list[Entity] = [
    Entity(
        "clients", Client.__table__,
        "People and companies the business works for.",
        _fields(
            _id("client"),
            _col("name", TEXT, "Display name (a person or a company)", personal="Client"),
            _col("company_name", TEXT, "Company name; empty for a person", personal="Client"),
            _col("kind", ENUM, "Person or company", values=("person", "company")),
            _col("status", ENUM, "lead (a prospect), active, or archived", values=CLIENT_STATUSES),
            _derived("email", TEXT, "The primary contact's email", _primary_contact("email"),
                     nullable=True, personal="Email"),
            _derived("phone", TEXT, "The primary contact's phone number (E.164, e.g. +12175550101)",
                     _primary_contact("phone"), nullable=True, personal="Phone"),
            _derived("balance", MONEY,
                     "What the client owes now: the balances of their open (issued or partially "
                     "paid) invoices", _open_balance(False)),
            _derived("overdue_balance", MONEY,
                     "The part of balance on open invoices already past their due date",
                     _open_balance(True)),
            _derived("tags", TAGS, "The client's tags, e.g. vip or commercial (lowercase)", _tags),
            _col("notes", TEXT, "Free-text notes about the client", free_text=True),
            _col("created_at", DATETIME, "When the client was added"),
        ),
        default_fields=("id", "name", "status", "email", "phone", "balance"),
    ),
    Entity(
        "contacts", Contact.__table__,
        "People to talk to at a client (a client may have several).",
        _fields(
            _id("contact"),
            _col("name", TEXT, "The contact's name", personal="Contact"),
            _col("email", TEXT, "Email address", personal="Email"),
            _col("phone", TEXT, "Phone number (E.164, e.g. +12175550101)", personal="Phone"),
            _col("role", TEXT, "Role at the client, e.g. Owner or Accounts payable"),
            _col("is_primary", BOOLEAN, "The client's primary contact"),
            _col("sms_consent", BOOLEAN, "Agreed to receive text messages"),
            _derived("sms_opted_out", BOOLEAN, "Replied STOP: never text them",
                     _is_set("sms_opted_out_at")),
        ),
        {"client": _to_client("The client this contact belongs to")},
        default_fields=("id", "client.name", "name", "email", "phone", "role"),
    ),
    Entity(
        "addresses", Address.__table__,
        "Clients' billing addresses and service properties.",
        _fields(
            _id("address"),
            _col("kind", ENUM, "billing or service (a property where work is done)",
                 values=("billing", "service")),
            _col("label", TEXT, "A name for the property, e.g. Home or Rental"),
            _col("line1", TEXT, "Street address", personal="Address"),
            _col("line2", TEXT, "Apartment, suite, unit", personal="Address"),
            _col("city", TEXT, "City"),
            _col("region", TEXT, "State or region, e.g. IL"),
            _col("postal_code", TEXT, "ZIP or postal code"),
            _col("country", TEXT, "Two-letter country code, e.g. US"),
            _derived("validated", BOOLEAN, "Checked against USPS", _is_set("validated_at")),
        ),
        {"client": _to_client("The client this address belongs to")},
        default_fields=("id", "client.name", "kind", "label", "line1", "city", "region",
                        "postal_code"),
    ),
    Entity(
        "proposals", Proposal.__table__,
        "Quotes sent to clients; an approved proposal becomes a job.",
        _fields(
            _id("proposal"),
            _col("number", TEXT, "Proposal number, e.g. PRO-2026-0007 (a draft has none)",
                 nullable=True),
            _col("title", TEXT, "What the proposal is for", free_text=True),
            _derived("status", ENUM,
                     "draft, sent (waiting for an answer), approved, declined, or expired (sent "
                     "and past its valid-until date without an answer)", _proposal_status,
                     values=PROPOSAL_STATUSES),
            _col("revision", INTEGER, "Revision number (goes up when the client asks for changes)"),
            _col("total", MONEY, "Total including tax, after discount", "total_cents"),
            _col("subtotal", MONEY, "Sum of the lines before discount and tax", "subtotal_cents"),
            _col("tax", MONEY, "Tax", "tax_cents"),
            _col("discount", MONEY, "Discount", "discount_cents"),
            _col("valid_until", DATE, "The client must answer by this date", nullable=True),
            _col("sent_at", DATETIME, "When it was last sent", nullable=True),
            _col("decided_at", DATETIME, "When the client approved or declined", nullable=True),
            _derived("converted", BOOLEAN, "Approved and turned into a job", _is_set("job_id")),
            _col("created_at", DATETIME, "When it was created"),
        ),
        {"client": _to_client(),
         "job": _rel("job", "jobs", "The job it became", (Job.__table__, "job_id", "id"))},
        default_fields=("id", "number", "client.name", "title", "status", "total",
                        "valid_until"),
    ),
    Entity(
        "jobs", Job.__table__,
        "Work for a client at a property, one-off or recurring, done in visits.",
        _fields(
            _id("job"),
            _col("number", TEXT, "Job number, e.g. JOB-0012"),
            _col("title", TEXT, "What the job is", free_text=True),
            _col("status", ENUM, "Where the job stands", values=JOB_STATUSES),
            _col("billing", ENUM, "per_job (one invoice when done) or per_visit",
                 values=("per_job", "per_visit")),
            _col("recurrence", ENUM, "none for a one-off job, else how visits repeat",
                 values=("none", "weekly", "every_n_weeks", "monthly")),
            _col("total", MONEY, "The job's price (for a per-visit job: the price of one visit)",
                 "total_cents"),
            _derived("needs_invoice", BOOLEAN,
                     "Work done but not billed: a completed per-job job with lines on no "
                     "invoice, or a per-visit job with completed visits on no invoice (cancelled "
                     "and on-hold jobs excluded)", _needs_invoice),
            _derived("next_visit", DATETIME, "Start of the next scheduled visit from today on",
                     _next_visit, nullable=True),
            _col("created_at", DATETIME, "When the job was created"),
        ),
        {"client": _to_client(),
         "address": _rel("address", "addresses", "The property where the work is done",
                         (Address.__table__, "address_id", "id")),
         "proposal": _rel("proposal", "proposals", "The proposal it came from",
                          (Proposal.__table__, "proposal_id", "id"))},
        default_fields=("id", "number", "client.name", "title", "status", "total"),
    ),
    Entity(
        "visits", Visit.__table__,
        "Scheduled appointments of a job (the schedule). Times are local wall-clock time.",
        _fields(
            _id("visit"),
            _col("starts_at", DATETIME, "Scheduled start"),
            _col("ends_at", DATETIME, "Scheduled end"),
            _col("status", ENUM, "Where the visit stands", values=VISIT_STATUSES),
            _col("completed_at", DATETIME, "When it was marked completed", nullable=True),
            _derived("invoiced", BOOLEAN, "Billed on an invoice (per-visit jobs)",
                     _is_set("invoice_id")),
        ),
        {"job": _rel("job", "jobs", "The job this visit belongs to",
                     (Job.__table__, "job_id", "id")),
         "client": _rel("client", "clients", "The job's client",
                        (Job.__table__, "job_id", "id"), (Client.__table__, "client_id", "id")),
         "assignee": _rel("assignee", "staff", "The staff member assigned",
                          (User.__table__, "assignee_id", "id"))},
        default_fields=("id", "starts_at", "ends_at", "status", "job.number", "client.name",
                        "assignee.name"),
    ),
    Entity(
        "service_logs", ServiceLog.__table__,
        "What happened at a visit: time spent, notes, materials, technician.",
        _fields(
            _id("service log"),
            _col("logged_on", DATE, "The day of the work"),
            _col("minutes_spent", INTEGER, "Minutes of work"),
            _col("notes", TEXT, "What was done", free_text=True),
            _col("materials", TEXT, "Materials used", free_text=True),
        ),
        {"client": _to_client(),
         "job": _rel("job", "jobs", "The job", (Job.__table__, "job_id", "id")),
         "technician": _rel("technician", "staff", "Who did the work",
                            (User.__table__, "technician_id", "id"))},
        default_fields=("id", "logged_on", "client.name", "job.number", "technician.name",
                        "minutes_spent"),
    ),
    Entity(
        "tasks", Task.__table__,
        "To-dos with a due date, priority and assignee.",
        _fields(
            _id("task"),
            _col("title", TEXT, "What to do", free_text=True),
            _col("notes", TEXT, "Details", free_text=True),
            _col("due_date", DATE, "When it is due", nullable=True),
            _col("priority", ENUM, "Priority", values=("low", "normal", "high")),
            _col("status", ENUM, "open or done", values=("open", "done")),
            _derived("overdue", BOOLEAN, "Open and due before today", _task_overdue),
            _col("completed_at", DATETIME, "When it was done", nullable=True),
            _col("linked_type", ENUM, "Kind of record the task is about", nullable=True,
                 values=("client", "contact", "proposal", "job", "visit", "invoice")),
            _col("linked_id", INTEGER, "Id of the record the task is about", nullable=True),
        ),
        {"client": _to_client("The client the task is about"),
         "assignee": _rel("assignee", "staff", "Who should do it",
                          (User.__table__, "assignee_id", "id"))},
        default_fields=("id", "title", "due_date", "priority", "status", "assignee.name",
                        "client.name"),
    ),
    Entity(
        "invoices", Invoice.__table__,
        "Bills sent to clients. A draft has no number; issued → partially_paid → paid; void "
        "only through a credit note.",
        _fields(
            _id("invoice"),
            _col("number", TEXT, "Invoice number, e.g. INV-0042 (a draft has none)",
                 nullable=True),
            _col("kind", ENUM, "standard, or deposit (asked before the work)",
                 values=("standard", "deposit")),
            _col("status", ENUM, "draft, issued (nothing paid yet), partially_paid, paid, void",
                 values=INVOICE_STATUSES),
            _col("issue_date", DATE, "The day it was issued", nullable=True),
            _col("due_date", DATE, "Payment is due by this day", nullable=True),
            _col("total", MONEY, "Total including tax, after discount", "total_cents"),
            _col("subtotal", MONEY, "Sum of the lines before discount and tax", "subtotal_cents"),
            _col("tax", MONEY, "Tax", "tax_cents"),
            _col("discount", MONEY, "Discount", "discount_cents"),
            _col("paid", MONEY, "Paid so far, net of refunds", "paid_cents"),
            _col("credited", MONEY, "Reduced by credit notes", "credited_cents"),
            _col("balance", MONEY, "Still owed: total - paid - credited (0 for a draft)",
                 "balance_cents"),
            _derived("days_overdue", INTEGER,
                     "Days past the due date for an open invoice with a balance; 0 otherwise",
                     _days_overdue),
            _derived("overdue", BOOLEAN, "Open, with a balance, and past its due date",
                     _invoice_overdue),
            _col("terms_days", INTEGER, "Payment terms in days (net N)"),
            _col("paid_at", DATETIME, "When it became fully paid", nullable=True),
            _col("notes", TEXT, "Notes printed on the invoice", free_text=True),
        ),
        {"client": _to_client(),
         "job": _rel("job", "jobs", "The job it bills", (Job.__table__, "job_id", "id"))},
        default_fields=("id", "number", "client.name", "status", "issue_date", "due_date",
                        "total", "balance"),
    ),
    Entity(
        "payments", Payment.__table__,
        "Money received against invoices. Cash-basis revenue is the sum of net over payments "
        "whose method is not credit (credit re-uses money received earlier).",
        _fields(
            _id("payment"),
            _col("amount", MONEY, "Amount applied to the invoice", "amount_cents"),
            _col("refunded", MONEY, "Refunded from this payment", "refunded_cents"),
            _derived("net", MONEY, "amount - refunded", _net_payment),
            _col("method", ENUM, "How it was paid (credit: from the client's credit balance)",
                 values=PAYMENT_METHODS),
            _col("received_on", DATE, "The day the money arrived"),
            _col("reference", TEXT, "Check number, card hint or other reference", free_text=True),
        ),
        {"client": _to_client(),
         "invoice": _rel("invoice", "invoices", "The invoice it paid",
                         (Invoice.__table__, "invoice_id", "id"))},
        default_fields=("id", "received_on", "client.name", "invoice.number", "amount", "method"),
    ),
    Entity(
        "staff", User.__table__,
        "Staff members (only their name can be read).",
        _fields(
            _col("id", INTEGER, "The staff member's id"),
            _col("name", TEXT, "Name", personal="Staff"),
        ),
        default_fields=("id", "name"),
        top_level=False,
    ),
]

ENTITIES: dict[str, Entity] = {e.name: e for e in _ENTITIES}
TOP_LEVEL = tuple(e.name for e in _ENTITIES if e.top_level)

# Tables and columns a query may read: everything the fields above use, and nothing else
# (users: id and name only). The SQLite authorizer in core.query.execute enforces it.
READABLE: dict[str, frozenset[str] | None] = {
    "clients": None, "client_tags": None, "contacts": None, "addresses": None,
    "proposals": None, "jobs": None, "job_lines": frozenset({"job_id", "invoice_id"}),
    "visits": None, "service_logs": None, "tasks": None, "invoices": None, "payments": None,
    "users": frozenset({"id", "name"}),
}


def tag_condition(ctx: Ctx, t: Any, value: str | None) -> ColumnElement[bool]:
    """A client has the tag ``value`` (or, for None, no tag at all)."""
    return _no_tags(ctx, t) if value is None else _has_tag(ctx, t, value)
