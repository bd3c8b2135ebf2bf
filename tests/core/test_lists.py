"""Keyset-paged lists on both backends: every sort pages through every row exactly once in
the right order (drafts without a number included), filters and derived flags (overdue,
expired, task buckets) match what a list screen promises, bad arguments name themselves,
and the hot queries read the index SQLite is meant to use (EXPLAIN QUERY PLAN)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, text

from core import clients, lists, models
from core.clients import AddressData, ClientData, ContactData
from core.errors import ValidationError
from core.models import (
    AuditEvent,
    Client,
    CreditNote,
    Invoice,
    Job,
    Payment,
    PriceBookItem,
    Proposal,
    Refund,
    ServiceLog,
    Task,
    TaxRate,
    User,
    Visit,
)

TODAY = dt.date(2026, 3, 15)


def _client(db, name, *, status="active", tags=(), email="", phone="", addresses=()) -> int:
    contacts = [ContactData(name=name, email=email, phone=phone)] if (email or phone) else []
    return clients.create_client(
        db, ClientData(name=name, status=status, tags=list(tags)), contacts, list(addresses)
    )


def _add(db, *objects):
    with db.write() as s:
        s.add_all(objects)
        s.flush()
        return [o.id for o in objects]


def _all_pages(fetch, limit):
    """Follow cursors to the end; fail on a page that repeats a row or returns nothing."""
    rows, cursor, seen_cursors = [], None, set()
    while True:
        page = fetch(cursor=cursor, limit=limit)
        assert page.rows or cursor is None, "a cursor led to an empty page"
        rows += page.rows
        if page.next_cursor is None:
            return rows
        assert len(page.rows) == limit
        key = repr(page.next_cursor)
        assert key not in seen_cursors
        seen_cursors.add(key)
        cursor = page.next_cursor


def _expected(items, key, descending):
    """Python's idea of the order: NULLs first ascending, last descending; ties by id."""
    def k(item):
        v = key(item)
        return (v is not None, v if v is not None else 0, item["id"])
    return [i["id"] for i in sorted(items, key=k, reverse=descending)]


# --------------------------------------------------------------------------- clients


def test_clients_page_by_name_case_insensitively_and_hide_archived(db):
    names = ["banana Co", "Apple", "cherry", "apple pie", "Éclair", "Date", "elder", "Fig"]
    ids = {n: _client(db, n) for n in names}
    _client(db, "Archived Aardvark", status="archived")
    rows = _all_pages(lambda **kw: lists.list_clients(db, **kw), 3)
    assert [r.name for r in rows] == sorted(names, key=lambda n: (n.casefold(), ids[n]))
    back = _all_pages(lambda **kw: lists.list_clients(db, descending=True, **kw), 3)
    assert [r.name for r in back] == [r.name for r in reversed(rows)]
    with_archived = lists.list_clients(db, include_archived=True, limit=100).rows
    assert "Archived Aardvark" in [r.name for r in with_archived]
    assert [r.name for r in lists.list_clients(db, status="archived").rows] == ["Archived Aardvark"]


def test_client_rows_show_primary_contact_tags_and_open_balance(db):
    a = _client(db, "Acme", tags=["VIP"], email="ap@acme.example", phone="(415) 555-2671")
    b = _client(db, "Bolt", tags=["lawn"])
    with db.write() as s:
        s.add_all([
            Invoice(client_id=a, status="issued", number="INV-1", balance_cents=1000, total_cents=1000),
            Invoice(client_id=a, status="partially_paid", number="INV-2", balance_cents=250,
                    total_cents=500, paid_cents=250),
            Invoice(client_id=a, status="paid", number="INV-3", balance_cents=0, total_cents=700),
            Invoice(client_id=a, status="draft", balance_cents=0, total_cents=900),
            Invoice(client_id=b, status="void", number="INV-4", balance_cents=0, total_cents=100),
        ])
    rows = {r.id: r for r in lists.list_clients(db).rows}
    assert rows[a].balance_cents == 1250 and rows[b].balance_cents == 0
    assert (rows[a].email, rows[a].phone) == ("ap@acme.example", "+14155552671")
    assert [r.id for r in lists.list_clients(db, tag=" vip ").rows] == [a]
    assert [r.id for r in lists.list_clients(db, tag="nothing").rows] == []


def test_clients_by_creation_page_with_a_cursor(db):
    ids = [_client(db, f"Client {i}") for i in range(5)]
    with db.write() as s:  # same second for two of them: the id breaks the tie
        for i, cid in enumerate(ids):
            s.get(Client, cid).created_at = dt.datetime(2026, 1, 1 + min(i, 3), 9, 0)
    rows = _all_pages(lambda **kw: lists.list_clients(db, sort="created", **kw), 2)
    assert [r.id for r in rows] == ids
    rows = _all_pages(lambda **kw: lists.list_clients(db, sort="created", descending=True, **kw), 2)
    assert [r.id for r in rows] == ids[::-1]


# --------------------------------------------------------------------------- invoices: paging property


@st.composite
def _invoice_specs(draw):
    n = draw(st.integers(min_value=0, max_value=14))
    specs = []
    for _ in range(n):
        draft = draw(st.booleans())
        day = draw(st.integers(min_value=0, max_value=6))  # few values: many ties
        specs.append({
            "draft": draft,
            "issued": None if draft else dt.datetime(2026, 1, 1) + dt.timedelta(hours=day),
            "issue_date": None if draft else dt.date(2026, 1, 1) + dt.timedelta(days=day),
            "due_date": None if draft else dt.date(2026, 1, 1) + dt.timedelta(days=draw(st.integers(0, 6))),
            "total": draw(st.integers(min_value=0, max_value=4)) * 100,
            "balance": draw(st.integers(min_value=0, max_value=3)) * 100,
        })
    return specs


SORT_KEYS = {
    "number": "issued",
    "issue_date": "issue_date",
    "due_date": "due_date",
    "total": "total",
    "balance": "balance",
}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=_invoice_specs(), limit=st.integers(min_value=1, max_value=5),
       sort=st.sampled_from(sorted(SORT_KEYS)), descending=st.booleans())
def test_every_invoice_sort_pages_through_every_row_once_in_order(db, specs, limit, sort, descending):
    with db.write() as s:
        s.execute(delete(Invoice))
        client = s.query(Client).first()
        if client is None:
            client = Client(name="Pager", sort_name="pager")
            s.add(client)
            s.flush()
        items = []
        for n, spec in enumerate(specs):
            inv = Invoice(
                client_id=client.id, status="draft" if spec["draft"] else "issued",
                number=None if spec["draft"] else f"INV-{n:04d}", issued_at=spec["issued"],
                issue_date=spec["issue_date"], due_date=spec["due_date"],
                total_cents=spec["total"], balance_cents=spec["balance"],
            )
            s.add(inv)
            s.flush()
            items.append({**spec, "id": inv.id})
    rows = _all_pages(
        lambda **kw: lists.list_invoices(db, today=TODAY, sort=sort, descending=descending, **kw),
        limit,
    )
    field = SORT_KEYS[sort]
    assert [r.id for r in rows] == _expected(items, lambda i: i[field], descending)


