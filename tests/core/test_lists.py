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

from core import clients, lists
from core.clients import AddressData, ClientData, ContactData
from core.errors import ValidationError
from core.models import (
    Client,
    Invoice,
    Job,
    Payment,
    PriceBookItem,
    Proposal,
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
