"""Real questions an owner asks, as structured queries, on the demo business — each answer
checked against one computed here, independently, in plain Python over the stored rows.

The world (tests/core/query_world.py) is built once per module and backend; the queries only
read, so every test shares it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from sqlalchemy import select

from core import reports
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
from core.query import run_query
from tests.core.query_world import FIXED_DATE, World, world_fixture

T = FIXED_DATE
OPEN = ("issued", "partially_paid")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    yield from world_fixture(request, tmp_path_factory)


@pytest.fixture(scope="module")
def data(world):
    return Data(world)


class Data:
    """Every row of the tables the questions touch, loaded with plain SELECTs."""

    def __init__(self, world: World) -> None:
        with world.db.read() as s:
            def all_of(model: Any) -> list[Any]:
                return list(s.scalars(select(model).order_by(model.id)))

            self.clients = all_of(Client)
            self.contacts = all_of(Contact)
            self.addresses = all_of(Address)
            self.proposals = all_of(Proposal)
            self.jobs = all_of(Job)
            self.job_lines = all_of(JobLine)
            self.visits = all_of(Visit)
            self.logs = all_of(ServiceLog)
            self.tasks = all_of(Task)
            self.invoices = all_of(Invoice)
            self.payments = all_of(Payment)
            self.users = {u.id: u.name for u in all_of(User)}
            self.tags = list(s.execute(select(ClientTag.client_id, ClientTag.tag)))
        self.client_name = {c.id: c.name for c in self.clients}
        self.job_by_id = {j.id: j for j in self.jobs}


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def days_overdue(inv: Invoice) -> int:
    if inv.status in OPEN and inv.balance_cents > 0 and inv.due_date and inv.due_date < T:
        return (T - inv.due_date).days
    return 0


def start_of_week(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


LAST_MONTH_END = T.replace(day=1) - dt.timedelta(days=1)
LAST_MONTH_START = LAST_MONTH_END.replace(day=1)


def expired(p: Proposal) -> bool:
    return p.status == "sent" and p.valid_until is not None and p.valid_until < T


def primary(d: Data, client_id: int) -> Contact | None:
    mine = sorted((c for c in d.contacts if c.client_id == client_id),
                  key=lambda c: (not c.is_primary, c.id))
    return mine[0] if mine else None


def balance(d: Data, client_id: int) -> int:
    return sum(i.balance_cents for i in d.invoices if i.client_id == client_id and i.status in OPEN)


def needs_invoice(d: Data, job: Job) -> bool:
    if job.status in ("cancelled", "on_hold"):
        return False
    if job.billing == "per_job":
        return job.status == "completed" and any(
            ln.job_id == job.id and ln.invoice_id is None for ln in d.job_lines)
    return any(v.job_id == job.id and v.status == "completed" and v.invoice_id is None
               for v in d.visits)


def next_visit(d: Data, job: Job) -> dt.datetime | None:
    starts = [v.starts_at for v in d.visits if v.job_id == job.id and v.status == "scheduled"
              and v.starts_at >= dt.datetime.combine(T, dt.time())]
    return min(starts) if starts else None


def by_key(rows: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {r[key]: {k: v for k, v in r.items() if k != key} for r in rows}


@dataclass(frozen=True)
class Question:
    words: str
    query: dict[str, Any]
    expected: Callable[[Data, World], Any]
    shape: Callable[[list[dict[str, Any]]], Any] = lambda rows: rows
    nonempty: bool = True


def _order(rows: list[Any], key: Callable[[Any], Any]) -> list[Any]:
    return sorted(rows, key=key)


QUESTIONS = [
    Question(
        "Who owes me more than $500 for over 60 days?",
        {"entity": "invoices", "fields": ["number", "client.name", "balance", "days_overdue"],
         "where": [{"field": "status", "op": "in", "value": ["issued", "partially_paid"]},
                   {"field": "days_overdue", "op": "gt", "value": 60},
                   {"field": "balance", "op": "gt", "value": "500"}],
         "sort": [{"field": "balance", "dir": "desc"}], "limit": 50},
        lambda d, w: [{"number": i.number, "client.name": d.client_name[i.client_id],
                       "balance": money(i.balance_cents), "days_overdue": days_overdue(i)}
                      for i in _order([i for i in d.invoices if i.status in OPEN
                                       and days_overdue(i) > 60 and i.balance_cents > 50_000],
                                      lambda i: (-i.balance_cents, i.id))],
    ),
    Question(
        "Revenue by month this year",
        {"entity": "payments", "aggregate": [{"fn": "sum", "field": "net", "as": "revenue"}],
         "group_by": [{"field": "received_on", "bucket": "month", "as": "month"}],
         "where": [{"field": "received_on", "op": "gte", "value": "start_of_year"},
                   {"field": "method", "op": "ne", "value": "credit"}]},
        lambda d, w: [{"month": m, "revenue": money(c)} for m, c in sorted(_sum_by(
            (p.received_on.strftime("%Y-%m"), p.amount_cents - p.refunded_cents)
             for p in d.payments if p.received_on.year == T.year and p.method != "credit").items())],
    ),
    Question(
        "Which jobs are completed but not invoiced?",
        {"entity": "jobs", "fields": ["id", "number", "title", "client.name"],
         "where": [{"field": "needs_invoice", "op": "eq", "value": True}]},
        lambda d, w: [{"id": j.id, "number": j.number, "title": j.title,
                       "client.name": d.client_name[j.client_id]}
                      for j in d.jobs if needs_invoice(d, j)],
    ),
    Question(
        "Proposals sent last month still waiting for an answer",
        {"entity": "proposals", "fields": ["number", "client.name", "total", "valid_until"],
         "where": [{"field": "status", "op": "eq", "value": "sent"},
                   {"field": "sent_at", "op": "between",
                    "value": ["start_of_month-1m", "start_of_month-1d"]}]},
        lambda d, w: [{"number": p.number, "client.name": d.client_name[p.client_id],
                       "total": money(p.total_cents), "valid_until": p.valid_until.isoformat()}
                      for p in d.proposals if p.status == "sent" and not expired(p)
                      and p.sent_at and LAST_MONTH_START <= p.sent_at.date() <= LAST_MONTH_END],
    ),
    Question(
        "How many clients do I have in each status?",
        {"entity": "clients", "group_by": ["status"]},
        lambda d, w: {s: {"count": n} for s, n in _count(c.status for c in d.clients).items()},
        shape=lambda rows: by_key(rows, "status"),
    ),
    Question(
        "How much is owed to me in total?",
        {"entity": "invoices", "aggregate": [{"fn": "sum", "field": "balance", "as": "owed"},
                                             {"fn": "count", "as": "invoices"}],
         "where": [{"field": "status", "op": "in", "value": ["issued", "partially_paid"]}]},
        lambda d, w: [{"owed": money(sum(i.balance_cents for i in d.invoices if i.status in OPEN)),
                       "invoices": sum(1 for i in d.invoices if i.status in OPEN)}],
    ),
    Question(
        "Top five clients by what they owe",
        {"entity": "clients", "fields": ["id", "name", "balance"],
         "where": [{"field": "balance", "op": "gt", "value": 0}],
         "sort": [{"field": "balance", "dir": "desc"}], "limit": 5},
        lambda d, w: [{"id": c.id, "name": c.name, "balance": money(balance(d, c.id))}
                      for c in _order([c for c in d.clients if balance(d, c.id) > 0],
                                      lambda c: (-balance(d, c.id), c.id))[:5]],
    ),
    Question(
        "Which invoices are overdue, worst first?",
        {"entity": "invoices", "fields": ["id", "number", "due_date", "days_overdue", "balance"],
         "where": [{"field": "overdue", "op": "eq", "value": True}],
         "sort": [{"field": "days_overdue", "dir": "desc"}]},
        lambda d, w: [{"id": i.id, "number": i.number, "due_date": i.due_date.isoformat(),
                       "days_overdue": days_overdue(i), "balance": money(i.balance_cents)}
                      for i in _order([i for i in d.invoices if days_overdue(i) > 0],
                                      lambda i: (-days_overdue(i), i.id))],
    ),
    Question(
        "What is my average invoice this year?",
        {"entity": "invoices", "aggregate": [{"fn": "avg", "field": "total", "as": "average"}],
         "where": [{"field": "status", "op": "ne", "value": "draft"},
                   {"field": "issue_date", "op": "gte", "value": "start_of_year"}]},
        lambda d, w: [{"average": money(_avg_cents([i.total_cents for i in d.invoices
                                                    if i.status != "draft" and i.issue_date
                                                    and i.issue_date.year == T.year]))}],
    ),
    Question(
        "Which tasks are overdue and who has them?",
        {"entity": "tasks", "fields": ["id", "title", "due_date", "assignee.name"],
         "where": [{"field": "overdue", "op": "eq", "value": True}],
         "sort": [{"field": "due_date"}]},
        lambda d, w: [{"id": t.id, "title": t.title, "due_date": t.due_date.isoformat(),
                       "assignee.name": d.users.get(t.assignee_id)}
                      for t in _order([t for t in d.tasks if t.status == "open" and t.due_date
                                       and t.due_date < T], lambda t: (t.due_date, t.id))],
    ),
    Question(
        "What visits are scheduled next week?",
        {"entity": "visits", "fields": ["id", "starts_at", "job.number", "client.name"],
         "where": [{"field": "status", "op": "eq", "value": "scheduled"},
                   {"field": "starts_at", "op": "between",
                    "value": ["start_of_week+1w", "start_of_week+13d"]}],
         "sort": [{"field": "starts_at"}]},
        lambda d, w: [{"id": v.id, "starts_at": v.starts_at.isoformat(),
                       "job.number": d.job_by_id[v.job_id].number,
                       "client.name": d.client_name[d.job_by_id[v.job_id].client_id]}
                      for v in _order([v for v in d.visits if v.status == "scheduled" and
                                       start_of_week(T) + dt.timedelta(days=7) <= v.starts_at.date()
                                       <= start_of_week(T) + dt.timedelta(days=13)],
                                      lambda v: (v.starts_at, v.id))],
    ),
    Question(
        "How many visits did each technician complete in the last 60 days?",
        {"entity": "visits", "aggregate": [{"fn": "count", "as": "visits"}],
         "group_by": [{"field": "assignee.name", "as": "technician"}],
         "where": [{"field": "status", "op": "eq", "value": "completed"},
                   {"field": "starts_at", "op": "gte", "value": "-60d"}]},
        lambda d, w: {name: {"visits": n} for name, n in _count(
            d.users.get(v.assignee_id) for v in d.visits if v.status == "completed"
            and v.starts_at.date() >= T - dt.timedelta(days=60)).items()},
        shape=lambda rows: by_key(rows, "technician"),
    ),
    Question(
        "Hours logged per technician this year",
        {"entity": "service_logs",
         "aggregate": [{"fn": "sum", "field": "minutes_spent", "as": "minutes"}],
         "group_by": [{"field": "technician.name", "as": "technician"}],
         "where": [{"field": "logged_on", "op": "gte", "value": "start_of_year"}]},
        lambda d, w: {name: {"minutes": m} for name, m in _sum_by(
            (d.users.get(sl.technician_id), sl.minutes_spent) for sl in d.logs
            if sl.logged_on.year == T.year).items()},
        shape=lambda rows: by_key(rows, "technician"),
    ),
    Question(
        "Which clients are tagged VIP?",
        {"entity": "clients", "fields": ["id", "name"],
         "where": [{"field": "tags", "op": "contains", "value": "VIP"}]},
        lambda d, w: [{"id": c.id, "name": c.name} for c in d.clients
                      if (c.id, "vip") in set(d.tags)],
    ),
    Question(
        "Which leads have I not won yet, and how do I reach them?",
        {"entity": "clients", "fields": ["id", "name", "email", "phone"],
         "where": [{"field": "status", "op": "eq", "value": "lead"}]},
        lambda d, w: [{"id": c.id, "name": c.name,
                       "email": (primary(d, c.id).email if primary(d, c.id) else None),
                       "phone": (primary(d, c.id).phone if primary(d, c.id) else None)}
                      for c in d.clients if c.status == "lead"],
    ),
    Question(
        "Payments this month by method",
        {"entity": "payments", "aggregate": [{"fn": "sum", "field": "amount", "as": "total"},
                                             {"fn": "count", "as": "payments"}],
         "group_by": ["method"],
         "where": [{"field": "received_on", "op": "gte", "value": "start_of_month"}]},
        lambda d, w: {m: {"total": money(sum(p.amount_cents for p in ps)), "payments": len(ps)}
                      for m, ps in _group(p for p in d.payments
                                          if p.received_on >= T.replace(day=1)).items()},
        shape=lambda rows: by_key(rows, "method"),
    ),
    Question(
        "How many proposals were approved and how many declined?",
        {"entity": "proposals", "group_by": ["status"],
         "where": [{"field": "status", "op": "in", "value": ["approved", "declined"]}]},
        lambda d, w: {s: {"count": n} for s, n in _count(
            p.status for p in d.proposals if p.status in ("approved", "declined")).items()},
        shape=lambda rows: by_key(rows, "status"),
    ),
    Question(
        "What did the expired proposals add up to?",
        {"entity": "proposals", "aggregate": [{"fn": "sum", "field": "total", "as": "lost"},
                                              {"fn": "count", "as": "proposals"}],
         "where": [{"field": "status", "op": "eq", "value": "expired"}]},
        lambda d, w: [{"lost": money(sum(p.total_cents for p in d.proposals if expired(p))),
                       "proposals": sum(1 for p in d.proposals if expired(p))}],
    ),
    Question(
        "How much is waiting on proposals I have sent?",
        {"entity": "proposals", "aggregate": [{"fn": "sum", "field": "total", "as": "waiting"}],
         "where": [{"field": "status", "op": "eq", "value": "sent"}]},
        lambda d, w: [{"waiting": money(sum(p.total_cents for p in d.proposals
                                            if p.status == "sent" and not expired(p)))}],
    ),
    Question(
        "Which invoices are partly paid, and how much is left on each?",
        {"entity": "invoices", "fields": ["id", "number", "client.name", "paid", "balance"],
         "where": [{"field": "status", "op": "eq", "value": "partially_paid"}]},
        lambda d, w: [{"id": i.id, "number": i.number, "client.name": d.client_name[i.client_id],
                       "paid": money(i.paid_cents), "balance": money(i.balance_cents)}
                      for i in d.invoices if i.status == "partially_paid"],
    ),
    Question(
        "Which jobs have a visit in the next seven days?",
        {"entity": "jobs", "fields": ["id", "number", "next_visit"],
         "where": [{"field": "next_visit", "op": "between", "value": ["today", "+7d"]}],
         "sort": [{"field": "next_visit"}]},
        lambda d, w: [{"id": j.id, "number": j.number, "next_visit": next_visit(d, j).isoformat()}
                      for j in _order([j for j in d.jobs if next_visit(d, j) is not None
                                       and T <= next_visit(d, j).date() <= T + dt.timedelta(days=7)],
                                      lambda j: (next_visit(d, j), j.id))],
    ),
    Question(
        "Which contacts can I text?",
        {"entity": "contacts", "fields": ["id", "name", "phone"],
         "where": [{"field": "sms_consent", "op": "eq", "value": True},
                   {"field": "phone", "op": "is_null", "value": False},
                   {"field": "sms_opted_out", "op": "eq", "value": False}]},
        lambda d, w: [{"id": c.id, "name": c.name, "phone": c.phone} for c in d.contacts
                      if c.sms_consent and c.phone and c.sms_opted_out_at is None],
    ),
    Question(
        "Which properties do I look after in Springfield?",
        {"entity": "addresses", "fields": ["id", "client.name", "line1", "label"],
         "where": [{"field": "city", "op": "eq", "value": "Springfield"},
                   {"field": "kind", "op": "eq", "value": "service"}]},
        lambda d, w: [{"id": a.id, "client.name": d.client_name[a.client_id], "line1": a.line1,
                       "label": a.label} for a in d.addresses
                      if a.city == "Springfield" and a.kind == "service"],
    ),
    Question(
        "What did I invoice each month?",
        {"entity": "invoices", "aggregate": [{"fn": "sum", "field": "total", "as": "invoiced"}],
         "group_by": [{"field": "issue_date", "bucket": "month"}],
         "where": [{"field": "status", "op": "ne", "value": "draft"}]},
        lambda d, w: [{"issue_date_month": m, "invoiced": money(c)} for m, c in sorted(_sum_by(
            (i.issue_date.strftime("%Y-%m"), i.total_cents) for i in d.invoices
            if i.status != "draft").items())],
    ),
    Question(
        "Money received per week over the last eight weeks",
        {"entity": "payments", "aggregate": [{"fn": "sum", "field": "amount", "as": "received"}],
         "group_by": [{"field": "received_on", "bucket": "week", "as": "week"}],
         "where": [{"field": "received_on", "op": "gte", "value": "-8w"}]},
        lambda d, w: [{"week": wk, "received": money(c)} for wk, c in sorted(_sum_by(
            (start_of_week(p.received_on).isoformat(), p.amount_cents) for p in d.payments
            if p.received_on >= T - dt.timedelta(weeks=8)).items())],
    ),
    Question(
        "What is the largest payment I ever received, and the first one?",
        {"entity": "payments", "aggregate": [{"fn": "max", "field": "amount", "as": "largest"},
                                             {"fn": "min", "field": "received_on", "as": "first"}]},
        lambda d, w: [{"largest": money(max(p.amount_cents for p in d.payments)),
                       "first": min(p.received_on for p in d.payments).isoformat()}],
    ),
    Question(
        "Which clients have draft invoices waiting to be issued?",
        {"entity": "invoices", "aggregate": [{"fn": "count", "as": "drafts"},
                                             {"fn": "sum", "field": "total", "as": "value"}],
         "group_by": [{"field": "client.id", "as": "client"}],
         "where": [{"field": "status", "op": "eq", "value": "draft"}]},
        lambda d, w: {cid: {"drafts": len(invs), "value": money(sum(i.total_cents for i in invs))}
                      for cid, invs in _group(
                          (i for i in d.invoices if i.status == "draft"),
                          key=lambda i: i.client_id).items()},
        shape=lambda rows: by_key(rows, "client"),
    ),
    Question(
        "How many jobs are in each status?",
        {"entity": "jobs", "group_by": ["status"]},
        lambda d, w: {s: {"count": n} for s, n in _count(j.status for j in d.jobs).items()},
        shape=lambda rows: by_key(rows, "status"),
    ),
    Question(
        "Which clients have a note about the gate?",
        {"entity": "clients", "fields": ["id", "name"],
         "where": [{"field": "notes", "op": "contains", "value": "GATE"}]},
        lambda d, w: [{"id": c.id, "name": c.name} for c in d.clients if "gate" in c.notes.lower()],
    ),
    Question(
        "How much did clients pay in deposits?",
        {"entity": "invoices", "aggregate": [{"fn": "sum", "field": "paid", "as": "deposits"}],
         "where": [{"field": "kind", "op": "eq", "value": "deposit"}]},
        lambda d, w: [{"deposits": money(sum(i.paid_cents for i in d.invoices
                                             if i.kind == "deposit"))}],
    ),
    Question(
        "How much have I refunded, and on how many payments?",
        {"entity": "payments", "aggregate": [{"fn": "sum", "field": "refunded", "as": "refunded"},
                                             {"fn": "count", "as": "payments"}],
         "where": [{"field": "refunded", "op": "gt", "value": "0"}]},
        lambda d, w: [{"refunded": money(sum(p.refunded_cents for p in d.payments)),
                       "payments": sum(1 for p in d.payments if p.refunded_cents)}],
    ),
]


def _count(values: Any) -> dict[Any, int]:
    out: dict[Any, int] = defaultdict(int)
    for v in values:
        out[v] += 1
    return dict(out)


def _sum_by(pairs: Any) -> dict[Any, int]:
    out: dict[Any, int] = defaultdict(int)
    for k, v in pairs:
        out[k] += v
    return dict(out)


def _group(items: Any, key: Callable[[Any], Any] = lambda p: p.method) -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = defaultdict(list)
    for item in items:
        out[key(item)].append(item)
    return dict(out)


def _avg_cents(values: list[int]) -> int:
    return int((Decimal(sum(values)) / len(values)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_there_are_at_least_25_questions():
    assert len(QUESTIONS) >= 25
    assert len({q.words for q in QUESTIONS}) == len(QUESTIONS)


@pytest.mark.parametrize("question", QUESTIONS, ids=[q.words for q in QUESTIONS])
def test_the_query_answers_the_question(world: World, data: Data, question: Question):
    expected = question.expected(data, world)
    if question.nonempty:
        assert expected, "the demo world should make this question worth asking"
    result = run_query(world.db, question.query, today=world.today)
    assert result.truncated == (question.query.get("limit") == 5)  # only "top five" cuts rows
    assert question.shape(result.rows) == expected


def test_needs_invoice_is_the_reports_definition(world: World):
    rows = run_query(world.db, {"entity": "jobs", "fields": ["id"],
                                "where": [{"field": "needs_invoice", "op": "eq", "value": True}]},
                     today=world.today).rows
    assert [r["id"] for r in rows] == sorted(j.job_id for j in reports.jobs_to_invoice(world.db))
    assert world.unbilled_job_id in [r["id"] for r in rows]