def test_invoice_number_sort_is_issue_order_even_past_9999_and_drafts_come_last(db):
    cid = _client(db, "Numbers")
    issued = [("INV-9998", 1), ("INV-9999", 2), ("INV-10000", 3), ("INV-10001", 4)]
    _add(db, *[
        Invoice(client_id=cid, status="issued", number=num,
                issued_at=dt.datetime(2026, 1, day, 10), issue_date=dt.date(2026, 1, day))
        for num, day in issued
    ], Invoice(client_id=cid, status="draft"), Invoice(client_id=cid, status="draft"))
    newest_first = _all_pages(lambda **kw: lists.list_invoices(db, today=TODAY, **kw), 2)
    assert [r.number for r in newest_first] == ["INV-10001", "INV-10000", "INV-9999", "INV-9998", None, None]
    oldest_first = lists.list_invoices(db, today=TODAY, descending=False).rows
    assert [r.number for r in oldest_first] == [None, None, "INV-9998", "INV-9999", "INV-10000", "INV-10001"]


def test_invoice_filters_and_days_overdue(db):
    a, b = _client(db, "Ann"), _client(db, "Bob")
    ids = _add(
        db,
        Invoice(client_id=a, status="issued", number="I-1", issue_date=dt.date(2026, 1, 1),
                due_date=dt.date(2026, 1, 31), balance_cents=100, total_cents=100),
        Invoice(client_id=a, status="partially_paid", number="I-2", issue_date=dt.date(2026, 2, 20),
                due_date=TODAY, balance_cents=50, total_cents=100, paid_cents=50),
        Invoice(client_id=b, status="paid", number="I-3", issue_date=dt.date(2025, 12, 1),
                due_date=dt.date(2025, 12, 31), total_cents=300),
        Invoice(client_id=b, status="draft", total_cents=400),
        Invoice(client_id=b, status="issued", number="I-4", issue_date=dt.date(2026, 3, 1),
                due_date=dt.date(2026, 3, 31), balance_cents=500, total_cents=500),
    )
    inv1, inv2, inv3, inv4, inv5 = ids

    def ids_of(**kw):
        return {r.id for r in lists.list_invoices(db, today=TODAY, **kw).rows}

    assert ids_of(status="open") == {inv1, inv2, inv5}
    assert ids_of(status="overdue") == {inv1}  # due today is not overdue yet
    assert ids_of(status="draft") == {inv4}
    assert ids_of(client_id=b) == {inv3, inv4, inv5}
    assert ids_of(client_id=a, status="open") == {inv1, inv2}
    assert ids_of(issued_from="2026-01-01", issued_to=dt.date(2026, 2, 28)) == {inv1, inv2}
    assert ids_of(due_from=dt.date(2026, 3, 15)) == {inv2, inv5}
    rows = {r.id: r for r in lists.list_invoices(db, today=TODAY).rows}
    assert rows[inv1].days_overdue == 43 and rows[inv1].overdue
    assert rows[inv2].days_overdue == 0 and not rows[inv2].overdue
    assert rows[inv3].days_overdue == 0  # paid long ago: not overdue
    assert rows[inv1].client_name == "Ann" and rows[inv4].number is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"sort": "colour"}, "sort"),
        ({"status": "unpaid"}, "status"),
        ({"issued_from": "2026-02-30"}, "issued from"),
        ({"due_from": "2026-03-02", "due_to": "2026-03-01"}, "due to"),
        ({"cursor": ("not a date", 3)}, "cursor"),
        ({"cursor": "abc"}, "cursor"),
        ({"sort": "total", "cursor": (None, 3)}, "cursor"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_invoice_list_arguments_name_the_field(db, kwargs, field):
    with pytest.raises(ValidationError) as err:
        lists.list_invoices(db, today=TODAY, **kwargs)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda db: lists.list_clients(db, sort="balance"), "sort"),
        (lambda db: lists.list_clients(db, status="gone"), "status"),
        (lambda db: lists.list_proposals(db, status="pending"), "status"),
        (lambda db: lists.list_jobs(db, status="done"), "status"),
        (lambda db: lists.list_jobs(db, billing="hourly"), "billing"),
        (lambda db: lists.list_visits(db, status="late"), "status"),
        (lambda db: lists.list_visits(db, starts_from="soon"), "starts from"),
        (lambda db: lists.list_visits(db, starts_from="2026-03-02", starts_before="2026-03-01"), "starts before"),
        (lambda db: lists.list_tasks(db, bucket="someday"), "bucket"),
        (lambda db: lists.list_tasks(db, status="done", bucket="overdue"), "bucket"),
        (lambda db: lists.list_payments(db, method="gold"), "method"),
        (lambda db: lists.list_payments(db, sort="client"), "sort"),
        (lambda db: lists.list_addresses(db, kind="home"), "kind"),
        (lambda db: lists.list_service_logs(db, logged_from="yesterday"), "logged from"),
    ],
)
def test_bad_filters_and_sorts_name_the_argument(db, call, field):
    with pytest.raises(ValidationError) as err:
        call(db)
    assert err.value.field == field


# --------------------------------------------------------------------------- proposals, jobs, visits


def test_proposals_derive_expired_and_sort_by_number_total_and_date(db):
    cid = _client(db, "Quinn")
    specs = [  # status, number, sent day, valid until, total
        ("draft", None, None, None, 500),
        ("sent", "PRO-2026-0001", 1, dt.date(2026, 3, 14), 300),  # expired yesterday
        ("sent", "PRO-2026-0002", 2, TODAY, 900),  # valid through today
        ("approved", "PRO-2026-0003", 3, dt.date(2026, 1, 1), 100),  # answered: never expired
        ("declined", "PRO-2026-0004", 4, None, 700),
    ]
    ids = _add(db, *[
        Proposal(client_id=cid, status=st_, number=num, total_cents=total, valid_until=valid,
                 sent_at=dt.datetime(2026, 3, day, 8) if day else None,
                 created_at=dt.datetime(2026, 2, 1 + i, 8))
        for i, (st_, num, day, valid, total) in enumerate(specs)
    ])
    rows = {r.id: r for r in lists.list_proposals(db, today=TODAY).rows}
    assert [rows[i].display_status for i in ids] == ["draft", "expired", "sent", "approved", "declined"]
    assert rows[ids[1]].expired and not rows[ids[3]].expired and rows[ids[0]].client_name == "Quinn"

    def order(**kw):
        return [r.id for r in _all_pages(lambda **k: lists.list_proposals(db, today=TODAY, **kw, **k), 2)]

    assert order(status="expired") == [ids[1]]
    assert order(status="sent") == [ids[2]]
    assert order(sort="number") == [ids[4], ids[3], ids[2], ids[1], ids[0]]  # newest sent first, draft last
    assert order(sort="number", descending=False) == ids
    assert order(sort="total", descending=False) == [ids[3], ids[1], ids[0], ids[4], ids[2]]
    assert order(sort="date") == ids[::-1]
    assert order(created_from="2026-02-02", created_to="2026-02-03") == [ids[2], ids[1]]


