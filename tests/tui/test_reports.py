"""The Reports section by keyboard, on books set up through the services with a fixed
``today``: the revenue chart and its month figures, aged receivables (enter opens the
client), proposal conversion and jobs to invoice (enter opens the job); reports follow
changes made elsewhere in the app. SQLite only: core/reports.py is tested on both backends.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text, update

from core import invoices, jobs, payments, proposals
from core.models import Proposal
from tests.core.factories import line, make_client, make_job, make_proposal, visit_ids
from tests.tui.support import TODAY, make_app, notices, screen_text, settle
from tui.screens.client_detail import ClientDetailScreen
from tui.screens.reports import ReportsScreen
from tui.widgets.bar_chart import BarChart


def _invoice(db, client_id: int, cents: int, issued: dt.date, terms_days: int = 30) -> int:
    invoice_id = invoices.create_blank(
        db, client_id, [line("Work", unit_price_cents=cents)], terms_days=terms_days)
    invoices.issue(db, invoice_id, issued)
    return invoice_id


def report_books(db) -> dict[str, int]:
    """Two clients owing money in three age buckets, payments in two months, two decided
    proposals and one open, one completed job not yet invoiced."""
    acme = make_client(db, "Acme Ltd")
    brook = make_client(db, "Brook Farm")
    old = _invoice(db, acme, 8_000, dt.date(2025, 11, 1))  # due 2025-12-01: 104 days late
    big = _invoice(db, acme, 50_000, dt.date(2026, 1, 10))  # due 2026-02-09: 34 days late
    _invoice(db, brook, 12_000, dt.date(2026, 3, 1))  # due 2026-03-31: current
    payments.record_payment(db, big, 20_000, "check", dt.date(2026, 2, 20))
    payments.record_payment(db, old, 3_000, "cash", dt.date(2026, 3, 5))

    sent_at = dt.datetime(2026, 2, 1, 12, 0)
    won = make_proposal(db, acme, title="Win", lines=[line(unit_price_cents=40_000)], today=TODAY)
    lost = make_proposal(db, brook, title="Loss", lines=[line(unit_price_cents=10_000)], today=TODAY)
    waiting = make_proposal(db, brook, title="Wait", lines=[line(unit_price_cents=5_000)], today=TODAY)
    for pid in (won, lost, waiting):
        proposals.send_proposal(db, pid, today=TODAY)
    proposals.approve_proposal(db, won, today=TODAY)
    proposals.decline_proposal(db, lost, today=TODAY)
    with db.write() as s:  # the service stamps the wall clock; the report reads this date
        s.execute(update(Proposal).values(sent_at=sent_at))

    job = make_job(db, brook, title="Hedge trim", lines=[line(unit_price_cents=7_500)],
                   schedule=jobs.ScheduleData(start_date=TODAY, start_time="09:00",
                                              duration_minutes=60))
    (visit,) = visit_ids(db, job)
    jobs.complete_visit(db, visit, jobs.ServiceLogData(minutes_spent=60, notes="Done"), today=TODAY)
    return {"acme": acme, "brook": brook, "job": job}


def big_receivables(db) -> dict[str, int]:
    """A hotel owing seven figures (current and 90+), a dental group five figures in each of
    1–30, 31–60 and 61–90: amounts wider than the 80-column layout has room for side by side."""
    hotel = make_client(db, "Harbour View Hotel & Conference Centre")
    dental = make_client(db, "Northside Dental Group")
    _invoice(db, hotel, 250_000_000, dt.date(2026, 3, 10))  # current
    _invoice(db, hotel, 432_198_765, dt.date(2025, 10, 1))  # 90+
    _invoice(db, dental, 1_234_567, dt.date(2026, 2, 1))  # 1–30
    _invoice(db, dental, 4_500_000, dt.date(2026, 1, 1))  # 31–60
    _invoice(db, dental, 9_876_543, dt.date(2025, 12, 1))  # 61–90
    return {"hotel": hotel, "dental": dental}


async def _open_reports(pilot) -> ReportsScreen:
    await settle(pilot)
    await pilot.press("7")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReportsScreen)
    return screen


async def test_revenue_chart_shows_each_month_and_its_exact_figures(ui_db):
    report_books(ui_db)
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open_reports(pilot)
        chart = screen.query_one(BarChart)
        assert app.focused is chart
        # the last 12 months, this one (March 2026) selected; cash received per month
        assert [(b.label, b.group) for b in chart.bars][:2] == [("Apr", "2025"), ("May", "2025")]
        assert [b.value for b in chart.bars][-3:] == [0, 20_000, 3_000]
        shown = screen_text(app)
        assert "Revenue by month · cash received less refunds · last 12 months" in shown
        assert "March 2026" in shown and "received $30.00 − refunds $0.00 = $30.00" in shown
        assert "issued $120.00 − credit notes $0.00 = $120.00" in shown
        assert "Last 12 months: $230.00 received" in shown

        await pilot.press("left")  # February: the check
        await settle(pilot)
        assert "February 2026" in screen_text(app)
        assert "received $200.00 − refunds $0.00 = $200.00" in screen_text(app)

        await pilot.press("b")  # invoiced instead of cash
        await settle(pilot)
        assert [b.value for b in chart.bars][-5:] == [8_000, 0, 50_000, 0, 12_000]
        assert "invoiced less credit notes" in screen_text(app)
        assert "Last 12 months: $700.00 invoiced" in screen_text(app)

        await pilot.press("p")  # the last 24 months
        await settle(pilot)
        assert len(chart.bars) == 24 and chart.bars[0].label == "Apr"
        assert "last 24 months" in screen_text(app)


async def test_aged_receivables_per_client_with_grand_totals_and_enter_opens_the_client(ui_db):
    ids = report_books(ui_db)
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open_reports(pilot)
        await pilot.press("a")
        await settle(pilot)
        table = screen.query_one("#aging-table")
        assert app.focused is table
        rows = [[cell.plain for cell in table.get_row_at(i)] for i in range(table.row_count)]
        # current, 1–30, 31–60, 61–90, 90+, total; the largest debtor first
        assert rows == [
            ["Acme Ltd", "–", "–", "300.00", "–", "50.00", "350.00"],
            ["Brook Farm", "120.00", "–", "–", "–", "–", "120.00"],
        ]
        totals = screen.query_one("#aging-totals")
        assert [c.plain for c in totals.get_row_at(0)] == [
            "All 2 clients", "120.00", "–", "300.00", "–", "50.00", "470.00"]
        shown = screen_text(app)
        assert "Owed on 2026-03-15: $470.00 by 2 clients ($350.00 past due)" in shown
        for header in ("Current", "1–30", "31–60", "61–90", "90+", "Total"):
            assert header in shown

        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ClientDetailScreen) and app.screen.client_id == ids["brook"]


async def test_conversion_rate_of_proposals_sent_in_the_period(ui_db):
    report_books(ui_db)
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_reports(pilot)
        await pilot.press("c")
        await settle(pilot)
        shown = screen_text(app)
        assert "Proposals sent in the last 12 months (2025-03-16 to 2026-03-15)" in shown
        assert "Conversion rate  50.0%   1 approved of 2 decided" in shown
        for row in ("Sent            3         $550.00", "Approved        1         $400.00",
                    "Declined        1         $100.00", "Open            1          $50.00"):
            assert row in shown
        await pilot.press("p")  # this year: the proposals were sent on 2026-02-01
        await settle(pilot)
        assert "this year (2026-01-01 to 2026-03-15)" in screen_text(app)
        assert "Sent            3" in screen_text(app)
        await pilot.press("p")  # the last 30 days: February 1 is 42 days ago
        await settle(pilot)
        assert "last 30 days" in screen_text(app)
        assert "Sent            0" in screen_text(app) and "Conversion rate  –" in screen_text(app)
        assert "none of them approved or declined yet" in screen_text(app)
        await pilot.press("p")
        await settle(pilot)
        assert "last 90 days" in screen_text(app) and "Sent            3" in screen_text(app)


async def test_jobs_to_invoice_lists_finished_work_and_enter_opens_the_job(ui_db):
    ids = report_books(ui_db)
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open_reports(pilot)
        await pilot.press("j")
        await settle(pilot)
        table = screen.query_one("#jobs-table")
        assert table.row_count == 1
        number, title, client, to_bill, status, estimate = (
            c.plain for c in table.get_row_at(0))
        assert (title, client, to_bill, estimate) == ("Hedge trim", "Brook Farm", "the job", "75.00")
        assert "1 job ready to invoice, about $75.00" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert getattr(app.screen, "job_id", None) == ids["job"]


async def test_reports_follow_changes_made_elsewhere_and_say_when_there_is_nothing(ui_db):
    acme = make_client(ui_db, "Acme Ltd")
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open_reports(pilot)
        assert [b.value for b in screen.query_one(BarChart).bars] == [0] * 12
        await pilot.press("a")
        await settle(pilot)
        assert "Nobody owes anything on 2026-03-15" in screen_text(app)
        await pilot.press("j")
        await settle(pilot)
        assert "Nothing to invoice" in screen_text(app)

        # an invoice issued and part paid elsewhere (another screen saves and says so)
        invoice_id = _invoice(ui_db, acme, 10_000, dt.date(2026, 3, 2))
        payments.record_payment(ui_db, invoice_id, 2_500, "cash", TODAY)
        app.note_data_changed()
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        assert app.screen is screen and screen.current == "jobs"
        await pilot.press("a")
        await settle(pilot)
        assert "Owed on 2026-03-15: $75.00 by 1 client ($0.00 past due)" in screen_text(app)
        await pilot.press("r")
        await settle(pilot)
        assert screen.query_one(BarChart).bars[-1].value == 2_500
        assert "received $25.00" in screen_text(app)


async def test_the_report_keys_follow_the_keymap_and_the_hints_show_what_applies(ui_db):
    app = make_app(ui_db, keymap={"reports.receivables": "o"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_reports(pilot)
        hints = screen_text(app).splitlines()[-1]
        assert "b Cash/invoiced" in hints and "p Period" in hints
        assert "o Receivables" in screen_text(app).splitlines()[1]
        await pilot.press("o")
        await settle(pilot)
        assert screen.current == "receivables"
        hints = screen_text(app).splitlines()[-1]
        assert "Cash/invoiced" not in hints and "Open" in hints


async def test_a_report_that_cannot_be_computed_says_so_and_the_others_still_work(ui_db):
    report_books(ui_db)
    with ui_db.write() as s:  # a damaged database: revenue cannot read payments
        s.execute(text("ALTER TABLE payments RENAME TO payments_gone"))
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open_reports(pilot)
        assert any("Something went wrong (OperationalError)" in n for n in notices(app))
        assert not screen.query_one("#revenue").loading  # no spinner left turning
        await pilot.press("a")
        await settle(pilot)
        assert "Owed on 2026-03-15: $470.00 by 2 clients" in screen_text(app)
        assert app.is_running


async def test_seven_figure_receivables_show_in_full_at_80_columns(ui_db):
    big_receivables(ui_db)
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open_reports(pilot)
        await pilot.press("a")
        await settle(pilot)
        table = screen.query_one("#aging-table")
        # room for every bucket at 100 columns
        assert [c.plain for c in table.get_row_at(0)] == [
            "Harbour View Hotel & Conference Centre", "2,500,000.00", "–", "–", "–",
            "4,321,987.65", "6,821,987.65"]
        assert [c.plain for c in table.get_row_at(1)][1:] == [
            "–", "12,345.67", "45,000.00", "98,765.43", "–", "156,111.10"]

        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        # 1–30, 31–60 and 61–90 share a column; the money is never cut, the name is
        assert [c.plain for c in table.get_row_at(1)][1:] == [
            "–", "156,111.10", "–", "156,111.10"]
        shown = screen_text(app)
        lines = shown.splitlines()
        assert max(len(line) for line in lines) <= 80
        for header in ("Current", "1–90", "90+", "Total"):
            assert header in shown
        for figure in ("2,500,000.00", "4,321,987.65", "6,821,987.65", "156,111.10",
                       "6,978,098.75"):
            assert figure in shown
        assert "Harbour View Hotel" in shown and "Northside Dental" in shown

        await pilot.resize_terminal(100, 30)  # wide again: every bucket again
        await settle(pilot)
        assert len(table.columns) == 7
