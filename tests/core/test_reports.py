"""Reports on both backends, each checked against figures computed independently in Python
from the rows the test inserted: revenue by month (cash and accrual), aged receivables
(bucket edges, ordering, grand totals, the partial-index plan), proposal conversion and
jobs to invoice."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event

from core import reports
from core.errors import ValidationError
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

TODAY = dt.date(2026, 3, 15)
DB_EXAMPLES = settings(max_examples=10, deadline=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture])


def _clients(s, names):
    out = []
    for name in names:
        c = Client(name=name, sort_name=name.casefold())
        s.add(c)
        s.flush()
        out.append(c.id)
    return out


def _month(d: dt.date) -> dt.date:
    return d.replace(day=1)


# --------------------------------------------------------------------------- revenue by month


def test_revenue_by_month_cash_and_accrual(db):
    with db.write() as s:
        (cid,) = _clients(s, ["Rita"])
        jan = Invoice(client_id=cid, status="paid", number="INV-1", issue_date=dt.date(2026, 1, 20), total_cents=10_000)
        feb = Invoice(client_id=cid, status="void", number="INV-2", issue_date=dt.date(2026, 2, 3), total_cents=4_000)
        draft = Invoice(client_id=cid, status="draft", total_cents=99_999)
        old = Invoice(client_id=cid, status="paid", number="INV-0", issue_date=dt.date(2025, 12, 31), total_cents=700)
        s.add_all([jan, feb, draft, old])
        s.flush()
        cash = Payment(invoice_id=jan.id, client_id=cid, amount_cents=6_000, method="cash", received_on=dt.date(2026, 1, 31))
        card = Payment(invoice_id=jan.id, client_id=cid, amount_cents=4_000, method="card", received_on=dt.date(2026, 3, 1),
                       refunded_cents=1_500)
        from_credit = Payment(invoice_id=old.id, client_id=cid, amount_cents=700, method="credit",
                              received_on=dt.date(2026, 3, 2), refunded_cents=100)
        before = Payment(invoice_id=old.id, client_id=cid, amount_cents=50, method="cash", received_on=dt.date(2025, 12, 31))
        s.add_all([cash, card, from_credit, before])
        s.flush()
        s.add_all([
            ClientCredit(client_id=cid, amount_cents=800, payment_id=cash.id),  # overpaid in January
            ClientCredit(client_id=cid, amount_cents=-700, invoice_id=old.id),  # applied in March
            Refund(payment_id=card.id, invoice_id=jan.id, amount_cents=1_500, refunded_on=dt.date(2026, 3, 10)),
            Refund(payment_id=from_credit.id, invoice_id=old.id, amount_cents=100, refunded_on=dt.date(2026, 3, 11)),
            # what core.payments.refund writes for that refund: the credit comes back
            ClientCredit(client_id=cid, amount_cents=100, payment_id=from_credit.id, invoice_id=old.id),
            CreditNote(number="CN-1", invoice_id=feb.id, client_id=cid, amount_cents=4_000, voids_invoice=True,
                       issued_on=dt.date(2026, 2, 28)),
        ])
    months = reports.revenue_by_month(db, dt.date(2026, 1, 15), dt.date(2026, 4, 2))
    got = [(m.month, m.received_cents, m.refunded_cents, m.net_cents, m.invoiced_cents, m.credited_cents,
            m.net_invoiced_cents) for m in months]
    assert got == [
        (dt.date(2026, 1, 1), 6_800, 0, 6_800, 10_000, 0, 10_000),
        (dt.date(2026, 2, 1), 0, 0, 0, 4_000, 4_000, 0),
        (dt.date(2026, 3, 1), 4_000, 1_500, 2_500, 0, 0, 0),  # credit payment/refund are not cash
        (dt.date(2026, 4, 1), 0, 0, 0, 0, 0, 0),  # a month without money still appears
    ]


@st.composite
def _money_moves(draw):
    day = st.integers(min_value=0, max_value=400).map(lambda n: dt.date(2025, 6, 1) + dt.timedelta(days=n))
    payments = draw(st.lists(st.tuples(day, st.integers(1, 10_000), st.sampled_from(["cash", "card", "credit"]),
                                       st.integers(0, 100), st.integers(0, 60)), max_size=12))
    invoices = draw(st.lists(st.tuples(day, st.integers(0, 50_000), st.sampled_from(["draft", "issued", "paid", "void"])),
                             max_size=8))
    start = draw(day)
    end = start + dt.timedelta(days=draw(st.integers(0, 200)))
    return payments, invoices, start, end


@DB_EXAMPLES
@given(moves=_money_moves())
def test_revenue_by_month_matches_a_python_tally(db, moves):
    payments, invoices, start, end = moves
    with db.write() as s:
        for model in (Refund, Payment, Invoice, Client):
            s.execute(delete(model))
        (cid,) = _clients(s, ["Tally"])
        anchor = Invoice(client_id=cid, status="paid", number="ANCHOR", total_cents=0)
        s.add(anchor)
        for n, (issued, total, status) in enumerate(invoices):
            s.add(Invoice(client_id=cid, status=status, number=None if status == "draft" else f"I-{n}",
                          issue_date=None if status == "draft" else issued, total_cents=total))
        s.flush()
        refunds = []
        for received, amount, method, refund_pct, delay in payments:
            refund = amount * refund_pct // 100
            p = Payment(invoice_id=anchor.id, client_id=cid, amount_cents=amount, method=method,
                        received_on=received, refunded_cents=refund)
            s.add(p)
            s.flush()
            if refund:
                refunded_on = received + dt.timedelta(days=delay)
                s.add(Refund(payment_id=p.id, invoice_id=anchor.id, amount_cents=refund, refunded_on=refunded_on))
                refunds.append((refunded_on, refund, method))
    expected = defaultdict(lambda: [0, 0, 0])
    for received, amount, method, _pct, _delay in payments:
        if method != "credit":
            expected[_month(received)][0] += amount
    for refunded_on, refund, method in refunds:
        if method != "credit":
            expected[_month(refunded_on)][1] += refund
    for issued, total, status in invoices:
        if status != "draft":
            expected[_month(issued)][2] += total
    months = reports.revenue_by_month(db, start, end)
    assert months[0].month == _month(start) and months[-1].month == _month(end)
    assert len({m.month for m in months}) == len(months)
    for m in months:
        assert [m.received_cents, m.refunded_cents, m.invoiced_cents] == expected.get(m.month, [0, 0, 0])


def test_revenue_period_must_not_end_before_it_starts(db):
    with pytest.raises(ValidationError) as err:
        reports.revenue_by_month(db, dt.date(2026, 3, 1), dt.date(2026, 2, 28))
    assert err.value.field == "end"


# --------------------------------------------------------------------------- aged receivables


def _bucket(days_past_due: int) -> int:
    if days_past_due <= 0:
        return 0
    return min(4, (days_past_due - 1) // 30 + 1)


def test_aging_bucket_edges(db):
    edges = [-5, 0, 1, 30, 31, 60, 61, 90, 91, 400]  # days past due
    with db.write() as s:
        (cid,) = _clients(s, ["Edge"])
        for n, days in enumerate(edges):
            s.add(Invoice(client_id=cid, status="issued" if n % 2 else "partially_paid", number=f"E-{n}",
                          due_date=TODAY - dt.timedelta(days=days), balance_cents=10**n))
    report = reports.aged_receivables(db, TODAY)
    (row,) = report.rows
    b = row.buckets
    assert (b.current_cents, b.days_1_30_cents, b.days_31_60_cents, b.days_61_90_cents, b.days_over_90_cents) == (
        1 + 10, 100 + 1_000, 10_000 + 100_000, 1_000_000 + 10_000_000, 100_000_000 + 1_000_000_000)
    assert report.totals == b and report.client_count == 1 and row.client_name == "Edge"
    assert b.past_due_cents == b.total_cents - 11 and row.total_cents == b.total_cents == 1_111_111_111


@st.composite
def _ledgers(draw):
    n_clients = draw(st.integers(1, 5))
    invoices = draw(st.lists(
        st.tuples(st.integers(0, n_clients - 1),
                  st.sampled_from(["draft", "issued", "partially_paid", "paid", "void"]),
                  st.integers(-40, 200), st.integers(0, 5) .map(lambda n: n * 1_000)),
        max_size=20))
    return n_clients, invoices


@DB_EXAMPLES
@given(ledger=_ledgers(), limit=st.none() | st.integers(1, 3))
def test_aged_receivables_match_a_python_tally(db, ledger, limit):
    n_clients, invoices = ledger
    names = ["delta", "Alpha", "charlie", "Bravo", "echo"][:n_clients]
    with db.write() as s:
        s.execute(delete(Invoice))
        s.execute(delete(Client))
        ids = _clients(s, names)
        for n, (who, status, days, balance) in enumerate(invoices):
            s.add(Invoice(client_id=ids[who], status=status, number=None if status == "draft" else f"A-{n}",
                          due_date=TODAY - dt.timedelta(days=days), balance_cents=balance))
    owed = defaultdict(lambda: [0] * 5)
    for who, status, days, balance in invoices:
        if status in ("issued", "partially_paid"):
            owed[who][_bucket(days)] += balance
    expected = sorted(((sum(v), names[w].casefold(), ids[w], v) for w, v in owed.items() if sum(v)),
                      key=lambda t: (-t[0], t[1], t[2]))
    report = reports.aged_receivables(db, TODAY, limit=limit)
    got = [(r.client_id, r.client_name, list(r.buckets)) for r in report.rows]
    want = [(cid, names[ids.index(cid)], v) for _total, _name, cid, v in expected]
    assert got == (want if limit is None else want[:limit])
    assert list(report.totals) == [sum(t[3][i] for t in expected) for i in range(5)]
    assert report.client_count == len(expected)


def _plans(db, call):
    """SQLite's EXPLAIN QUERY PLAN of each SELECT ``call`` sends, with the SQL."""
    if not db.is_sqlite:
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
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
        return [(sql, [r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)])
                for sql, params in sent]