def test_jobs_list_sorts_and_shows_the_next_visit(db):
    cid = _client(db, "Jo")
    j1, j2, j3 = _add(
        db,
        Job(client_id=cid, number="JOB-0001", title="Mow lawn", status="scheduled", created_at=dt.datetime(2026, 1, 3)),
        Job(client_id=cid, number="JOB-0002", title="Clean gutters", status="completed", created_at=dt.datetime(2026, 1, 1)),
        Job(client_id=cid, number="JOB-0003", title="annual service", status="cancelled", billing="per_visit",
            created_at=dt.datetime(2026, 1, 2)),
    )
    _add(
        db,
        Visit(job_id=j1, starts_at=dt.datetime(2026, 3, 10, 9), ends_at=dt.datetime(2026, 3, 10, 10), status="completed"),
        Visit(job_id=j1, starts_at=dt.datetime(2026, 3, 20, 9), ends_at=dt.datetime(2026, 3, 20, 10)),
        Visit(job_id=j1, starts_at=dt.datetime(2026, 3, 17, 9), ends_at=dt.datetime(2026, 3, 17, 10), status="cancelled"),
        Visit(job_id=j1, starts_at=dt.datetime(2026, 3, 18, 9), ends_at=dt.datetime(2026, 3, 18, 10)),
    )
    rows = {r.id: r for r in lists.list_jobs(db, today=TODAY).rows}
    assert rows[j1].next_visit_at == dt.datetime(2026, 3, 18, 9)
    assert rows[j2].next_visit_at is None and rows[j1].client_name == "Jo"
    assert [r.id for r in lists.list_jobs(db, today=TODAY).rows] == [j3, j2, j1]
    by_title = _all_pages(lambda **kw: lists.list_jobs(db, sort="title", descending=False, **kw), 1)
    assert [r.title for r in by_title] == ["Clean gutters", "Mow lawn", "annual service"]  # code point order
    by_date = _all_pages(lambda **kw: lists.list_jobs(db, sort="date", descending=False, **kw), 2)
    assert [r.id for r in by_date] == [j2, j3, j1]
    assert [r.id for r in lists.list_jobs(db, status="completed").rows] == [j2]
    assert [r.id for r in lists.list_jobs(db, billing="per_visit").rows] == [j3]


def test_schedule_lists_visits_by_range_assignee_and_status(db):
    cid = _client(db, "Sam", addresses=[AddressData(line1="9 Shore Rd", city="Lakeview")])
    with db.read() as s:
        address_id = s.get(Client, cid).addresses[0].id
    tech, other = _add(db, User(name="Tess Tech"), User(name="Otto"))
    (job,) = _add(db, Job(client_id=cid, number="JOB-1", title="Windows", address_id=address_id))
    day = dt.datetime(2026, 3, 16)
    visits = _add(db, *[
        Visit(job_id=job, starts_at=day + dt.timedelta(hours=h), ends_at=day + dt.timedelta(hours=h + 1),
              assignee_id=who, status=status)
        for h, who, status in [(8, tech, "scheduled"), (8, other, "scheduled"), (11, None, "scheduled"),
                               (14, tech, "completed"), (24 + 9, tech, "scheduled"), (-15, tech, "scheduled")]
    ])
    monday = lists.list_visits(db, starts_from=dt.date(2026, 3, 16), starts_before=dt.date(2026, 3, 17))
    assert [v.id for v in monday.rows] == visits[:4]
    first = monday.rows[0]
    assert (first.job_number, first.client_name, first.address, first.assignee_name) == (
        "JOB-1", "Sam", "9 Shore Rd, Lakeview", "Tess Tech")
    week = _all_pages(lambda **kw: lists.list_visits(db, starts_from="2026-03-16", assignee_id=tech, **kw), 1)
    assert [v.id for v in week] == [visits[0], visits[3], visits[4]]
    assert [v.id for v in lists.list_visits(db, unassigned=True).rows] == [visits[2]]
    assert [v.id for v in lists.list_visits(db, status="completed").rows] == [visits[3]]
    assert [v.id for v in lists.list_visits(db, descending=True, limit=2).rows] == [visits[4], visits[3]]
    assert lists.list_visits(db, client_id=cid + 1000).rows == []


def test_service_logs_filter_by_job_and_date_and_preview_long_notes(db):
    cid = _client(db, "Lou")
    j1, j2 = _add(db, Job(client_id=cid, number="JOB-1", title="A"), Job(client_id=cid, number="JOB-2", title="B"))
    (tech,) = _add(db, User(name="Tia"))
    logs = _add(db, *[
        ServiceLog(job_id=j, client_id=cid, technician_id=tech, logged_on=dt.date(2026, 3, d),
                   minutes_spent=30 * d, notes="x" * 5000 if d == 2 else "fixed tap")
        for j, d in [(j1, 1), (j1, 2), (j2, 3), (j1, 4)]
    ])
    rows = lists.list_service_logs(db, job_id=j1).rows
    assert [r.id for r in rows] == [logs[3], logs[1], logs[0]]
    assert rows[1].notes_preview == "x" * 200 and rows[0].technician_name == "Tia"
    assert rows[0].job_number == "JOB-1" and rows[0].client_name == "Lou"
    ranged = lists.list_service_logs(db, logged_from="2026-03-02", logged_to="2026-03-03", descending=False)
    assert [r.id for r in ranged.rows] == [logs[1], logs[2]]


# --------------------------------------------------------------------------- tasks


