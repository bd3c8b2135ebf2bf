"""The client overview read model: everything the client detail screen shows, in one read.

One bounded SELECT (a consistent snapshot on both backends): the client with its counts,
tags, contacts, addresses, open proposals, recent proposals, jobs and invoices, the open
balance and the recent activity. Every list is LIMITed and every aggregate runs in SQL on an
index, so a client with 100,000 invoices costs the same as one with ten.

Decisions where the design is silent: "open" proposals are drafts and sent ones; a sent
proposal past its valid-until date is shown as expired (a draft is not: nobody has seen it).
Proposals (``proposals``), jobs and invoices are the most recent ones of any status
(``RECENT_LIMIT``), with the total count beside them. The balance is what open invoices
still ask for; overdue is the part of it whose due date is before ``today``.

Why it is built the way it is (bench/README.md has the figures): opening a client cost
24-60x what SQLite spent on the same SQL, nearly all of it SQLAlchemy's fixed cost per
statement and per read transaction. Eleven statements became one: the counts and sums are
scalar subqueries, and the seven lists come back as one JSON value, each list aggregated
over its own ordered, LIMITed, index-backed subquery. The statement is built and compiled
once per backend and sent with :meth:`Database.read_row` straight to the driver's cursor:
through a SQLAlchemy Connection one execute of it cost three times what SQLite needed to
answer (hashing the statement's cache key alone took 43 µs; connection, ``BEGIN`` and result
set-up 100 µs more). Parameters and column values go through the same SQLAlchemy type
processors an execute would use; the JSON lists are read here (ISO dates and times).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Integer,
    Select,
    bindparam,
    case,
    func,
    select,
    text,
    true,
    type_coerce,
)
from sqlalchemy.engine import Dialect

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
    Setting,
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
    # the latest proposals of any status (open_proposals above are drafts and sent ones)
    proposals: tuple[ProposalRow, ...] = ()
    proposal_count: int = 0


def _open_totals(client_id: Any, today: Any) -> Select[Any]:
    overdue = case((Invoice.due_date < today, Invoice.balance_cents), else_=0)
    return select(
        func.count(),
        func.coalesce(func.sum(Invoice.balance_cents), 0),
        func.coalesce(func.sum(overdue), 0),
    ).where(Invoice.client_id == client_id, OPEN_INVOICE_CONDITION)


def open_invoice_totals_query(client_id: int, today: dt.date) -> Select[Any]:
    """Count, balance and overdue balance of a client's open invoices (one index range)."""
    return _open_totals(client_id, today)


# --------------------------------------------------------------------------- the statement

_CID = bindparam("cid", type_=Integer)
_TODAY = bindparam("today", type_=Date)
_ACTIVITY_LIMIT = bindparam("activity_limit", type_=Integer)
# Literal, like OPEN_INVOICE_CONDITION: a bound IN list is an "expanding" parameter that
# SQLAlchemy renders into the SQL again on every execute.
_OPEN_PROPOSAL = text(
    "proposals.status IN (" + ",".join(f"'{s}'" for s in OPEN_PROPOSAL_STATUSES) + ")"
)


def _count(model: Any, *conditions: Any) -> Any:
    return (
        select(func.count())
        .select_from(model)
        .where(model.client_id == _CID, *conditions)
        .scalar_subquery()
    )


def _json_rows(
    dialect: str, columns: list[Any], where: list[Any], key: Any, descending: bool, limit: Any
) -> Any:
    """``SELECT columns WHERE where ORDER BY key LIMIT limit`` as one JSON array of arrays
    (an empty array, or null on PostgreSQL, when there are no rows)."""
    inner = (
        select(*columns)
        .where(*where)
        .order_by(key.desc() if descending else key)
        .limit(limit)
        .subquery()
    )
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        order = inner.c[key.key].desc() if descending else inner.c[key.key]
        agg = func.json_agg(aggregate_order_by(func.json_build_array(*inner.c), order))
    else:
        # SQLite 3.40 has no ORDER BY inside an aggregate: client_overview sorts these rows
        # itself rather than rely on the order the subquery feeds them in.
        agg = func.json_group_array(func.json_array(*inner.c))
    return select(agg).scalar_subquery()


