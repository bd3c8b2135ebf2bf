"""The client overview read model on both backends: what the detail screen shows is right,
bounded, and never mixes in another client's records."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import clients, overview
from core.clients import AddressData, ClientData, ContactData
from core.errors import NotFound
from core.models import ClientCredit, Invoice, Job, Proposal

TODAY = dt.date(2026, 3, 15)
_numbers = itertools.count(1)


def _client(db, name="Acme Ltd", **kw) -> int:
    return clients.create_client(
        db,
        ClientData(name=name, kind="company", tags=["vip", "north"], notes="Gate code 1234",
                   custom_fields={"Account": "A-7"}, **kw),
        [ContactData(name="Jane Roe", email="jane@acme.test", phone="415-555-0100", role="Owner"),
         ContactData(name="Sam Poe", email="sam@acme.test", is_primary=True, sms_consent=True)],
        [AddressData(line1="1 Main St", kind="billing", city="Springfield", region="IL"),
         AddressData(line1="9 Farm Rd", label="Barn", city="Shelbyville")],
    )


def _invoice(s, client_id, status, total, balance, due=None, number=True) -> Invoice:
    inv = Invoice(
        client_id=client_id, status=status, total_cents=total, balance_cents=balance,
        number=f"INV-{next(_numbers):05d}" if number and status != "draft" else None,
        issue_date=dt.date(2026, 1, 1) if status != "draft" else None, due_date=due,
    )
    s.add(inv)
    return inv


def test_overview_shows_the_client_as_saved(db):
    cid = _client(db)
    ov = overview.client_overview(db, cid, today=TODAY)
    assert (ov.name, ov.kind, ov.status, ov.company_name) == ("Acme Ltd", "company", "active", "")
    assert ov.tags == ("north", "vip")
    assert ov.notes == "Gate code 1234" and ov.custom_fields == {"Account": "A-7"}
    assert [c.name for c in ov.contacts] == ["Jane Roe", "Sam Poe"]
    assert [c.is_primary for c in ov.contacts] == [False, True]
    assert ov.contacts[0].phone == "+14155550100" and ov.contacts[1].sms_consent
    assert [(a.kind, a.line1, a.label) for a in ov.addresses] == [
        ("billing", "1 Main St", ""), ("service", "9 Farm Rd", "Barn")]
    assert not ov.more_contacts and not ov.more_addresses
    assert ov.version == 1 and ov.currency == "USD"
    assert (ov.balance_cents, ov.invoice_count, ov.job_count, ov.open_proposal_count) == (0, 0, 0, 0)
    assert [a.action for a in ov.activity] == ["client.create"]


def test_missing_client_is_not_found(db):
    with pytest.raises(NotFound):
        overview.client_overview(db, 4242)


def test_balance_counts_only_open_invoices_and_overdue_by_due_date(db):
    cid, other = _client(db), _client(db, "Other Co")
    with db.write() as s:
        _invoice(s, cid, "draft", 5_000, 5_000)
        _invoice(s, cid, "issued", 10_000, 10_000, due=dt.date(2026, 3, 1))  # 14 days late
        _invoice(s, cid, "partially_paid", 8_000, 3_000, due=dt.date(2026, 3, 20))
        _invoice(s, cid, "paid", 7_000, 0, due=dt.date(2026, 1, 1))
        _invoice(s, cid, "void", 2_000, 0, due=dt.date(2026, 1, 1))
        _invoice(s, other, "issued", 99_900, 99_900, due=dt.date(2026, 1, 1))
        s.add(ClientCredit(client_id=cid, amount_cents=1_500, note="overpaid"))
        s.add(ClientCredit(client_id=cid, amount_cents=-500, note="applied"))
    ov = overview.client_overview(db, cid, today=TODAY)
    assert ov.balance_cents == 13_000
    assert ov.overdue_cents == 10_000
    assert ov.open_invoice_count == 2 and ov.invoice_count == 5
    assert ov.credit_cents == 1_000
    late = {i.status: i.days_overdue for i in ov.invoices}
    assert late == {"draft": 0, "issued": 14, "partially_paid": 0, "paid": 0, "void": 0}
    assert ov.invoices[0].status == "void"  # newest first


def test_lists_are_bounded_newest_first_with_full_counts(db):
    cid = _client(db)
    with db.write() as s:
        for _ in range(overview.RECENT_LIMIT + 5):
            _invoice(s, cid, "issued", 100, 100, due=TODAY)
        for i in range(overview.RECENT_LIMIT + 3):
            s.add(Job(client_id=cid, number=f"JOB-{next(_numbers):05d}", title=f"Mow {i}"))
    ov = overview.client_overview(db, cid, today=TODAY)
    assert len(ov.invoices) == overview.RECENT_LIMIT
    assert ov.invoice_count == overview.RECENT_LIMIT + 5 == ov.open_invoice_count
    assert ov.balance_cents == 100 * (overview.RECENT_LIMIT + 5) and ov.overdue_cents == 0
    ids = [i.id for i in ov.invoices]
    assert ids == sorted(ids, reverse=True)
    assert len(ov.jobs) == overview.RECENT_LIMIT and ov.job_count == overview.RECENT_LIMIT + 3
    assert ov.jobs[0].title == f"Mow {overview.RECENT_LIMIT + 2}"


def test_open_proposals_are_drafts_and_sent_with_expiry_derived(db):
    cid = _client(db)
    with db.write() as s:
        s.add(Proposal(client_id=cid, title="Draft, old date", status="draft",
                       valid_until=dt.date(2026, 1, 1)))
        s.add(Proposal(client_id=cid, number="PRO-1", title="Sent, expired", status="sent",
                       valid_until=dt.date(2026, 3, 14), total_cents=12_345))
        s.add(Proposal(client_id=cid, number="PRO-2", title="Sent, valid", status="sent",
                       valid_until=TODAY))
        s.add(Proposal(client_id=cid, number="PRO-3", title="Approved", status="approved"))
        s.add(Proposal(client_id=cid, number="PRO-4", title="Declined", status="declined"))
    ov = overview.client_overview(db, cid, today=TODAY)
    assert ov.open_proposal_count == 3
    assert {p.title: p.expired for p in ov.open_proposals} == {
        "Draft, old date": False, "Sent, expired": True, "Sent, valid": False}


def test_activity_is_this_clients_newest_first_and_limited(db):
    cid, other = _client(db), _client(db, "Other Co")
    clients.set_status(db, cid, "archived")
    clients.set_status(db, cid, "active")
    clients.set_status(db, other, "archived")
    ov = overview.client_overview(db, cid, activity_limit=2, today=TODAY)
    assert [a.action for a in ov.activity] == ["client.active", "client.archived"]
    assert all("Acme" in a.summary for a in ov.activity)
    assert overview.client_overview(db, cid, activity_limit=0).activity == ()
    assert ov.version == 3


def test_open_totals_use_the_partial_index_on_sqlite(db):
    if not db.is_sqlite:
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    stmt = overview.open_invoice_totals_query(1, TODAY)
    compiled = stmt.compile(db.engine)
    params = [compiled.params[name] for name in compiled.positiontup]
    with db.engine.connect() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", tuple(params)).all()
    assert "ix_invoices_open_client" in " ".join(str(r) for r in plan)


_invoices = st.lists(
    st.tuples(st.sampled_from(["draft", "issued", "partially_paid", "paid", "void"]),
              st.integers(0, 50_000), st.integers(-40, 40)),
    max_size=8,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_invoices)
def test_balance_is_the_sum_of_open_balances(db, rows):
    cid = _client(db, "Prop Co")
    with db.write() as s:
        for status, amount, due_offset in rows:
            balance = 0 if status in ("paid", "void") else amount
            _invoice(s, cid, status, amount, balance, due=TODAY + dt.timedelta(days=due_offset))
    ov = overview.client_overview(db, cid, today=TODAY)
    open_rows = [(a, d) for st_, a, d in rows if st_ in ("issued", "partially_paid")]
    assert ov.balance_cents == sum(a for a, _ in open_rows)
    assert ov.overdue_cents == sum(a for a, d in open_rows if d < 0)
    assert ov.open_invoice_count == len(open_rows) and ov.invoice_count == len(rows)