def test_task_buckets_follow_today_and_only_hold_open_tasks(db):
    cid = _client(db, "Tom")
    (user,) = _add(db, User(name="Uma"))
    specs = [  # due, status
        (dt.date(2026, 3, 1), "open"),
        (TODAY, "open"),
        (dt.date(2026, 3, 20), "open"),
        (None, "open"),
        (dt.date(2026, 3, 2), "done"),
        (TODAY, "done"),
    ]
    ids = _add(db, *[Task(title=f"T{i}", due_date=due, status=st_, assignee_id=user, client_id=cid)
                     for i, (due, st_) in enumerate(specs)])

    def bucket(name):
        return [r.id for r in lists.list_tasks(db, today=TODAY, bucket=name).rows]

    assert bucket("overdue") == [ids[0]]
    assert bucket("today") == [ids[1]]
    assert bucket("upcoming") == [ids[2]]
    assert bucket("no_date") == [ids[3]]
    rows = {r.id: r for r in lists.list_tasks(db, today=TODAY).rows}
    assert rows[ids[0]].overdue and not rows[ids[4]].overdue  # done is never overdue
    assert rows[ids[1]].due_today and not rows[ids[5]].due_today
    assert rows[ids[0]].assignee_name == "Uma" and rows[ids[0]].client_name == "Tom"
    open_by_due = _all_pages(lambda **kw: lists.list_tasks(db, today=TODAY, status="open", **kw), 1)
    assert [r.id for r in open_by_due] == [ids[3], ids[0], ids[1], ids[2]]  # no date first
    newest_due = _all_pages(lambda **kw: lists.list_tasks(db, today=TODAY, descending=True, **kw), 2)
    assert [r.id for r in newest_due] == [ids[2], ids[5], ids[1], ids[4], ids[0], ids[3]]
    assert [r.id for r in lists.list_tasks(db, today=TODAY, due_from=TODAY, due_to=TODAY).rows] == [ids[1], ids[5]]


# --------------------------------------------------------------------------- payments


def test_payments_sort_by_date_and_amount_and_filter(db):
    a, b = _client(db, "Pat"), _client(db, "Quin")
    inv_a, inv_b = _add(db, Invoice(client_id=a, status="paid", number="INV-7"),
                        Invoice(client_id=b, status="paid", number="INV-8"))
    pays = _add(db, *[
        Payment(invoice_id=inv, client_id=c, amount_cents=amt, method=m, received_on=dt.date(2026, 3, d),
                refunded_cents=ref)
        for inv, c, amt, m, d, ref in [(inv_a, a, 500, "cash", 2, 0), (inv_a, a, 1500, "card", 1, 200),
                                        (inv_b, b, 900, "check", 2, 0)]
    ])
    by_date = _all_pages(lambda **kw: lists.list_payments(db, **kw), 1)
    assert [p.id for p in by_date] == [pays[2], pays[0], pays[1]]
    by_amount = _all_pages(lambda **kw: lists.list_payments(db, sort="amount", descending=False, **kw), 2)
    assert [p.amount_cents for p in by_amount] == [500, 900, 1500]
    assert by_date[2].net_cents == 1300 and by_date[2].invoice_number == "INV-7"
    assert by_date[0].client_name == "Quin"
    assert [p.id for p in lists.list_payments(db, client_id=a, method="card").rows] == [pays[1]]
    assert [p.id for p in lists.list_payments(db, received_from="2026-03-02").rows] == [pays[2], pays[0]]
    assert [p.id for p in lists.list_payments(db, invoice_id=inv_b).rows] == [pays[2]]


# --------------------------------------------------------------------------- contacts, addresses, catalogue


def test_contacts_and_addresses_list_per_client_and_hide_archived_clients(db):
    a = clients.create_client(
        db, ClientData(name="Acme"),
        [ContactData(name="Zed", email="z@acme.example"), ContactData(name="Amy", phone="415 555 2671")],
        [AddressData(line1="2 Oak St", kind="billing"), AddressData(line1="1 Elm St", city="Salem")],
    )
    gone = clients.create_client(db, ClientData(name="Gone", status="archived"),
                                 [ContactData(name="Bea")], [AddressData(line1="3 Ash St")])
    everyone = _all_pages(lambda **kw: lists.list_contacts(db, **kw), 1)
    assert [(c.name, c.client_name) for c in everyone] == [("Amy", "Acme"), ("Zed", "Acme")]
    assert everyone[0].phone == "+14155552671" and everyone[1].is_primary
    assert [c.name for c in lists.list_contacts(db, client_id=gone).rows] == ["Bea"]
    assert len(lists.list_contacts(db, include_archived=True).rows) == 3
    assert [c.name for c in lists.list_contacts(db, descending=True).rows] == ["Zed", "Amy"]
    addresses = _all_pages(lambda **kw: lists.list_addresses(db, **kw), 1)
    assert [(x.line1, x.city) for x in addresses] == [("1 Elm St", "Salem"), ("2 Oak St", "")]
    assert [x.line1 for x in lists.list_addresses(db, client_id=a, kind="billing").rows] == ["2 Oak St"]
    assert [x.line1 for x in lists.list_addresses(db, client_id=gone).rows] == ["3 Ash St"]


def test_price_book_and_tax_rates(db):
    tax, old = _add(db, TaxRate(name="State", rate=Decimal("8.875")),
                    TaxRate(name="Old", rate=Decimal("5"), active=False))
    _add(db, *[PriceBookItem(name=n, unit_price_cents=p, tax_rate_id=t, active=act)
               for n, p, t, act in [("Mowing", 4500, tax, True), ("Edging", 2000, None, True),
                                    ("Raking", 1500, None, False)]])
    items = _all_pages(lambda **kw: lists.list_price_book_items(db, **kw), 1)
    assert [(i.name, i.tax_rate_name, i.tax_rate) for i in items] == [
        ("Edging", "", None), ("Mowing", "State", Decimal("8.875"))]
    assert [i.name for i in lists.list_price_book_items(db, active=False).rows] == ["Raking"]
    assert len(lists.list_price_book_items(db, active=None).rows) == 3
    assert [(r.name, r.rate) for r in lists.list_tax_rates(db)] == [("State", Decimal("8.875"))]
    assert [r.name for r in lists.list_tax_rates(db, include_inactive=True)] == ["Old", "State"]


# --------------------------------------------------------------------------- built statements are reused


