"""Small helpers that create records THROUGH THE SERVICES, for tests of any area.

Every helper returns ids (never ORM objects) and accepts keyword overrides. Keep additions
backwards compatible: other engineers' tests import these. ``TODAY`` is the fixed "today"
the proposal and job helpers pass, so no test depends on the wall clock.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from core import catalog, clients, jobs, proposals, staff, tasks
from core.db import Database
from core.lines import LineData
from core.recurrence import Rule

TODAY = dt.date(2026, 3, 10)


def make_client(db: Database, name: str = "Acme Cleaning Co", *, addresses: int = 1,
                **kw: Any) -> int:
    """A client with ``addresses`` service addresses (see :func:`address_ids`)."""
    data = clients.ClientData(name=name, **kw)
    addr = [clients.AddressData(line1=f"{i + 1} Main St", city="Springfield", region="IL",
                                postal_code="62701") for i in range(addresses)]
    return clients.create_client(db, data, [], addr)


def address_ids(db: Database, client_id: int) -> list[int]:
    with db.read() as s:
        rows = s.execute(text("SELECT id FROM addresses WHERE client_id = :c ORDER BY id"),
                         {"c": client_id})
        return [r[0] for r in rows]


def make_client_with_address(db: Database, name: str = "Acme Cleaning Co") -> tuple[int, int]:
    client_id = make_client(db, name)
    return client_id, address_ids(db, client_id)[0]


def make_tax_rate(db: Database, name: str = "Sales tax", rate: str | Decimal = "8.875") -> int:
    return catalog.create_tax_rate(db, catalog.TaxRateData(name=name, rate=rate))


def make_item(db: Database, name: str = "Window cleaning", unit_price_cents: int = 4500,
              **kw: Any) -> int:
    return catalog.create_item(db, catalog.PriceBookItemData(
        name=name, unit_price_cents=unit_price_cents, **kw))


def make_user(db: Database, name: str = "Tess Tech", role: str = "technician", **kw: Any) -> int:
    return staff.create_user(db, staff.UserData(name=name, role=role, **kw))


def line(description: str = "Deep clean", quantity: str | int | Decimal = 1,
         unit_price_cents: int = 10_000, tax_rate_id: int | None = None, **kw: Any) -> LineData:
    return LineData(description=description, quantity=quantity,
                    unit_price_cents=unit_price_cents, tax_rate_id=tax_rate_id, **kw)


def make_proposal(db: Database, client_id: int | None = None, *,
                  lines: list[LineData] | None = None, today: dt.date = TODAY,
                  **kw: Any) -> int:
    """A draft proposal (one $100 line unless ``lines`` is given)."""
    if client_id is None:
        client_id = make_client(db)
    kw.setdefault("title", "Spring clean")
    data = proposals.ProposalData(client_id=client_id,
                                  lines=[line()] if lines is None else lines, **kw)
    return proposals.create_proposal(db, data, today=today)


def make_sent_proposal(db: Database, client_id: int | None = None, *, today: dt.date = TODAY,
                       **kw: Any) -> int:
    pid = make_proposal(db, client_id, today=today, **kw)
    proposals.send_proposal(db, pid, today=today)
    return pid


def make_approved_proposal(db: Database, client_id: int | None = None, *,
                           today: dt.date = TODAY, **kw: Any) -> int:
    pid = make_sent_proposal(db, client_id, today=today, **kw)
    proposals.approve_proposal(db, pid, today=today)
    return pid


def make_job(db: Database, client_id: int | None = None, *, title: str = "Gutter repair",
             lines: list[LineData] | None = None, schedule: jobs.ScheduleData | None = None,
             today: dt.date = TODAY, **kw: Any) -> int:
    """An unscheduled job (one $100 line), or scheduled when ``schedule`` is given."""
    if client_id is None:
        client_id = make_client(db)
    data = jobs.JobData(client_id=client_id, title=title,
                        lines=[line()] if lines is None else lines, **kw)
    return jobs.create_job(db, data, schedule, today=today)


def schedule(start: dt.date = TODAY, at: str = "09:00", *, minutes: int = 60,
             rule: Rule | None = None, assignee_id: int | None = None) -> jobs.ScheduleData:
    return jobs.ScheduleData(start_date=start, start_time=at, duration_minutes=minutes,
                             rule=rule or Rule(), assignee_id=assignee_id)


def make_scheduled_job(db: Database, client_id: int | None = None, *, visits: int = 1,
                       **kw: Any) -> int:
    """A job with ``visits`` weekly visits from ``TODAY`` (one-off when ``visits`` is 1)."""
    rule = Rule() if visits == 1 else Rule("weekly", count=visits)
    return make_job(db, client_id, schedule=schedule(rule=rule), **kw)


def visit_ids(db: Database, job_id: int) -> list[int]:
    with db.read() as s:
        rows = s.execute(text("SELECT id FROM visits WHERE job_id = :j ORDER BY starts_at, id"),
                         {"j": job_id})
        return [r[0] for r in rows]


def make_task(db: Database, title: str = "Call back about the quote", **kw: Any) -> int:
    return tasks.create_task(db, tasks.TaskData(title=title, **kw))


DUMP_TABLES = (
    "clients", "addresses", "users", "tax_rates", "price_book_items", "proposals",
    "proposal_lines", "jobs", "job_lines", "visits", "service_logs", "tasks", "invoices",
    "invoice_lines", "number_sequences", "audit_events",
)


def table_dump(db: Database, tables: tuple[str, ...] = DUMP_TABLES) -> dict[str, list[tuple]]:
    """Every row of ``tables`` (small test databases only): compare before/after a refusal
    to prove nothing was written."""
    out: dict[str, list[tuple]] = {}
    with db.read() as s:
        for table in tables:
            rows = s.execute(text(f"SELECT * FROM {table}"))  # noqa: S608 - constant names
            out[table] = sorted((tuple(r) for r in rows), key=repr)
    return out
