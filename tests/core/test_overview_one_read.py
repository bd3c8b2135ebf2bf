"""The client overview's single statement on both backends: it returns exactly what plain ORM
queries read, brings every string back unchanged, never waits for (or sees into) a writer's
open transaction, and reads only through indexes."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import sqlalchemy.exc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core import business, overview
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
from core.overview import (
    ActivityRow,
    AddressRow,
    ClientOverview,
    ContactRow,
    InvoiceRow,
    JobRow,
    ProposalRow,
)
from core.text import clean_line

TODAY = dt.date(2026, 3, 15)
_numbers = itertools.count(1)


def reference_overview(db, client_id: int, today: dt.date, activity_limit: int = 20) -> ClientOverview:
    """What the overview must say, read the plain way: one ORM query per part."""
    with db.read() as s:
        c = s.get(Client, client_id)
        assert c is not None

        def count(model, *where):
            return s.scalar(select(func.count()).select_from(model).where(
                model.client_id == client_id, *where))

        contacts = s.scalars(select(Contact).where(Contact.client_id == client_id)
                             .order_by(Contact.id)).all()
        addresses = s.scalars(select(Address).where(Address.client_id == client_id)
                              .order_by(Address.id)).all()
        proposals = s.scalars(select(Proposal).where(
            Proposal.client_id == client_id, Proposal.status.in_(("draft", "sent")))
            .order_by(Proposal.id.desc()).limit(overview.RECENT_LIMIT)).all()
        recent = s.scalars(select(Proposal).where(Proposal.client_id == client_id)
                           .order_by(Proposal.id.desc()).limit(overview.RECENT_LIMIT)).all()
        jobs = s.scalars(select(Job).where(Job.client_id == client_id)
                         .order_by(Job.id.desc()).limit(overview.RECENT_LIMIT)).all()
        invoices = s.scalars(select(Invoice).where(Invoice.client_id == client_id)
                             .order_by(Invoice.id.desc()).limit(overview.RECENT_LIMIT)).all()
        open_invoices = s.scalars(select(Invoice).where(
            Invoice.client_id == client_id, Invoice.status.in_(("issued", "partially_paid")))).all()
        events = s.scalars(select(AuditEvent).where(AuditEvent.client_id == client_id)
                           .order_by(AuditEvent.id.desc()).limit(activity_limit)).all()
        credit = s.scalar(select(func.coalesce(func.sum(ClientCredit.amount_cents), 0))
                          .where(ClientCredit.client_id == client_id))
        tags = s.scalars(select(ClientTag.tag).where(ClientTag.client_id == client_id)
                         .order_by(ClientTag.tag)).all()
        currency = business.get(s, "business")["currency"]

        def late(i: Invoice) -> int:
            if i.status in ("issued", "partially_paid") and i.balance_cents > 0 and i.due_date \
                    and i.due_date < today:
                return (today - i.due_date).days
            return 0

        return ClientOverview(
            id=c.id, version=c.version, kind=c.kind, name=c.name, company_name=c.company_name,
            status=c.status, notes=c.notes, tags=tuple(tags),
            custom_fields=dict(c.custom_fields or {}), created_at=c.created_at,
            anonymised=c.anonymised_at is not None,
            contacts=tuple(
                ContactRow(x.id, x.version, x.name, x.email, x.phone, x.role, x.is_primary,
                           x.sms_consent, x.sms_opted_out_at is not None)
                for x in contacts[:overview.CHILD_LIMIT]),
            more_contacts=len(contacts) > overview.CHILD_LIMIT,
            addresses=tuple(
                AddressRow(x.id, x.version, x.kind, x.label, x.line1, x.line2, x.city, x.region,
                           x.postal_code, x.country, x.validated_at is not None)
                for x in addresses[:overview.CHILD_LIMIT]),
            more_addresses=len(addresses) > overview.CHILD_LIMIT,
            open_proposals=tuple(
                ProposalRow(p.id, p.number, p.revision, p.title, p.status, p.total_cents,
                            p.currency, p.valid_until,
                            p.status == "sent" and p.valid_until is not None
                            and p.valid_until < today)
                for p in proposals),
            open_proposal_count=count(Proposal, Proposal.status.in_(("draft", "sent"))),
            jobs=tuple(JobRow(j.id, j.number, j.title, j.status, j.total_cents, j.currency)
                       for j in jobs),
            job_count=count(Job),
            invoices=tuple(
                InvoiceRow(i.id, i.number, i.kind, i.status, i.issue_date, i.due_date,
                           i.total_cents, i.balance_cents, i.currency, late(i))
                for i in invoices),
            invoice_count=count(Invoice),
            open_invoice_count=len(open_invoices),
            balance_cents=sum(i.balance_cents for i in open_invoices),
            overdue_cents=sum(i.balance_cents for i in open_invoices
                              if i.due_date is not None and i.due_date < today),
            credit_cents=credit,
            currency=currency,
            activity=tuple(ActivityRow(e.at, e.actor, e.action, e.summary) for e in events),
            proposals=tuple(
                ProposalRow(p.id, p.number, p.revision, p.title, p.status, p.total_cents,
                            p.currency, p.valid_until,
                            p.status == "sent" and p.valid_until is not None
                            and p.valid_until < today)
                for p in recent),
            proposal_count=count(Proposal),
        )


_line = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12)
_day = st.integers(-60, 60).map(lambda n: TODAY + dt.timedelta(days=n))
_moment = st.builds(
    lambda days, seconds, micro: dt.datetime(2026, 3, 15) + dt.timedelta(
        days=days, seconds=seconds, microseconds=micro),
    st.integers(-400, 0), st.integers(0, 86_399), st.sampled_from([0, 1, 120_000, 999_999]),
)
_world = st.fixed_dictionaries({
    "client": st.fixed_dictionaries({
        "kind": st.sampled_from(["person", "company"]), "name": _line.map(lambda s: s or "x"),
        "status": st.sampled_from(["lead", "active", "archived"]), "notes": _line,
        "custom_fields": st.dictionaries(_line, _line, max_size=2),
        "anonymised_at": st.none() | _moment,
    }),
    "tags": st.sets(_line.map(lambda s: s[:60] or "t"), max_size=4),
    "contacts": st.lists(st.tuples(_line, _line, st.booleans(), st.booleans(),
                                   st.none() | _moment), max_size=3),
    "addresses": st.lists(st.tuples(st.sampled_from(["billing", "service"]), _line, _line,
                                    st.none() | _moment), max_size=3),
    "proposals": st.lists(st.tuples(st.sampled_from(["draft", "sent", "approved", "declined"]),
                                    st.none() | _day, st.integers(0, 10**9)), max_size=12),
    "jobs": st.lists(_line, max_size=12),
    "invoices": st.lists(st.tuples(
        st.sampled_from(["draft", "issued", "partially_paid", "paid", "void"]),
        st.none() | _day, st.integers(0, 10**9), st.sampled_from(["standard", "deposit"])),
        max_size=13),
    "credits": st.lists(st.integers(-5_000, 5_000), max_size=3),
    "events": st.lists(st.tuples(_moment, _line), max_size=4),
    "activity_limit": st.integers(-1, 3),
    "currency": st.sampled_from([None, "EUR"]),
})


def _build_world(db, w) -> int:
    with db.write() as s:
        c = Client(**w["client"], sort_name=w["client"]["name"].casefold())
        s.add(c)
        s.flush()
        for tag in w["tags"]:
            s.add(ClientTag(client_id=c.id, tag=tag))
        for name, role, primary, consent, opted_out in w["contacts"]:
            s.add(Contact(client_id=c.id, name=name, role=role, email=f"{next(_numbers)}@x.test",
                          is_primary=primary, sms_consent=consent, sms_opted_out_at=opted_out))
        for kind, line1, label, validated in w["addresses"]:
            s.add(Address(client_id=c.id, kind=kind, line1=line1, label=label,
                          validated_at=validated))
        for status, valid_until, total in w["proposals"]:
            number = None if status == "draft" else f"PRO-{next(_numbers)}"
            s.add(Proposal(client_id=c.id, status=status, number=number, valid_until=valid_until,
                           total_cents=total, title=f"P {total}"))
        for title in w["jobs"]:
            s.add(Job(client_id=c.id, number=f"JOB-{next(_numbers)}", title=title))
        for status, due, amount, kind in w["invoices"]:
            balance = 0 if status in ("paid", "void") else amount
            s.add(Invoice(client_id=c.id, status=status, kind=kind, total_cents=amount,
                          balance_cents=balance, due_date=due,
                          number=None if status == "draft" else f"INV-{next(_numbers)}",
                          issue_date=None if status == "draft" else TODAY - dt.timedelta(days=9)))
        for amount in w["credits"]:
            s.add(ClientCredit(client_id=c.id, amount_cents=amount))
        for at, summary in w["events"]:
            s.add(AuditEvent(at=at, actor="owner", action="client.note", entity_type="client",
                             entity_id=c.id, client_id=c.id, summary=summary))
        # another client's records must never show
        other = Client(name="Other", sort_name="other")
        s.add(other)
        s.flush()
        s.add(Invoice(client_id=other.id, status="issued", total_cents=7, balance_cents=7,
                      number=f"INV-{next(_numbers)}", due_date=TODAY - dt.timedelta(days=3)))
        s.add(AuditEvent(actor="owner", action="client.note", entity_type="client",
                         entity_id=other.id, client_id=other.id, summary="other"))
    if w["currency"]:
        business.update(db, "business", {"name": "Shop", "currency": w["currency"]})
    return c.id


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(w=_world)
def test_overview_reads_what_plain_orm_queries_read(db, w):
    cid = _build_world(db, w)
    limit = w["activity_limit"]
    got = overview.client_overview(db, cid, today=TODAY, activity_limit=limit)
    assert got == reference_overview(db, cid, TODAY, max(0, limit))


def test_every_naughty_string_comes_back_exactly_and_lists_stay_capped(db, naughty_strings):
    strings = [clean_line(s)[:100] for s in naughty_strings]  # 100: the shortest column
    cap = overview.CHILD_LIMIT
    chunks = [strings[: cap + 1]] + [
        strings[i: i + cap] for i in range(cap + 1, len(strings), cap)]
    ids = []
    with db.write() as s:
        for chunk in chunks:
            c = Client(name=chunk[-1], sort_name="n", notes="\n".join(chunk),
                       custom_fields={v: v for v in chunk[:20]})
            s.add(c)
            s.flush()
            ids.append(c.id)
            for value in chunk:
                s.add(Contact(client_id=c.id, name=value, role=value, email=value))
            for value in chunk[:50]:
                s.add(Address(client_id=c.id, line1=value, city=value, label=value))
                s.add(Job(client_id=c.id, number=f"JOB-{next(_numbers)}", title=value))
    big = overview.client_overview(db, ids[0], today=TODAY)
    assert [x.name for x in big.contacts] == chunks[0][:cap] and big.more_contacts
    assert [x.role for x in big.contacts] == chunks[0][:cap]
    assert [x.line1 for x in big.addresses] == chunks[0][:50] and not big.more_addresses
    assert [j.title for j in big.jobs] == chunks[0][40:50][::-1]
    for cid, chunk in zip(ids[1:], chunks[1:], strict=True):
        small = overview.client_overview(db, cid, today=TODAY)
        assert [x.email for x in small.contacts] == chunk and not small.more_contacts
        assert small.name == chunk[-1] and small.notes == "\n".join(chunk)
        assert small.custom_fields == {v: v for v in chunk[:20]}


def test_a_read_neither_waits_for_a_writer_nor_sees_its_uncommitted_change(db):
    with db.write() as s:
        c = Client(name="Before", sort_name="before")
        s.add(c)
        s.flush()
        s.add(AuditEvent(actor="owner", action="client.create", entity_type="client",
                         entity_id=c.id, client_id=c.id, summary="created"))
    with db.write() as s:  # holds SQLite's write lock until the block ends
        s.get(Client, c.id).name = "After"
        s.add(Invoice(client_id=c.id, status="issued", total_cents=5, balance_cents=5,
                      number="INV-W1"))
        s.flush()
        during = overview.client_overview(db, c.id, today=TODAY)
        assert (during.name, during.invoice_count, during.balance_cents) == ("Before", 0, 0)
    after = overview.client_overview(db, c.id, today=TODAY)
    assert (after.name, after.invoice_count, after.balance_cents, after.version) == (
        "After", 1, 5, 2)


def test_database_errors_arrive_as_sqlalchemy_errors_and_the_pool_recovers(db):
    with pytest.raises(sqlalchemy.exc.DBAPIError):
        db.read_row("SELECT no_such_column FROM clients", ())
    with db.write() as s:
        c = Client(name="Still fine", sort_name="still fine")
        s.add(c)
    for _ in range(3):  # whichever pooled connection comes next works
        assert overview.client_overview(db, c.id, today=TODAY).name == "Still fine"


def test_the_statement_reads_every_table_through_an_index_on_sqlite(db):
    if not db.is_sqlite:
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    sql, params = overview.overview_sql(db, 1, today=TODAY)
    with db.engine.connect() as conn:
        plan = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)]
    tables = ("clients", "client_tags", "contacts", "addresses", "proposals", "jobs",
              "invoices", "client_credits", "settings", "audit_events")
    for table in tables:
        reads = [line for line in plan if f" {table} " in f"{line} "]
        assert reads and all(line.startswith("SEARCH") for line in reads), (table, plan)
    assert not [line for line in plan if "TEMP B-TREE" in line], plan
    assert any("ix_invoices_open_client" in line for line in plan)