def test_a_reused_statement_takes_this_calls_values(db):
    """Lists build each statement shape once; every value must still come from the call."""
    a, b = _client(db, "Ann", tags=["gold"]), _client(db, "Bob", tags=["silver"])
    _add(db, Invoice(client_id=a, status="issued", number="I-1", due_date=dt.date(2026, 3, 10), balance_cents=5),
         Invoice(client_id=b, status="issued", number="I-2", due_date=dt.date(2026, 3, 20), balance_cents=5))
    (job,) = _add(db, Job(client_id=a, number="J-1", title="T"))
    _add(db, *[Visit(job_id=job, starts_at=dt.datetime(2026, 3, d, 9), ends_at=dt.datetime(2026, 3, d, 10))
               for d in (12, 18)])
    _add(db, Task(title="call", due_date=dt.date(2026, 3, 12)))
    for _round in range(2):
        assert [r.name for r in lists.list_clients(db, tag="gold").rows] == ["Ann"]
        assert [r.name for r in lists.list_clients(db, tag="silver").rows] == ["Bob"]
        assert [r.number for r in lists.list_invoices(db, today=dt.date(2026, 3, 15), status="overdue").rows] == ["I-1"]
        assert [r.number for r in lists.list_invoices(db, today=dt.date(2026, 3, 25), status="overdue").rows] == ["I-2", "I-1"]
        assert [r.number for r in lists.list_invoices(db, client_id=b).rows] == ["I-2"]
        assert lists.list_jobs(db, today=dt.date(2026, 3, 1)).rows[0].next_visit_at == dt.datetime(2026, 3, 12, 9)
        assert lists.list_jobs(db, today=dt.date(2026, 3, 13)).rows[0].next_visit_at == dt.datetime(2026, 3, 18, 9)
        assert len(lists.list_tasks(db, today=dt.date(2026, 3, 13), bucket="overdue").rows) == 1
        assert len(lists.list_tasks(db, today=dt.date(2026, 3, 11), bucket="overdue").rows) == 0


# --------------------------------------------------------------------------- query plans (SQLite)


def _plans(db, call):
    """Run ``call`` and return SQLite's EXPLAIN QUERY PLAN of every statement it sent."""
    sent = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    with db.engine.connect() as conn:
        return [
            " | ".join(r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params))
            for sql, params in sent
        ]


@pytest.fixture
def sqlite_db(db):
    if not db.is_sqlite:
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return db


def test_deep_pages_seek_with_the_index_instead_of_scanning_from_the_start(sqlite_db):
    db = sqlite_db
    cursor = ("m", 10**6)
    (plan,) = _plans(db, lambda: lists.list_clients(db, cursor=cursor))
    assert "SEARCH clients USING INDEX ix_clients_sort_name_id (sort_name>?)" in plan
    (plan,) = _plans(db, lambda: lists.list_clients(db, cursor=cursor, descending=True))
    assert "SEARCH clients USING INDEX ix_clients_sort_name_id (sort_name<?)" in plan
    (plan,) = _plans(db, lambda: lists.list_clients(db, cursor=cursor, status="lead"))
    assert "ix_clients_status_sort_name_id (status=? AND sort_name>?)" in plan
    plans = _plans(db, lambda: lists.list_invoices(db, cursor=("2026-01-01T00:00:00", 5)))
    assert "SEARCH invoices USING INDEX ix_invoices_issued_at_id (issued_at<?)" in plans[0]
    for sort, index, column in [("due_date", "ix_invoices_due_date_id", "due_date"),
                                ("total", "ix_invoices_total_id", "total_cents"),
                                ("balance", "ix_invoices_balance_id", "balance_cents")]:
        cur = ("2026-01-01", 5) if sort == "due_date" else (100, 5)
        plans = _plans(db, lambda sort=sort, cur=cur: lists.list_invoices(db, sort=sort, cursor=cur, descending=False))
        assert f"SEARCH invoices USING INDEX {index} ({column}>?)" in plans[0], plans
    plans = _plans(db, lambda: lists.list_payments(db, cursor=("2026-01-01", 5)))
    assert "SEARCH payments USING INDEX ix_payments_received_on (received_on<?)" in plans[0]
    plans = _plans(db, lambda: lists.list_visits(db, starts_from=dt.date(2026, 3, 16)))
    assert "SEARCH visits USING INDEX ix_visits_starts_at (starts_at>?)" in plans[0]


def test_open_balances_read_only_the_partial_index(sqlite_db):
    db = sqlite_db
    (plan,) = _plans(db, lambda: lists.list_clients(db))
    assert "SEARCH invoices USING COVERING INDEX ix_invoices_open_client (client_id=?)" in plan
    (plan,) = _plans(db, lambda: lists.list_invoices(db, client_id=1, status="open"))
    assert "ix_invoices_open_client (client_id=?)" in plan


# --------------------------------------------------------------------------- the lists added for issue 2
# Every list pages through all its rows with no duplicates and no gaps at any page size, in
# both directions; each filter and sort does what its name says; bad arguments name the field.

LIMITS = (1, 2, 3, 100)


def _pages_match(fetch, expected_ids, limits=LIMITS):
    """``fetch(cursor=, limit=, descending=)`` pages through ``expected_ids`` (ascending
    order) exactly, forwards and backwards, at every page size."""
    for limit in limits:
        for descending in (False, True):
            rows = _all_pages(lambda descending=descending, **kw: fetch(descending=descending, **kw), limit)
            got = [r.id for r in rows]
            assert len(got) == len(set(got)), f"a row came twice (limit {limit})"
            assert got == (expected_ids[::-1] if descending else expected_ids), (limit, descending)


def _money_world(db):
    """Two clients' invoices and payments, for refunds and credit notes."""
    a, b = _client(db, "Ann"), _client(db, "bob")
    inv_a, inv_a2, inv_b = _add(
        db,
        Invoice(client_id=a, status="partially_paid", number="INV-0001", total_cents=10_000,
                balance_cents=5_000, paid_cents=5_000),
        Invoice(client_id=a, status="issued", number="INV-0002", total_cents=8_000, balance_cents=8_000),
        Invoice(client_id=b, status="issued", number="INV-0003", total_cents=9_000, balance_cents=9_000,
                currency="CAD"),
    )
    pay_a, pay_b = _add(
        db,
        Payment(invoice_id=inv_a, client_id=a, amount_cents=9_000, refunded_cents=4_000, method="card",
                received_on=dt.date(2026, 2, 1)),
        Payment(invoice_id=inv_b, client_id=b, amount_cents=3_000, refunded_cents=3_000, method="cash",
                received_on=dt.date(2026, 2, 2)),
    )
    return a, b, inv_a, inv_a2, inv_b, pay_a, pay_b