def _build(dialect: str) -> Select[Any]:
    totals = _open_totals(_CID, _TODAY).subquery("open_totals")
    columns: list[Any] = [
        Client.id, Client.version, Client.kind, Client.name, Client.company_name,
        Client.status, Client.notes, Client.custom_fields, Client.created_at,
        Client.anonymised_at,
        _count(Proposal, _OPEN_PROPOSAL),
        _count(Proposal),
        _count(Job),
        _count(Invoice),
        *totals.c,
        select(func.coalesce(func.sum(ClientCredit.amount_cents), 0))
        .where(ClientCredit.client_id == _CID)
        .scalar_subquery(),
        select(Setting.value).where(Setting.key == "business").scalar_subquery(),
    ]
    lists = [
        _json_rows(dialect, [ClientTag.tag], [ClientTag.client_id == _CID],
                   ClientTag.tag, False, CHILD_LIMIT),
        _json_rows(
            dialect,
            [Contact.id, Contact.version, Contact.name, Contact.email, Contact.phone,
             Contact.role, Contact.is_primary, Contact.sms_consent,
             Contact.sms_opted_out_at.is_not(None)],
            [Contact.client_id == _CID], Contact.id, False, CHILD_LIMIT + 1,
        ),
        _json_rows(
            dialect,
            [Address.id, Address.version, Address.kind, Address.label, Address.line1,
             Address.line2, Address.city, Address.region, Address.postal_code,
             Address.country, Address.validated_at.is_not(None)],
            [Address.client_id == _CID], Address.id, False, CHILD_LIMIT + 1,
        ),
        _json_rows(
            dialect,
            [Proposal.id, Proposal.number, Proposal.revision, Proposal.title,
             Proposal.status, Proposal.total_cents, Proposal.currency,
             Proposal.valid_until],
            [Proposal.client_id == _CID, _OPEN_PROPOSAL], Proposal.id, True, RECENT_LIMIT,
        ),
        _json_rows(
            dialect,
            [Job.id, Job.number, Job.title, Job.status, Job.total_cents, Job.currency],
            [Job.client_id == _CID], Job.id, True, RECENT_LIMIT,
        ),
        _json_rows(
            dialect,
            [Invoice.id, Invoice.number, Invoice.kind, Invoice.status,
             Invoice.issue_date, Invoice.due_date, Invoice.total_cents,
             Invoice.balance_cents, Invoice.currency],
            [Invoice.client_id == _CID], Invoice.id, True, RECENT_LIMIT,
        ),
        _json_rows(
            dialect,
            [AuditEvent.id, AuditEvent.at, AuditEvent.actor, AuditEvent.action,
             AuditEvent.summary],
            [AuditEvent.client_id == _CID], AuditEvent.id, True, _ACTIVITY_LIMIT,
        ),
        _json_rows(
            dialect,
            [Proposal.id, Proposal.number, Proposal.revision, Proposal.title,
             Proposal.status, Proposal.total_cents, Proposal.currency,
             Proposal.valid_until],
            [Proposal.client_id == _CID], Proposal.id, True, RECENT_LIMIT,
        ),
    ]
    # all lists in one JSON value: one column to convert instead of eight
    if dialect == "postgresql":
        columns.append(type_coerce(func.json_build_array(*lists), JSON))
    else:  # json(): SQLite keeps a value's JSON-ness only within one expression
        columns.append(type_coerce(func.json_array(*(func.json(x) for x in lists)), JSON))
    return select(*columns).select_from(Client).join(totals, true()).where(Client.id == _CID)


Processor = Callable[[Any], Any]