def test_aging_reads_only_the_partial_index(db):
    (sql, plan), = _plans(db, lambda: reports.aged_receivables(db, TODAY))
    assert "invoices.status IN ('issued','partially_paid')" in sql  # literal, as in the index
    assert "SCAN invoices USING COVERING INDEX ix_invoices_open_client" in plan
    assert not any("invoices" in step and "ix_invoices_open_client" not in step for step in plan), plan


def test_revenue_sums_read_covering_indexes_in_date_order(db):
    plans = [plan for _sql, plan in _plans(db, lambda: reports.revenue_by_month(db, dt.date(2026, 1, 1), TODAY))]
    for wanted in ("SEARCH payments USING COVERING INDEX ix_payments_received_on",
                   "SEARCH invoices USING COVERING INDEX ix_invoices_issue_date"):
        (plan,) = [plan for plan in plans if plan[0].startswith(wanted)]
        assert len(plan) == 1, plan  # grouped by day in index order: no sort, no table rows


def test_aging_limit_must_be_positive(db):
    with pytest.raises(ValidationError) as err:
        reports.aged_receivables(db, TODAY, limit=0)
    assert err.value.field == "limit"


# --------------------------------------------------------------------------- proposal conversion


def test_proposal_conversion_counts_the_period_cohort(db):
    start, end = dt.date(2026, 2, 1), dt.date(2026, 2, 28)
    specs = [  # status, sent, valid until, total
        ("approved", dt.datetime(2026, 2, 1, 0, 0), None, 1_000),
        ("approved", dt.datetime(2026, 2, 28, 23, 59), None, 2_000),
        ("declined", dt.datetime(2026, 2, 10), None, 4_000),
        ("sent", dt.datetime(2026, 2, 11), dt.date(2026, 3, 14), 8_000),  # expired yesterday
        ("sent", dt.datetime(2026, 2, 12), TODAY, 16_000),  # still valid today
        ("draft", dt.datetime(2026, 2, 13), None, 32_000),  # sent, then back for changes
        ("approved", dt.datetime(2026, 1, 31, 23, 59), None, 64_000),  # before the period
        ("declined", dt.datetime(2026, 3, 1), None, 128_000),  # after it
        ("draft", None, None, 256_000),  # never sent
    ]
    with db.write() as s:
        (cid,) = _clients(s, ["Pam"])
        s.add_all([Proposal(client_id=cid, status=st_, sent_at=sent, valid_until=valid, total_cents=total,
                            number=None if sent is None else f"PRO-{n}")
                   for n, (st_, sent, valid, total) in enumerate(specs)])
    r = reports.proposal_conversion(db, start, end, today=TODAY)
    assert (r.sent_count, r.sent_cents) == (6, 63_000)
    assert (r.approved_count, r.approved_cents) == (2, 3_000)
    assert (r.declined_count, r.declined_cents) == (1, 4_000)
    assert (r.expired_count, r.expired_cents) == (1, 8_000)
    assert (r.open_count, r.open_cents) == (2, 48_000)
    assert r.decided_count == 3 and r.rate == Decimal("0.6667")
    empty = reports.proposal_conversion(db, dt.date(2020, 1, 1), dt.date(2020, 12, 31), today=TODAY)
    assert empty.sent_count == 0 and empty.rate is None
    with pytest.raises(ValidationError) as err:
        reports.proposal_conversion(db, end, start, today=TODAY)
    assert err.value.field == "end"