def test_refunds_page_in_recording_order_and_filter_by_client_invoice_payment_and_date(db):
    a, b, inv_a, _inv_a2, inv_b, pay_a, pay_b = _money_world(db)
    specs = [  # payment, invoice, amount, refunded on (backdated ones too), reason
        (pay_a, inv_a, 1_000, dt.date(2026, 3, 5), "damaged vase"),
        (pay_b, inv_b, 1_500, dt.date(2026, 3, 1), "r" * 500),
        (pay_a, inv_a, 2_000, dt.date(2026, 2, 20), ""),
        (pay_b, inv_b, 1_500, dt.date(2026, 3, 5), "double charge"),
        (pay_a, inv_a, 1_000, dt.date(2026, 3, 9), "goodwill"),
    ]
    ids = _add(db, *[Refund(payment_id=p, invoice_id=i, amount_cents=amt, refunded_on=on, reason=why)
                     for p, i, amt, on, why in specs])
    _pages_match(lambda **kw: lists.list_refunds(db, **kw), ids)

    newest = lists.list_refunds(db).rows
    assert [r.id for r in newest] == ids[::-1]  # newest recorded first by default
    by_id = {r.id: r for r in newest}
    second = by_id[ids[1]]
    assert (second.invoice_number, second.client_id, second.client_name, second.payment_method) == (
        "INV-0003", b, "bob", "cash")
    assert (second.amount_cents, second.currency, second.refunded_on) == (1_500, "CAD", dt.date(2026, 3, 1))
    assert second.reason_preview == "r" * 200 and by_id[ids[0]].reason_preview == "damaged vase"

    def ids_of(**kw):
        return [r.id for r in _all_pages(lambda **k: lists.list_refunds(db, descending=False, **kw, **k), 1)]

    assert ids_of(client_id=a) == [ids[0], ids[2], ids[4]]
    assert ids_of(client_id=b) == [ids[1], ids[3]]
    assert ids_of(invoice_id=inv_b) == [ids[1], ids[3]]
    assert ids_of(payment_id=pay_a) == [ids[0], ids[2], ids[4]]
    assert ids_of(refunded_from="2026-03-01", refunded_to=dt.date(2026, 3, 5)) == [ids[0], ids[1], ids[3]]
    assert ids_of(client_id=a, refunded_to="2026-03-05") == [ids[0], ids[2]]
    assert ids_of(refunded_from="2026-03-10") == []


def test_credit_notes_page_by_number_and_filter_by_client_invoice_date_and_voiding(db):
    a, b, inv_a, inv_a2, inv_b, _pay_a, _pay_b = _money_world(db)
    specs = [  # number, invoice, client, amount, issued on, voids
        ("CN-9999", inv_a, a, 1_000, dt.date(2026, 3, 2), False),
        ("CN-10000", inv_b, b, 9_000, dt.date(2026, 3, 1), True),  # text order would put it first
        ("CN-10001", inv_a2, a, 8_000, dt.date(2026, 3, 4), True),
        ("CN-10002", inv_a, a, 500, dt.date(2026, 2, 27), False),
    ]
    ids = _add(db, *[CreditNote(number=n, invoice_id=i, client_id=c, amount_cents=amt, issued_on=on,
                                voids_invoice=v, reason=f"reason {n}")
                     for n, i, c, amt, on, v in specs])
    _pages_match(lambda **kw: lists.list_credit_notes(db, **kw), ids)

    rows = lists.list_credit_notes(db).rows
    assert [r.number for r in rows] == ["CN-10002", "CN-10001", "CN-10000", "CN-9999"]
    cad = rows[2]
    assert (cad.invoice_number, cad.client_name, cad.currency, cad.amount_cents, cad.voids_invoice) == (
        "INV-0003", "bob", "CAD", 9_000, True)
    assert cad.issued_on == dt.date(2026, 3, 1) and cad.reason_preview == "reason CN-10000"

    def ids_of(**kw):
        return [r.id for r in _all_pages(lambda **k: lists.list_credit_notes(db, descending=False, **kw, **k), 1)]

    assert ids_of(client_id=a) == [ids[0], ids[2], ids[3]]
    assert ids_of(invoice_id=inv_a) == [ids[0], ids[3]]
    assert ids_of(voids_invoice=True) == [ids[1], ids[2]]
    assert ids_of(voids_invoice=False, client_id=a) == [ids[0], ids[3]]
    assert ids_of(issued_from="2026-03-01", issued_to="2026-03-02") == [ids[0], ids[1]]
    assert ids_of(client_id=b, issued_from=dt.date(2026, 3, 2)) == []


def test_audit_trail_pages_newest_first_and_filters_by_client_record_actor_action_and_day(db):
    a = _client(db, "Ann")  # the service writes its own event
    b = _client(db, "Bob")
    with db.read() as s:
        service_events = [e.id for e in s.query(AuditEvent).order_by(AuditEvent.id)]
    day = dt.datetime(2026, 3, 10, 23, 30)
    specs = [  # at, actor, action, entity type, entity id, client
        (day, "owner", "invoice.issue", "invoice", 7, a),
        (day + dt.timedelta(hours=1), "tess", "visit.complete", "visit", 3, b),  # the next day (UTC)
        (day + dt.timedelta(hours=2), "owner", "invoice.void", "invoice", 7, a),
        (day + dt.timedelta(days=2), "system", "settings.update", "setting", None, None),
        (day + dt.timedelta(days=2), "owner", "invoice.issue", "invoice", 8, b),
    ]
    ids = _add(db, *[AuditEvent(at=at, actor=who, action=act, entity_type=et, entity_id=eid,
                                client_id=cid, summary=f"{act} {eid}")
                     for at, who, act, et, eid, cid in specs])
    everything = service_events + ids
    _pages_match(lambda **kw: lists.list_audit_events(db, **kw), everything)

    newest = lists.list_audit_events(db).rows
    assert [e.id for e in newest] == everything[::-1]
    first = {e.id: e for e in newest}[ids[0]]
    assert (first.at, first.actor, first.action, first.entity_type, first.entity_id) == (
        day, "owner", "invoice.issue", "invoice", 7)
    assert (first.client_id, first.client_name, first.summary) == (a, "Ann", "invoice.issue 7")
    assert {e.id: e for e in newest}[ids[3]].client_name == ""

    def ids_of(**kw):
        return [e.id for e in _all_pages(lambda **k: lists.list_audit_events(db, descending=False, **kw, **k), 1)]

    assert ids_of(client_id=a) == [service_events[0], ids[0], ids[2]]
    assert ids_of(entity_type="invoice", entity_id=7) == [ids[0], ids[2]]
    assert ids_of(entity_type="invoice") == [ids[0], ids[2], ids[4]]
    assert ids_of(actor="tess") == [ids[1]]
    assert ids_of(action="invoice.issue") == [ids[0], ids[4]]
    assert ids_of(at_from="2026-03-10", at_to="2026-03-10") == [ids[0]]
    assert ids_of(at_from=dt.date(2026, 3, 11), at_to="2026-03-12") == [ids[1], ids[2], ids[3], ids[4]]
    assert ids_of(entity_type="nothing-like-this") == []