class _Compiled:
    """The statement compiled for one dialect, with what turns values into parameters and
    database values into Python ones (the same type processors a SQLAlchemy execute runs)."""

    def __init__(
        self,
        sql: str,
        positions: tuple[str, ...] | None,  # parameter names in order; None: named ones
        constants: dict[str, Any],  # the statement's own parameters (limits...), processed
        inputs: dict[str, Processor | None],  # cid, today, activity_limit
        results: tuple[tuple[int, Processor], ...],  # (column index, processor) where needed
    ) -> None:
        self.sql = sql
        self.positions = positions
        self.constants = constants
        self.inputs = inputs
        self.results = results

    def parameters(self, values: dict[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        merged = dict(self.constants)
        for name, process in self.inputs.items():
            merged[name] = process(values[name]) if process else values[name]
        if self.positions is None:
            return merged
        return tuple(merged[name] for name in self.positions)


def _compile(dialect: Dialect) -> _Compiled:
    stmt = _build(dialect.name)
    compiled = stmt.compile(dialect=dialect)
    constants: dict[str, Any] = {}
    inputs: dict[str, Processor | None] = {}
    for bind, name in compiled.bind_names.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if name in ("cid", "today", "activity_limit"):
            inputs[name] = process
        else:
            constants[name] = process(bind.value) if process else bind.value
    results = []
    for index, col in enumerate(stmt.selected_columns):
        process = col.type.dialect_impl(dialect).result_processor(dialect, None)
        if process is not None:
            results.append((index, process))
    positions = tuple(compiled.positiontup) if compiled.positiontup is not None else None
    return _Compiled(compiled.string, positions, constants, inputs, tuple(results))


_compiled: dict[str, _Compiled] = {}


def _for(dialect: Dialect) -> _Compiled:
    found = _compiled.get(dialect.name)
    if found is None:
        found = _compiled[dialect.name] = _compile(dialect)
    return found


def overview_sql(
    db: Database, client_id: int, *, activity_limit: int = 20, today: dt.date | None = None
) -> tuple[str, Sequence[Any] | Mapping[str, Any]]:
    """The SQL text and driver parameters :func:`client_overview` sends for these arguments
    (bench.run replays exactly this on a plain sqlite3 connection)."""
    activity_limit = max(0, min(activity_limit, MAX_ACTIVITY))
    compiled = _for(db.engine.dialect)
    values = {"cid": client_id, "today": today or dt.date.today(), "activity_limit": activity_limit}
    return compiled.sql, compiled.parameters(values)


_DEFAULT_CURRENCY = business.DEFAULTS["business"]["currency"]
_date = dt.date.fromisoformat
_datetime = dt.datetime.fromisoformat


def client_overview(
    db: Database,
    client_id: int,
    *,
    activity_limit: int = 20,
    today: dt.date | None = None,
) -> ClientOverview:
    """Read one client's overview; raises :class:`NotFound` if the client does not exist."""
    today = today or dt.date.today()
    sql, parameters = overview_sql(db, client_id, activity_limit=activity_limit, today=today)
    found = db.read_row(sql, parameters)
    if found is None:
        raise NotFound("Client", client_id)
    row = list(found)
    for index, process in _for(db.engine.dialect).results:
        row[index] = process(row[index])
    (
        id_, version, kind, name, company_name, status, notes, custom_fields, created_at,
        anonymised_at, open_proposal_count, proposal_count, job_count, invoice_count,
        open_count, balance, overdue, credit, business_setting, lists,
    ) = row
    tags, contacts, addresses, proposals, jobs, invoices, activity, recent_proposals = (
        x or [] for x in lists)
    if db.is_sqlite:  # see _json_rows; BINARY collation is code point order, as sort() is
        tags.sort()
        for rows in (contacts, addresses):
            rows.sort(key=_first)
        for rows in (proposals, jobs, invoices, activity, recent_proposals):
            rows.sort(key=_first, reverse=True)
    return ClientOverview(
        id=id_,
        version=version,
        kind=kind,
        name=name,
        company_name=company_name,
        status=status,
        notes=notes,
        tags=tuple(t[0] for t in tags),
        custom_fields=dict(custom_fields or {}),
        created_at=created_at,
        anonymised=anonymised_at is not None,
        contacts=tuple(
            ContactRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), bool(r[7]), bool(r[8]))
            for r in contacts[:CHILD_LIMIT]
        ),
        more_contacts=len(contacts) > CHILD_LIMIT,
        addresses=tuple(
            AddressRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], bool(r[10]))
            for r in addresses[:CHILD_LIMIT]
        ),
        more_addresses=len(addresses) > CHILD_LIMIT,
        open_proposals=tuple(_proposal_row(r, today) for r in proposals),
        open_proposal_count=int(open_proposal_count),
        jobs=tuple(JobRow(r[0], r[1], r[2], r[3], r[4], r[5]) for r in jobs),
        job_count=int(job_count),
        invoices=tuple(_invoice_row(r, today) for r in invoices),
        invoice_count=int(invoice_count),
        open_invoice_count=int(open_count),
        balance_cents=int(balance),
        overdue_cents=int(overdue),
        credit_cents=int(credit or 0),
        currency=(business_setting or {}).get("currency", _DEFAULT_CURRENCY),
        activity=tuple(ActivityRow(_datetime(r[1]), r[2], r[3], r[4]) for r in activity),
        proposals=tuple(_proposal_row(r, today) for r in recent_proposals),
        proposal_count=int(proposal_count),
    )


def _first(row: list[Any]) -> Any:
    return row[0]


def _proposal_row(r: list[Any], today: dt.date) -> ProposalRow:
    valid_until = _date(r[7]) if r[7] is not None else None
    return ProposalRow(
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], valid_until,
        expired=r[4] == "sent" and valid_until is not None and valid_until < today,
    )


def _invoice_row(r: list[Any], today: dt.date) -> InvoiceRow:
    status, balance = r[3], r[7]
    issue_date = _date(r[4]) if r[4] is not None else None
    due = _date(r[5]) if r[5] is not None else None
    open_ = status in ("issued", "partially_paid") and balance > 0
    late = (today - due).days if open_ and due and due < today else 0
    return InvoiceRow(r[0], r[1], r[2], status, issue_date, due, r[6], balance, r[8],
                      days_overdue=late)


def client_names(db: Database, client_ids: list[int]) -> dict[int, str]:
    """Names of a few clients by id (search results show whose contact or address matched)."""
    wanted = sorted(set(client_ids))[:MAX_ACTIVITY]
    if not wanted:
        return {}
    with db.read() as s:
        rows = s.execute(select(Client.id, Client.name).where(Client.id.in_(wanted))).all()
    return {r[0]: r[1] for r in rows}
