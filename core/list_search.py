"""Search within one section's list (proposals, jobs, invoices, tasks): what the user typed
narrows the list to matching rows, in the same row shape the list pages use
(:mod:`core.lists`), so a screen draws a hit exactly like a listed row.

Documents are found through the search index (:func:`core.search.search` with ``kinds=``):
by number (an invoice also by the number of a credit note against it) and, for proposals
and jobs, by title; and by their client's name or company (the
index's client rows), so typing a client's name lists that client's documents. Draft
proposals are not in the index (it holds numbered ones only), so their titles are matched
with ``LIKE``. Tasks are not in the index: every word typed must appear in the title or
the client's name (``LIKE``, case-insensitive, anywhere in a word).

Decisions where the design is silent: hits are listed newest first (the highest id; tasks by
due date, as their list is) and capped at ``limit``; the search covers every status, not
only the filter on screen (a filter such as "to invoice" or "overdue" is derived and the
user is looking for one record). At most ``CLIENT_LIMIT`` matching clients widen a search.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import Select, and_, false, func, or_, select

from core.db import Database
from core.lists import (
    OPEN_STATUSES,
    InvoiceRow,
    JobRow,
    ProposalRow,
    TaskRow,
    _client_name,
)
from core.models import Client, Invoice, Job, Proposal, Task, User, Visit
from core.search import search

CLIENT_LIMIT = 20
MAX_WORDS = 8
_WORD = re.compile(r"\S+")


def _words(query: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(query)][:MAX_WORDS]


def _like(column: Any, words: list[str]) -> Any:
    """Every word somewhere in ``column``, case-insensitive, ``%`` and ``_`` taken literally."""
    conditions = []
    for word in words:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(func.lower(column).like(f"%{escaped}%", escape="\\"))
    return conditions


def _ids(db: Database, query: str, kinds: tuple[str, ...], limit: int,
         ) -> tuple[list[int], list[int]]:
    """Ids of the documents whose number or title matches (index rows of ``kinds``), and of
    the clients whose name or company does."""
    docs = [h.ref_id for h in search(db, query, kinds=kinds, limit=limit)]
    clients = [h.ref_id for h in search(db, query, kinds=("client",), limit=CLIENT_LIMIT)]
    return docs, clients


def _matching(model: Any, docs: list[int], clients: list[int]) -> Any:
    parts = []
    if docs:
        parts.append(model.id.in_(docs))
    if clients:
        parts.append(model.client_id.in_(clients))
    return or_(*parts) if parts else false()


def find_proposals(db: Database, query: str, *, today: dt.date, limit: int = 50,
                   ) -> list[ProposalRow]:
    words = _words(query)
    if not words:
        return []
    docs, clients = _ids(db, query, ("proposal",), limit)
    draft_title = and_(Proposal.number.is_(None), *_like(Proposal.title, words))
    stmt: Select[Any] = (
        select(Proposal.id, Proposal.number, Proposal.revision, Proposal.client_id,
               _client_name(Proposal.client_id), Proposal.title, Proposal.status,
               Proposal.total_cents, Proposal.currency, Proposal.valid_until,
               Proposal.created_at, Proposal.sent_at)
        .where(or_(_matching(Proposal, docs, clients), draft_title))
        .order_by(Proposal.id.desc()).limit(limit)
    )
    with db.read() as s:
        rows = s.execute(stmt).all()
    out = []
    for r in rows:
        expired = r[6] == "sent" and r[9] is not None and r[9] < today
        sent_on = r[11].date() if isinstance(r[11], dt.datetime) else r[11]
        out.append(ProposalRow(r[0], r[1], r[2], r[3], r[4] or "", r[5], r[6], r[7], r[8], r[9],
                               r[10].date(), sent_on, expired))
    return out


def find_jobs(db: Database, query: str, *, today: dt.date, limit: int = 50) -> list[JobRow]:
    if not _words(query):
        return []
    docs, clients = _ids(db, query, ("job",), limit)
    if not docs and not clients:
        return []
    next_visit = (
        select(func.min(Visit.starts_at))
        .where(Visit.job_id == Job.id, Visit.status == "scheduled",
               Visit.starts_at >= dt.datetime.combine(today, dt.time()))
        .scalar_subquery()
    )
    stmt: Select[Any] = (
        select(Job.id, Job.number, Job.client_id, _client_name(Job.client_id), Job.title,
               Job.status, Job.billing, Job.recurrence, Job.total_cents, Job.currency,
               Job.created_at, next_visit)
        .where(_matching(Job, docs, clients))
        .order_by(Job.id.desc()).limit(limit)
    )
    with db.read() as s:
        rows = s.execute(stmt).all()
    return [JobRow(r[0], r[1], r[2], r[3] or "", r[4], r[5], r[6], r[7], r[8], r[9],
                   r[10].date(), r[11]) for r in rows]


def find_invoices(db: Database, query: str, *, today: dt.date, limit: int = 50,
                  ) -> list[InvoiceRow]:
    if not _words(query):
        return []
    # a credit note's index row opens the invoice it credits: its number finds that invoice
    docs, clients = _ids(db, query, ("invoice", "credit_note"), limit)
    if not docs and not clients:
        return []
    stmt: Select[Any] = (
        select(Invoice.id, Invoice.number, Invoice.kind, Invoice.client_id,
               _client_name(Invoice.client_id), Invoice.status, Invoice.issue_date,
               Invoice.due_date, Invoice.total_cents, Invoice.paid_cents, Invoice.balance_cents,
               Invoice.currency)
        .where(_matching(Invoice, docs, clients))
        .order_by(Invoice.id.desc()).limit(limit)
    )
    with db.read() as s:
        rows = s.execute(stmt).all()
    out = []
    for r in rows:
        late = (today - r[7]).days if r[5] in OPEN_STATUSES and r[7] is not None \
            and r[7] < today else 0
        out.append(InvoiceRow(r[0], r[1], r[2], r[3], r[4] or "", r[5], r[6], r[7], r[8], r[9],
                              r[10], r[11], late))
    return out


def find_tasks(db: Database, query: str, *, today: dt.date, status: str = "open",
               limit: int = 50) -> list[TaskRow]:
    """Tasks of ``status`` where every word typed is in the title or the client's name
    ("gate liam": Liam's task about the gate); open ones soonest due first (undated last),
    done ones latest due first."""
    words = _words(query)
    if not words:
        return []
    client_name = select(Client.name).where(Client.id == Task.client_id).scalar_subquery()
    matched = and_(*(or_(in_title, in_name) for in_title, in_name in
                     zip(_like(Task.title, words), _like(client_name, words), strict=True)))
    undated_last = Task.due_date.is_(None)
    order = ((undated_last, Task.due_date, Task.id) if status == "open"
             else (undated_last, Task.due_date.desc(), Task.id.desc()))
    stmt: Select[Any] = (
        select(Task.id, Task.title, Task.due_date, Task.priority, Task.status,
               Task.assignee_id,
               select(User.name).where(User.id == Task.assignee_id).scalar_subquery(),
               Task.client_id, _client_name(Task.client_id), Task.linked_type, Task.linked_id)
        .where(Task.status == status, matched)
        .order_by(*order).limit(limit)
    )
    with db.read() as s:
        rows = s.execute(stmt).all()
    out = []
    for r in rows:
        is_open = r[4] == "open" and r[2] is not None
        out.append(TaskRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6] or "", r[7], r[8] or "",
                           r[9], r[10], is_open and r[2] < today, is_open and r[2] == today))
    return out