# --------------------------------------------------------------------------- jobs to invoice


def test_jobs_to_invoice_finds_unbilled_work_with_an_estimate(db):
    with db.write() as s:
        zed, amy = _clients(s, ["Zed", "amy"])
        inv = Invoice(client_id=zed, status="issued", number="INV-9", balance_cents=1)
        s.add(inv)
        s.flush()

        def job(client, number, status, billing, lines=(), visits=()):
            j = Job(client_id=client, number=number, title=f"Job {number}", status=status, billing=billing,
                    total_cents=sum(t for t, _ in lines) if billing == "per_job" else 5_000)
            s.add(j)
            s.flush()
            for total, invoiced in lines:
                s.add(JobLine(job_id=j.id, description="work", total_cents=total, invoice_id=inv.id if invoiced else None))
            for n, (status_, invoiced) in enumerate(visits):
                start = dt.datetime(2026, 3, 1 + n, 9)
                s.add(Visit(job_id=j.id, starts_at=start, ends_at=start + dt.timedelta(hours=1), status=status_,
                            invoice_id=inv.id if invoiced else None))
            return j.id

        done = job(zed, "J-1", "completed", "per_job", lines=[(1_000, False), (250, False), (999, True)])
        job(zed, "J-2", "completed", "per_job", lines=[(1_000, True)])  # everything billed
        job(zed, "J-3", "in_progress", "per_job", lines=[(1_000, False)])  # not finished
        job(zed, "J-4", "cancelled", "per_visit", visits=[("completed", False)])
        job(zed, "J-5", "on_hold", "per_job", lines=[(1_000, False)])
        recurring = job(zed, "J-6", "scheduled", "per_visit",
                        visits=[("completed", False), ("completed", False), ("completed", True), ("scheduled", False)])
        job(amy, "J-7", "scheduled", "per_visit", visits=[("scheduled", False), ("cancelled", False)])
        amy_job = job(amy, "J-8", "completed", "per_job", lines=[(300, False)])
        job(amy, "J-9", "invoiced", "per_job", lines=[(300, False)])
    rows = reports.jobs_to_invoice(db)
    assert [(r.job_id, r.client_name, r.visits_to_invoice, r.estimate_cents) for r in rows] == [
        (amy_job, "amy", 0, 300),
        (done, "Zed", 0, 1_250),
        (recurring, "Zed", 2, 10_000),
    ]
    assert [r.job_id for r in reports.jobs_to_invoice(db, client_id=amy)] == [amy_job]