def test_staff_page_by_name_case_insensitively_with_role_and_active_filters(db):
    specs = [("bob", "technician", True), ("Amy", "owner", True), ("carl", "office", False),
             ("Bob", "technician", True), ("dee", "admin", True), ("Eve", "technician", False)]
    ids = _add(db, *[User(name=n, role=r, active=act, email=f"{n.lower()}@x.example" if r == "owner" else None)
                     for n, r, act in specs])
    people = [{"id": i, "name": n, "role": r, "active": act} for i, (n, r, act) in zip(ids, specs, strict=True)]

    def order(rows):
        return [p["id"] for p in sorted(rows, key=lambda p: (p["name"].lower(), p["id"]))]

    _pages_match(lambda **kw: lists.list_users_page(db, active=None, **kw), order(people))
    _pages_match(lambda **kw: lists.list_users_page(db, **kw), order([p for p in people if p["active"]]))
    rows = lists.list_users_page(db).rows
    assert [r.name for r in rows] == ["Amy", "bob", "Bob", "dee"]
    assert (rows[0].role, rows[0].email, rows[0].phone, rows[0].active) == ("owner", "amy@x.example", "", True)
    assert [r.name for r in lists.list_users_page(db, active=False).rows] == ["carl", "Eve"]
    assert [r.name for r in lists.list_users_page(db, role="technician").rows] == ["bob", "Bob"]
    assert [r.name for r in lists.list_users_page(db, role="technician", active=None).rows] == ["bob", "Bob", "Eve"]


def test_tax_rates_page_by_name_with_an_active_filter(db):
    specs = [("State", "8.875", True), ("City", "4.5", True), ("Old county", "1", False),
             ("County", "0.375", True), ("Zone", "2", True)]
    ids = _add(db, *[TaxRate(name=n, rate=Decimal(r), active=act) for n, r, act in specs])
    rates = [{"id": i, "name": n, "active": act} for i, (n, _r, act) in zip(ids, specs, strict=True)]
    _pages_match(lambda **kw: lists.list_tax_rates_page(db, active=None, **kw),
                 _expected(rates, lambda r: r["name"], False))
    rows = lists.list_tax_rates_page(db).rows
    assert [(r.name, r.rate, r.active) for r in rows] == [
        ("City", Decimal("4.5"), True), ("County", Decimal("0.375"), True),
        ("State", Decimal("8.875"), True), ("Zone", Decimal("2"), True)]
    assert [r.name for r in lists.list_tax_rates_page(db, active=False).rows] == ["Old county"]


def test_clients_filter_by_the_day_they_were_added(db):
    ids = [_client(db, f"Client {i}") for i in range(4)]
    added = [dt.datetime(2026, 1, 1, 23, 59), dt.datetime(2026, 1, 2, 0, 0), dt.datetime(2026, 1, 2, 18, 0),
             dt.datetime(2026, 1, 3, 0, 0)]
    with db.write() as s:
        for cid, at in zip(ids, added, strict=True):
            s.get(Client, cid).created_at = at

    def ids_of(**kw):
        return [r.id for r in _all_pages(lambda **k: lists.list_clients(db, sort="created", **kw, **k), 1)]

    assert ids_of(created_from="2026-01-02", created_to="2026-01-02", descending=False) == ids[1:3]
    assert ids_of(created_from=dt.date(2026, 1, 2), descending=True) == ids[:0:-1]
    assert ids_of(created_to="2026-01-01") == ids[:1]
    assert [r.id for r in lists.list_clients(db, created_from="2026-01-02", created_to="2026-01-02").rows] == [
        ids[1], ids[2]]  # by name, the default sort


def test_jobs_sort_by_amount_with_ties_broken_by_number(db):
    cid = _client(db, "Jo")
    totals = [5_000, 120, 5_000, 0, 99_999, 120]
    ids = _add(db, *[Job(client_id=cid, number=f"JOB-{i:04d}", title=f"Job {i}", total_cents=t)
                     for i, t in enumerate(totals)])
    jobs = [{"id": i, "total": t} for i, t in zip(ids, totals, strict=True)]
    _pages_match(lambda **kw: lists.list_jobs(db, today=TODAY, sort="amount", **kw),
                 _expected(jobs, lambda j: j["total"], False))
    biggest = lists.list_jobs(db, today=TODAY, sort="amount").rows  # largest first by default
    assert [j.total_cents for j in biggest] == [99_999, 5_000, 5_000, 120, 120, 0]


def test_tasks_sort_by_title_and_by_when_they_were_added(db):
    titles = ["Call Ann", "buy salt", "Call Ann", "Ask for review", "order parts"]
    dues = [dt.date(2026, 3, 20), None, TODAY, dt.date(2026, 3, 1), None]
    ids = _add(db, *[Task(title=t, due_date=d, created_at=dt.datetime(2026, 3, 1 + i, 8))
                     for i, (t, d) in enumerate(zip(titles, dues, strict=True))])
    tasks = [{"id": i, "title": t} for i, t in zip(ids, titles, strict=True)]
    by_title = _expected(tasks, lambda t: t["title"], False)  # code point order, as jobs by title
    _pages_match(lambda **kw: lists.list_tasks(db, today=TODAY, sort="title", **kw), by_title)
    _pages_match(lambda **kw: lists.list_tasks(db, today=TODAY, sort="created", **kw), ids)
    rows = lists.list_tasks(db, today=TODAY, sort="created", descending=True).rows
    assert [r.created_on for r in rows] == [dt.date(2026, 3, 5 - i) for i in range(5)]
    # filters still apply under the new sorts
    overdue = lists.list_tasks(db, today=TODAY, bucket="overdue", sort="title").rows
    assert [r.title for r in overdue] == ["Ask for review"]
    upcoming_first_added = lists.list_tasks(db, today=TODAY, bucket="upcoming", sort="created").rows
    assert [r.id for r in upcoming_first_added] == [ids[0]]
    assert [r.id for r in lists.list_tasks(db, today=TODAY, sort="title", status="open", limit=2).rows] == by_title[:2]


