"""The reports screen's figures, each computed by aggregate queries in the database (rows
are summed where they live, never loaded into Python to be added up).

- :func:`revenue_by_month` — cash basis (money received minus refunds paid out, by the
  month it moved) next to accrual (totals of invoices issued, minus credit notes, by month).
- :func:`aged_receivables` — open invoices' balances by days past due, per client.
- :func:`proposal_conversion` — what became of the proposals sent in a period.
- :func:`jobs_to_invoice` — finished work that has not been billed yet.

Decisions where the brief is silent are in each function's docstring.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from sqlalchemy import (
    Date,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
)

from core.db import Database
from core.errors import ValidationError
from core.lists import OPEN_INVOICE_SQL
from core.models import (
    Client,
    ClientCredit,
    CreditNote,
    Invoice,
    Job,
    JobLine,
    Payment,
    Proposal,
    Refund,
    Visit,
)

MAX_MONTHS = 600


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    out = []
    month = first.replace(day=1)
    while month <= last:
        out.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return out


def _check_range(start: dt.date, end: dt.date) -> None:
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise ValidationError("start", "the period needs a start and an end date")
    if end < start:
        raise ValidationError("end", "is before the start of the period")


# --------------------------------------------------------------------------- revenue


@dataclass(frozen=True)
class MonthRevenue:
    month: dt.date  # the first day of the calendar month
    received_cents: int  # cash in: payments received (see revenue_by_month)
    refunded_cents: int  # cash out: refunds paid
    invoiced_cents: int  # accrual: totals of invoices issued in the month
    credited_cents: int  # accrual: credit notes issued in the month

    @property
    def net_cents(self) -> int:
        """Cash-basis revenue."""
        return self.received_cents - self.refunded_cents

    @property
    def net_invoiced_cents(self) -> int:
        """Accrual-basis revenue."""
        return self.invoiced_cents - self.credited_cents


def revenue_by_month(db: Database, start: dt.date, end: dt.date) -> list[MonthRevenue]:
    """Revenue per calendar month for every month from ``start``'s to ``end``'s (whole
    months; a month without money appears with zeros).

    Cash basis: payments by the date received, minus refunds by the date refunded. A
    payment made from the client's credit balance (method ``credit``) is not new money:
    the cash arrived earlier as an overpayment, which counts in the month that payment was
    received (the positive ``client_credits`` entry of that payment). Refunds of
    credit-funded payments go back to the credit balance, not out of the till, so neither
    they nor the credit they give back count.

    Accrual, alongside: totals of invoices issued in the month (every status but draft,
    including ones voided later), and credit notes by the month they were issued.
    """
    _check_range(start, end)
    months = _months(start, end)
    if len(months) > MAX_MONTHS:
        raise ValidationError("start", f"the period can span at most {MAX_MONTHS} months")
    first = months[0]
    after_last = (months[-1] + dt.timedelta(days=32)).replace(day=1)
    figures: dict[dt.date, dict[str, int]] = {
        m: dict.fromkeys(("received", "refunded", "invoiced", "credited"), 0) for m in months
    }

    def add(name: str, rows: Any) -> None:
        # SQL sums per day (in index order, no month function per row); months are
        # folded here from at most 31 rows each
        for day, cents in rows:
            figures[_as_date(day).replace(day=1)][name] += int(cents or 0)

    with db.read() as s:
        add("received", s.execute(
            select(Payment.received_on, func.sum(Payment.amount_cents))
            .where(Payment.received_on >= first, Payment.received_on < after_last,
                   Payment.method != "credit")
            .group_by(Payment.received_on)
        ))
        add("received", s.execute(
            select(Payment.received_on, func.sum(ClientCredit.amount_cents))
            .join(Payment, Payment.id == ClientCredit.payment_id)
            .where(ClientCredit.amount_cents > 0, Payment.method != "credit",
                   Payment.received_on >= first, Payment.received_on < after_last)
            .group_by(Payment.received_on)
        ))
        add("refunded", s.execute(
            select(Refund.refunded_on, func.sum(Refund.amount_cents))
            .join(Payment, Payment.id == Refund.payment_id)
            .where(Refund.refunded_on >= first, Refund.refunded_on < after_last,
                   Payment.method != "credit")
            .group_by(Refund.refunded_on)
        ))
        add("invoiced", s.execute(
            select(Invoice.issue_date, func.sum(Invoice.total_cents))
            .where(Invoice.issue_date >= first, Invoice.issue_date < after_last,
                   Invoice.status != "draft")
            .group_by(Invoice.issue_date)
        ))
        add("credited", s.execute(
            select(CreditNote.issued_on, func.sum(CreditNote.amount_cents))
            .where(CreditNote.issued_on >= first, CreditNote.issued_on < after_last)
            .group_by(CreditNote.issued_on)
        ))
    return [
        MonthRevenue(month, f["received"], f["refunded"], f["invoiced"], f["credited"])
        for month, f in figures.items()
    ]


def _as_date(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


# --------------------------------------------------------------------------- aged receivables


class AgingBuckets(NamedTuple):
    current_cents: int  # not yet due (due today counts as current)
    days_1_30_cents: int
    days_31_60_cents: int
    days_61_90_cents: int
    days_over_90_cents: int

    @property
    def total_cents(self) -> int:
        return sum(self)

    @property
    def past_due_cents(self) -> int:
        return self.total_cents - self.current_cents


class AgingRow(NamedTuple):
    """One client's line. A named tuple, not a dataclass: the full report on a big book has
    hundreds of thousands of lines, and building them is most of the Python time."""

    client_id: int
    client_name: str
    current_cents: int
    days_1_30_cents: int
    days_31_60_cents: int
    days_61_90_cents: int
    days_over_90_cents: int
    total_cents: int

    @property
    def buckets(self) -> AgingBuckets:
        return AgingBuckets(*self[2:7])


@dataclass(frozen=True)
class AgingReport:
    as_of: dt.date
    rows: list[AgingRow]  # clients by total owed, largest first
    totals: AgingBuckets  # over every client, also when ``rows`` was limited
    client_count: int  # clients that owe something, also when ``rows`` was limited


# Literal SQL. The status condition must read exactly like the partial index's WHERE
# (core.lists.OPEN_INVOICE_SQL), and on SQLite the index is named: without ANALYZE
# statistics (a user's database rarely has them) SQLite guesses ix_invoices_status_id is
# cheaper and then reads every open invoice's table row. Past-due amounts are summed
# cumulatively (due before today, before today-30, ...) with FILTER, one comparison per sum;
# the buckets are the differences. That halved the aggregate's time against five
# two-sided CASE sums on 5 million invoices.
_PER_CLIENT_SQL = """
SELECT client_id,
  COALESCE(SUM(balance_cents) FILTER (WHERE due_date < :d0), 0) AS p0,
  COALESCE(SUM(balance_cents) FILTER (WHERE due_date < :d30), 0) AS p30,
  COALESCE(SUM(balance_cents) FILTER (WHERE due_date < :d60), 0) AS p60,
  COALESCE(SUM(balance_cents) FILTER (WHERE due_date < :d90), 0) AS p90,
  SUM(balance_cents) AS total
