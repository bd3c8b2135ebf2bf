"""The demo business covers every state a new user should be able to look at."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from core import demo, invoices, proposals
from core.models import Client, Invoice, Job, Payment, Proposal, ServiceLog, Task, Visit

TODAY = dt.date(2026, 11, 26)


def test_demo_has_every_state_and_consistent_money(db):
    demo.seed_demo(db, clients=16, today=TODAY)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Client)) == 16
        props = s.scalars(select(Proposal)).all()
        states = {proposals.effective_status(p, TODAY) for p in props}
        assert {"draft", "sent", "approved", "declined", "expired"} <= states
        assert any(p.revision > 1 for p in props)  # changes were requested once
        assert {j.status for j in s.scalars(select(Job))} >= {"scheduled", "in_progress", "invoiced"}
        assert s.scalar(select(func.count()).select_from(Visit).where(Visit.status == "completed")) > 0
        assert s.scalar(select(func.count()).select_from(ServiceLog)) > 0
        invs = s.scalars(select(Invoice)).all()
        assert {i.status for i in invs} >= {"draft", "issued", "partially_paid", "paid"}
        assert any(invoices.is_overdue(i, TODAY) for i in invs)
        assert any(i.kind == "deposit" for i in invs)
        for inv in invs:
            paid = s.scalar(select(func.coalesce(func.sum(Payment.amount_cents - Payment.refunded_cents), 0))
                            .where(Payment.invoice_id == inv.id))
            if inv.status != "draft":
                assert inv.balance_cents == inv.total_cents - paid - inv.credited_cents
        due = [t.due_date for t in s.scalars(select(Task))]
        assert min(due) < TODAY <= max(due)


def test_seeding_twice_adds_clients_and_reuses_the_catalogue(db):
    demo.seed_demo(db, clients=3, today=TODAY)
    demo.seed_demo(db, clients=3, today=TODAY)
    from core.models import TaxRate, User

    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Client)) == 6
        assert s.scalar(select(func.count()).select_from(TaxRate)) == 2
        assert s.scalar(select(func.count()).select_from(User)) == 3