def test_visits_sort_by_client_name_within_a_range(db):
    names = ["beta Builders", "Alpha", "carol"]
    cids = [_client(db, n) for n in names]
    jobs = _add(db, *[Job(client_id=c, number=f"JOB-{i}", title="Work") for i, c in enumerate(cids)]
                + [Job(client_id=cids[1], number="JOB-9", title="More work")])
    day = dt.datetime(2026, 3, 16, 8)
    plan = [(jobs[0], 0), (jobs[1], 1), (jobs[3], 2), (jobs[2], 3), (jobs[1], 4), (jobs[0], 30), (jobs[2], -30)]
    ids = _add(db, *[Visit(job_id=j, starts_at=day + dt.timedelta(hours=h), ends_at=day + dt.timedelta(hours=h + 1))
                     for j, h in plan])
    client_of = {jobs[0]: "beta builders", jobs[1]: "alpha", jobs[2]: "carol", jobs[3]: "alpha"}
    visits = [{"id": v, "client": client_of[j]} for v, (j, _h) in zip(ids, plan, strict=True)]
    _pages_match(lambda **kw: lists.list_visits(db, sort="client", **kw),
                 _expected(visits, lambda v: v["client"], False))
    week = [v for v, (_j, h) in zip(visits, plan, strict=True) if 0 <= h < 24]
    _pages_match(lambda **kw: lists.list_visits(db, sort="client", starts_from=dt.date(2026, 3, 16),
                                                starts_before=dt.date(2026, 3, 17), **kw),
                 _expected(week, lambda v: v["client"], False))
    rows = lists.list_visits(db, sort="client", starts_from="2026-03-16", starts_before="2026-03-17").rows
    assert [r.client_name for r in rows] == ["Alpha", "Alpha", "Alpha", "beta Builders", "carol"]
    assert [r.job_number for r in rows[:3]] == ["JOB-1", "JOB-9", "JOB-1"]  # one client's visits by id
    assert [r.id for r in lists.list_visits(db, sort="client", client_id=cids[2]).rows] == [ids[3], ids[6]]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda db: lists.list_clients(db, created_from="2026-13-01"), "created from"),
        (lambda db: lists.list_clients(db, created_from="2026-03-02", created_to="2026-03-01"), "created to"),
        (lambda db: lists.list_jobs(db, sort="price"), "sort"),
        (lambda db: lists.list_jobs(db, sort="amount", cursor=("100", 1)), "cursor"),
        (lambda db: lists.list_tasks(db, sort="priority"), "sort"),
        (lambda db: lists.list_tasks(db, sort="title", cursor=(None, 1)), "cursor"),
        (lambda db: lists.list_tasks(db, sort="created", cursor=("2026-03-01", 1)), "cursor"),
        (lambda db: lists.list_visits(db, sort="status"), "sort"),
        (lambda db: lists.list_visits(db, sort="client", cursor=(3, 1)), "cursor"),
        (lambda db: lists.list_refunds(db, refunded_from="last week"), "refunded from"),
        (lambda db: lists.list_refunds(db, refunded_from="2026-03-02", refunded_to="2026-03-01"), "refunded to"),
        (lambda db: lists.list_refunds(db, cursor=("2026-03-01", 1)), "cursor"),
        (lambda db: lists.list_refunds(db, limit=0), "limit"),
        (lambda db: lists.list_credit_notes(db, issued_to="2026-02-30"), "issued to"),
        (lambda db: lists.list_credit_notes(db, cursor=(1,)), "cursor"),
        (lambda db: lists.list_credit_notes(db, limit=True), "limit"),
        (lambda db: lists.list_audit_events(db, at_from="soon"), "at from"),
        (lambda db: lists.list_audit_events(db, at_from="2026-03-02", at_to="2026-03-01"), "at to"),
        (lambda db: lists.list_audit_events(db, entity_id=7), "entity type"),
        (lambda db: lists.list_audit_events(db, cursor=(None, 1)), "cursor"),
        (lambda db: lists.list_users_page(db, role="boss"), "role"),
        (lambda db: lists.list_users_page(db, sort="role"), "sort"),
        (lambda db: lists.list_users_page(db, cursor=(5, 1)), "cursor"),
        (lambda db: lists.list_tax_rates_page(db, sort="rate"), "sort"),
        (lambda db: lists.list_tax_rates_page(db, limit=-1), "limit"),
    ],
)
def test_bad_arguments_to_the_new_lists_and_sorts_name_the_field(db, call, field):
    with pytest.raises(ValidationError) as err:
        call(db)
    assert err.value.field == field


def test_new_lists_walk_an_index_in_their_order(sqlite_db):
    """Deep pages seek (SEARCH ... rowid< / index) instead of sorting the table, for the new
    lists and sorts. Jobs by amount and tasks by title read the model's new indexes (made
    here when this database's migrations predate them)."""
    db = sqlite_db
    with db.engine.begin() as conn:
        for table, name in (("jobs", "ix_jobs_total_id"), ("tasks", "ix_tasks_title_id")):
            index = next(ix for ix in models.Base.metadata.tables[table].indexes if ix.name == name)
            index.create(conn, checkfirst=True)
        conn.execute(text("ANALYZE"))
    cases = [
        (lambda: lists.list_refunds(db, cursor=(9, 9)), "SEARCH refunds USING INTEGER PRIMARY KEY (rowid<?)"),
        (lambda: lists.list_refunds(db, payment_id=2, cursor=(9, 9)), "ix_refunds_payment_id (payment_id=? AND rowid<?)"),
        (lambda: lists.list_credit_notes(db, cursor=(9, 9)), "SEARCH credit_notes USING INTEGER PRIMARY KEY (rowid<?)"),
        (lambda: lists.list_credit_notes(db, client_id=2, cursor=(9, 9)),
         "ix_credit_notes_client_id (client_id=? AND rowid<?)"),
        (lambda: lists.list_audit_events(db, cursor=(9, 9)), "SEARCH audit_events USING INTEGER PRIMARY KEY (rowid<?)"),
        (lambda: lists.list_audit_events(db, client_id=2, cursor=(9, 9)),
         "ix_audit_events_client_id (client_id=? AND rowid<?)"),
        (lambda: lists.list_audit_events(db, entity_type="invoice", entity_id=2, cursor=(9, 9)),
         "ix_audit_events_entity (entity_type=? AND entity_id=? AND rowid<?)"),
        (lambda: lists.list_tax_rates_page(db, cursor=("m", 9)), "SEARCH tax_rates USING INDEX sqlite_autoindex_tax_rates_1 (name>?)"),
        (lambda: lists.list_tasks(db, sort="created", cursor=(9, 9)), "SEARCH tasks USING INTEGER PRIMARY KEY (rowid>?)"),
        (lambda: lists.list_jobs(db, sort="amount", cursor=(100, 9)), "SEARCH jobs USING INDEX ix_jobs_total_id (total_cents<?)"),
        (lambda: lists.list_tasks(db, sort="title", cursor=("m", 9)), "SEARCH tasks USING INDEX ix_tasks_title_id (title>?)"),
        (lambda: lists.list_clients(db, sort="created", created_from="2026-01-01"),
         "SEARCH clients USING INDEX ix_clients_created_at_id (created_at>?)"),
    ]
    for call, wanted in cases:
        (plan,) = _plans(db, call)
        assert wanted in plan, plan
        assert "TEMP B-TREE FOR ORDER BY" not in plan.split("CORRELATED")[0], plan