FROM invoices{hint}
WHERE {open}
GROUP BY client_id
HAVING SUM(balance_cents) <> 0
"""
_AGING_SQL = """
SELECT per_client.client_id, clients.name, total - p0, p0 - p30, p30 - p60, p60 - p90, p90, total
FROM ({per_client}) AS per_client
JOIN clients ON clients.id = per_client.client_id
ORDER BY per_client.total DESC, clients.sort_name, per_client.client_id
"""
_AGING_TOTALS_SQL = """
SELECT count(*), COALESCE(SUM(total - p0), 0), COALESCE(SUM(p0 - p30), 0),
  COALESCE(SUM(p30 - p60), 0), COALESCE(SUM(p60 - p90), 0), COALESCE(SUM(p90), 0)
FROM ({per_client}) AS per_client
"""
AGING_INDEX = "ix_invoices_open_client"


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Hold the cyclic garbage collector while a report builds many small tuples.

    Rows are plain tuples of numbers and text (no cycles to collect), but every few
    hundred allocations the collector walks all young objects: on the 188,000-line report
    of the 5-million-invoice benchmark it took two thirds of the Python time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def aged_receivables(db: Database, today: dt.date, *, limit: int | None = None) -> AgingReport:
    """What clients owe on open (issued or partially paid) invoices, by days past due
    (today minus the due date): current (not yet due; due today counts as current), 1–30,
    31–60, 61–90 and over 90 days. One row per client that owes anything, largest total
    first (then by name); ``limit`` keeps the first rows only, the grand totals and the
    client count still cover everyone.

    Only the partial index ``ix_invoices_open_client`` (client, balance, due date, status;
    open invoices only) is read, in client order, never the invoices table; a test checks
    the plan.
    """
    if not isinstance(today, dt.date):
        raise ValidationError("today", "is required")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValidationError("limit", "must be a whole number of rows, at least 1")
    per_client = _PER_CLIENT_SQL.format(
        hint=f" INDEXED BY {AGING_INDEX}" if db.is_sqlite else "", open=OPEN_INVOICE_SQL
    )
    dates = [bindparam(f"d{n}", today - dt.timedelta(days=n), type_=Date()) for n in (0, 30, 60, 90)]
    rows_sql = _AGING_SQL.format(per_client=per_client)
    if limit is not None:
        rows_sql += f" LIMIT {int(limit)}"
    with db.read() as s, _no_gc_pauses():
        conn = s.connection()
        rows = list(map(AgingRow._make, conn.execute(text(rows_sql).bindparams(*dates))))
        if limit is None:
            count = len(rows)
            sums = [sum(column) for column in list(zip(*rows, strict=True))[2:7]] if rows else [0] * 5
        else:
            grand = conn.execute(
                text(_AGING_TOTALS_SQL.format(per_client=per_client)).bindparams(*dates)
            ).one()
            count, sums = int(grand[0]), [int(v) for v in grand[1:]]
    return AgingReport(today, rows, AgingBuckets(*sums), count)


# --------------------------------------------------------------------------- proposals


@dataclass(frozen=True)
class ConversionReport:
    start: dt.date
    end: dt.date
    sent_count: int  # proposals first sent in the period, whatever became of them
    sent_cents: int
    approved_count: int
    approved_cents: int
    declined_count: int
    declined_cents: int
    expired_count: int  # still unanswered and past valid-until (derived)
    expired_cents: int
    open_count: int  # unanswered and still valid, or back in draft for changes
    open_cents: int

    @property
    def decided_count(self) -> int:
        return self.approved_count + self.declined_count

    @property
    def rate(self) -> Decimal | None:
        """approved / (approved + declined), 4 places half-up; None when nothing was decided."""
        if not self.decided_count:
            return None
        return (Decimal(self.approved_count) / Decimal(self.decided_count)).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )


def proposal_conversion(db: Database, start: dt.date, end: dt.date, *, today: dt.date) -> ConversionReport:
    """The proposals sent from ``start`` to ``end`` (inclusive, by the day they were sent)
    and where they stand ``today``: approved, declined, expired (sent, unanswered, past
    valid-until) or open. The rate is approved / decided, decided = approved + declined;
    expired proposals are shown but not counted as decided. Amounts are the proposals'
    totals."""
    _check_range(start, end)
    expired = and_(Proposal.status == "sent", Proposal.valid_until < today)
    open_ = or_(
        and_(Proposal.status == "sent", or_(Proposal.valid_until.is_(None),
                                            Proposal.valid_until >= today)),
        Proposal.status == "draft",
    )
    conditions = [
        literal_column("1") == 1,
        Proposal.status == "approved",
        Proposal.status == "declined",
        expired,
        open_,
    ]
    columns = []
    for cond in conditions:
        columns.append(func.coalesce(func.sum(case((cond, 1), else_=0)), 0))
        columns.append(func.coalesce(func.sum(case((cond, Proposal.total_cents), else_=0)), 0))
    stmt = select(*columns).where(
        Proposal.sent_at >= dt.datetime.combine(start, dt.time()),
        Proposal.sent_at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()),
    )
    with db.read() as s:
        r = s.execute(stmt).one()
    return ConversionReport(start, end, *(int(v) for v in r))


# --------------------------------------------------------------------------- jobs to invoice


@dataclass(frozen=True)
class JobToInvoice:
    job_id: int
    number: str
    title: str
    client_id: int
    client_name: str
    billing: str  # per_job | per_visit
    status: str
    visits_to_invoice: int  # per_visit: completed visits without an invoice
    estimate_cents: int


def jobs_to_invoice(db: Database, *, client_id: int | None = None) -> list[JobToInvoice]:
    """Work done and not billed: jobs neither cancelled nor on hold that are either billed
    per job, completed and have a job line not yet on an invoice, or billed per visit and
    have a completed visit without an invoice. By client name, then job number.

    The estimate: per job, the totals of the lines not yet invoiced; per visit, the job's
    total (its lines price one visit) times the completed visits not yet invoiced.
    """
    line_open = and_(JobLine.job_id == Job.id, JobLine.invoice_id.is_(None))
    visit_open = and_(Visit.job_id == Job.id, Visit.status == "completed",
                      Visit.invoice_id.is_(None))
    unbilled_lines = (
        select(func.coalesce(func.sum(JobLine.total_cents), 0)).where(line_open).scalar_subquery()
    )
    unbilled_visits = select(func.count()).where(visit_open).scalar_subquery()
    stmt = (
        select(Job.id, Job.number, Job.title, Job.client_id, Client.name, Job.billing,
               Job.status, unbilled_visits, unbilled_lines, Job.total_cents)
        .join(Client, Client.id == Job.client_id)
        .where(
            Job.status.not_in(("cancelled", "on_hold")),
            or_(
                and_(Job.billing == "per_job", Job.status == "completed",
                     exists().where(line_open)),
                and_(Job.billing == "per_visit", exists().where(visit_open)),
            ),
        )
        .order_by(Client.sort_name, Job.id)
    )
    if client_id is not None:
        stmt = stmt.where(Job.client_id == client_id)
    out = []
    with db.read() as s:
        for r in s.execute(stmt):
            visits = int(r[7]) if r[5] == "per_visit" else 0
            estimate = int(r[8]) if r[5] == "per_job" else visits * int(r[9])
            out.append(JobToInvoice(r[0], r[1], r[2], r[3], r[4], r[5], r[6], visits, estimate))
    return out
