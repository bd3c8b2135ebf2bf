"""Section 7, Reports: revenue by month as a bar chart, aged receivables, proposal conversion
and jobs waiting to be invoiced, each from :mod:`core.reports`.

One report shows at a time (``r``, ``a``, ``c``, ``j``; the bar under the sections names
them), so each has the whole screen at 80×24. A report is computed in a thread worker when
it is first shown and again after data changed elsewhere in the app (or on ``f5``); reports
not on screen are not computed.

Decisions where the issue is silent:

- Revenue defaults to cash received (payments minus refunds, by the month the money
  moved); ``b`` switches to invoiced (issued invoices minus credit notes). ``p`` cycles
  the period: the last 12 months (this month included), the last 24, this calendar year.
  Left/right pick a month; the line under the chart gives that month's exact figures.
- Aged receivables lists the ``AGING_ROWS`` clients who owe the most (the grand totals and
  the client count always cover everyone). Amounts are shown without the currency symbol to
  leave room at 80 columns; the status line names the currency. Enter opens the client.
  Each amount column is as wide as its largest amount (up to 9,999,999.99 shows in full
  at 80 columns); where that leaves the client name under ``AGING_NAME_ROOM`` cells, the
  1–30/31–60 buckets (then 61–90 too) share a column (:data:`AGING_LAYOUTS`).
- Conversion counts proposals by the day they were sent; ``p`` cycles 30 days, 90 days,
  12 months, this year (12 months by default). The rate is approved ÷ (approved + declined).
- Jobs to invoice: enter opens the job when the Jobs section offers ``open_job``, otherwise
  the job's client. The count and total cover every job; the table lists the first
  ``JOB_ROWS`` (by client name), since :func:`core.reports.jobs_to_invoice` is not paged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import ContentSwitcher, DataTable, Label, Static
from textual.worker import Worker, WorkerState, get_current_worker

from core import business
from core.money import format_money, round_half_up
from core.reports import (
    AgingReport,
    ConversionReport,
    JobToInvoice,
    MonthRevenue,
    aged_receivables,
    jobs_to_invoice,
    proposal_conversion,
    revenue_by_month,
)
from tui import render
from tui.screens.base import CrmScreen
from tui.widgets.bar_chart import Bar, BarChart, compact_money
from tui.widgets.key_hints import KeyHints
from tui.widgets.section_bar import SectionBar

AGING_ROWS = 200
JOB_ROWS = 500  # a table of tens of thousands of rows freezes the screen; the count is exact
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")

# (id, title, default key)
REPORTS: tuple[tuple[str, str, str], ...] = (
    ("revenue", "Revenue", "r"),
    ("receivables", "Receivables", "a"),
    ("conversion", "Conversion", "c"),
    ("jobs", "Jobs to invoice", "j"),
)
REVENUE_PERIODS: tuple[tuple[str, str], ...] = (
    ("12", "last 12 months"),
    ("24", "last 24 months"),
    ("year", "this year"),
)
CONVERSION_PERIODS: tuple[tuple[str, str], ...] = (
    ("30", "last 30 days"),
    ("90", "last 90 days"),
    ("365", "last 12 months"),
    ("year", "this year"),
)
REPORT_GROUPS = {"reports-revenue": "revenue", "reports-aging": "receivables",
                 "reports-conversion": "conversion", "reports-jobs": "jobs"}
# The money columns of aged receivables, (key, title, the buckets summed in it), then Total.
# Amounts are never cut: when they leave the client name too little room (seven-figure
# amounts at 80 columns), the middle buckets are folded together, keeping "Current" and
# "90+" (what is not due yet, what is most at risk) as they are.
AGING_LAYOUTS: tuple[tuple[tuple[str, str, tuple[int, ...]], ...], ...] = (
    (("current", "Current", (0,)), ("d30", "1–30", (1,)), ("d60", "31–60", (2,)),
     ("d90", "61–90", (3,)), ("over90", "90+", (4,))),
    (("current", "Current", (0,)), ("d1_60", "1–60", (1, 2)), ("d90", "61–90", (3,)),
     ("over90", "90+", (4,))),
    (("current", "Current", (0,)), ("d1_90", "1–90", (1, 2, 3)), ("over90", "90+", (4,))),
)
AGING_NAME_ROOM = 16  # fold buckets before the client name gets narrower than this
AGING_NAME_MIN = 12
# the conversion bar: each outcome has its own character, so it reads without colour
OUTCOMES = (
    ("approved", "Approved", "█", "$success"),
    ("declined", "Declined", "▒", "$error"),
    ("expired", "Expired", "░", "$warning"),
    ("open", "Open", "·", "$text-muted"),
)


def month_start(day: dt.date, months_back: int) -> dt.date:
    """The first day of the month ``months_back`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def revenue_period(key: str, today: dt.date) -> tuple[dt.date, dt.date]:
    if key == "year":
        return dt.date(today.year, 1, 1), today
    return month_start(today, int(key) - 1), today


def conversion_period(key: str, today: dt.date) -> tuple[dt.date, dt.date]:
    if key == "year":
        return dt.date(today.year, 1, 1), today
    return today - dt.timedelta(days=int(key) - 1), today


def amount(cents: int) -> str:
    """An amount for a report column: ``1,234.56``, the currency named once elsewhere."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{frac:02d}"


def column_sums(layout: tuple[tuple[str, str, tuple[int, ...]], ...],
                buckets: tuple[int, ...]) -> list[int]:
    """The amount in each column of ``layout`` (folded buckets add up), Total not included."""
    return [sum(buckets[i] for i in indices) for _key, _title, indices in layout]


def aging_layout(report: AgingReport, width: int
                 ) -> tuple[tuple[tuple[str, str, tuple[int, ...]], ...], list[int]]:
    """The columns of aged receivables at ``width`` cells, and their widths (client name,
    each bucket column, Total): every amount in full, the name gets what is left."""
    lines = [row.buckets for row in report.rows[:AGING_ROWS]] + [report.totals]
    name = 0
    layout = AGING_LAYOUTS[0]
    money: list[int] = []
    for layout in AGING_LAYOUTS:
        columns = [column_sums(layout, buckets) + [sum(buckets)] for buckets in lines]
        titles = [title for _key, title, _buckets in layout] + ["Total"]
        # at least as wide as "Current", so the columns line up when amounts are small
        money = [max(len("Current"), len(title), *(len(amount(c[i])) for c in columns))
                 for i, title in enumerate(titles)]
        # scrollbar (2), a cell of padding either side of every column, the page padding (2)
        name = width - 2 - 2 * (len(money) + 1) - sum(money) - 2
        if name >= AGING_NAME_ROOM:
            break
    return layout, [max(name, AGING_NAME_MIN), *money]


def percent(rate: Decimal | None) -> str:
    if rate is None:
        return "–"
    return f"{(rate * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def shares(counts: list[int], width: int) -> list[int]:
    """Split ``width`` cells in proportion to ``counts`` (largest remainder: they add up)."""
    total = sum(counts)
    if total <= 0:
        return [0] * len(counts)
    exact = [c * width for c in counts]
    cells = [e // total for e in exact]
    by_remainder = sorted(range(len(counts)), key=lambda i: -(exact[i] % total))
    for i in by_remainder[: width - sum(cells)]:
        cells[i] += 1
    return cells


@dataclass(frozen=True)
class _Revenue:
    months: list[MonthRevenue]
    currency: str


@dataclass(frozen=True)
class _Aging:
    report: AgingReport
    currency: str


@dataclass(frozen=True)
class _Conversion:
    report: ConversionReport
    currency: str


@dataclass(frozen=True)
class _Jobs:
    jobs: list[JobToInvoice]
    currency: str


class ReportsScreen(CrmScreen[None]):
    CSS_PATH = "reports.tcss"
    HELP_TITLE = "Reports"
    BINDINGS = [
        *(Binding(key, f"show('{report}')", title, id=f"reports.{report}", show=False)
          for report, title, key in REPORTS),
        Binding("b", "basis", "Cash/invoiced", id="reports.basis"),
        Binding("p", "period", "Period", id="reports.period"),
        Binding("enter", "open", "Open", id="reports.open"),
        Binding("f5", "refresh", "Refresh", id="reports.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.current = "revenue"
        self.invoiced_basis = False
        self.revenue_period_index = 0
        self.conversion_period_index = 2
        self._loaded: dict[str, int] = {}  # report -> the data_version it shows
        self._requests: dict[str, int] = {}  # report -> the latest load asked for
        self._revenue: _Revenue | None = None
        self._aging: _Aging | None = None
        self._aging_width = 0  # the width its columns were fitted to
        self._jobs: _Jobs | None = None
        self._conversion: _Conversion | None = None

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield SectionBar("reports")
        with Horizontal(classes="report-bar"):
            for report, title, key in REPORTS:
                shown = self.crm.key_for(f"reports.{report}", key)
                yield Label(f"{shown} {title}", markup=False, id=f"tab-{report}",
                            classes="report-tab")
        with ContentSwitcher(initial="revenue", id="report-pages"):
            with Vertical(id="revenue", classes="report-page"):
                yield Label("", id="revenue-title", classes="report-title", markup=False)
                yield BarChart(id="revenue-chart",
                               format_value=lambda cents: compact_money(cents, self._currency()))
                yield Static("", id="revenue-month", classes="report-lines")
                yield Label("", id="revenue-summary", classes="report-status", markup=False)
            with Vertical(id="receivables", classes="report-page"):
                yield Label("", id="aging-status", classes="report-status", markup=False)
                yield DataTable(id="aging-table", cursor_type="row", zebra_stripes=True)
                yield DataTable(id="aging-totals", cursor_type="none", show_header=False)
            with VerticalScroll(id="conversion", classes="report-page"):
                yield Static(id="conversion-body")
            with Vertical(id="jobs", classes="report-page"):
                yield Label("", id="jobs-status", classes="report-status", markup=False)
                yield DataTable(id="jobs-table", cursor_type="row", zebra_stripes=True)
        yield KeyHints()

    def on_mount(self) -> None:
        self.query_one("#aging-totals", DataTable).can_focus = False
        self._mark_tab()

    def on_screen_resume(self) -> None:
        self._show_current()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # the footer offers only what applies to the report on screen
        if action == "basis":
            return self.current == "revenue"
        if action == "period":
            return self.current in ("revenue", "conversion")
        if action == "open":
            return self.current in ("receivables", "jobs")
        return True

    def _currency(self) -> str:
        for data in (self._revenue, self._aging, self._conversion, self._jobs):
            if data is not None:
                return data.currency
        return "USD"

    # ------------------------------------------------------------------ switching

    def action_show(self, report: str) -> None:
        if report == self.current:
            return
        self.current = report
        self.query_one("#report-pages", ContentSwitcher).current = report
        self._mark_tab()
        self.refresh_bindings()
        self.query_one(KeyHints).refresh_hints()
        self._show_current()

    def _mark_tab(self) -> None:
        for report, _title, _key in REPORTS:
            self.query_one(f"#tab-{report}", Label).set_class(report == self.current, "-current")

    def _show_current(self) -> None:
        """Focus the report on screen and compute it if it is missing or out of date."""
        focus_target = {"revenue": "#revenue-chart", "receivables": "#aging-table",
                        "conversion": "#conversion", "jobs": "#jobs-table"}[self.current]
        self.query_one(focus_target).focus()
        if self._loaded.get(self.current) != self.crm.data_version:
            self.load(self.current)

    def action_refresh(self) -> None:
        self.load(self.current)

    def load(self, report: str) -> None:
        self._loaded[report] = self.crm.data_version
        request = self._requests[report] = self._requests.get(report, 0) + 1
        self.query_one(f"#{report}").loading = True
        today = self.crm.today
        if report == "revenue":
            start, end = revenue_period(REVENUE_PERIODS[self.revenue_period_index][0], today)
            self._load_revenue(request, start, end)
        elif report == "receivables":
            self._load_aging(request, today)
        elif report == "conversion":
            start, end = conversion_period(
                CONVERSION_PERIODS[self.conversion_period_index][0], today)
            self._load_conversion(request, start, end, today)
        else:
            self._load_jobs(request)

    def _deliver(self, report: str, request: int, show: Callable[[Any], None], data: Any) -> None:
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._arrived, report, request, show, data)

    def _arrived(self, report: str, request: int, show: Callable[[Any], None], data: Any) -> None:
        if request == self._requests.get(report):  # not overtaken by a newer period or basis
            show(data)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report = REPORT_GROUPS.get(event.worker.group)
        if event.state == WorkerState.ERROR and report is not None:
            self.query_one(f"#{report}").loading = False
            self._loaded.pop(report, None)  # computed again when next shown
        super().on_worker_state_changed(event)

    # ------------------------------------------------------------------ revenue

    @work(thread=True, exclusive=True, group="reports-revenue", exit_on_error=False)
    def _load_revenue(self, request: int, start: dt.date, end: dt.date) -> None:
        months = revenue_by_month(self.db, start, end)
        currency = business.load(self.db, "business")["currency"]
        self._deliver("revenue", request, self._show_revenue, _Revenue(months, currency))

    def _show_revenue(self, data: _Revenue) -> None:
        self._revenue = data
        self.query_one("#revenue").loading = False
        chart = self.query_one("#revenue-chart", BarChart)
        chart.set_bars(
            [Bar(MONTHS[m.month.month - 1], self._month_value(m), str(m.month.year))
             for m in data.months],
            selected=len(data.months) - 1,
        )
        self._revenue_titles()

    def _month_value(self, month: MonthRevenue) -> int:
        return month.net_invoiced_cents if self.invoiced_basis else month.net_cents

    def _revenue_titles(self) -> None:
        data = self._revenue
        if data is None:
            return
        basis = "invoiced less credit notes" if self.invoiced_basis else "cash received less refunds"
        period = REVENUE_PERIODS[self.revenue_period_index][1]
        self.query_one("#revenue-title", Label).update(f"Revenue by month · {basis} · {period}")
        total = sum(self._month_value(m) for m in data.months)
        summary = (f"{period.capitalize()}: {format_money(total, data.currency)} "
                   f"{'invoiced' if self.invoiced_basis else 'received'}")
        if data.months:
            average = format_money(round_half_up(Decimal(total) / len(data.months)),
                                   data.currency)
            summary += f" · on average {average} a month"
        self.query_one("#revenue-summary", Label).update(summary)
        self._revenue_month(self.query_one("#revenue-chart", BarChart).selected)

    @on(BarChart.Highlighted, "#revenue-chart")
    def _month_highlighted(self, event: BarChart.Highlighted) -> None:
        self._revenue_month(event.index)

    def _revenue_month(self, index: int) -> None:
        data = self._revenue
        if data is None or not 0 <= index < len(data.months):
            return
        m = data.months[index]
        money = lambda cents: format_money(cents, data.currency)  # noqa: E731
        name = f"{MONTH_NAMES[m.month.month - 1]} {m.month.year}"
        muted = "$text-muted"
        line = Content.assemble(
            (name, "bold"), ("  ←/→ other months\n", muted),
            ("Cash      ", muted), f"received {money(m.received_cents)} − refunds ",
            f"{money(m.refunded_cents)} = ", (money(m.net_cents), "bold"), "\n",
            ("Invoiced  ", muted), f"issued {money(m.invoiced_cents)} − credit notes ",
            f"{money(m.credited_cents)} = ", (money(m.net_invoiced_cents), "bold"),
        )
        self.query_one("#revenue-month", Static).update(line)

    def action_basis(self) -> None:
        self.invoiced_basis = not self.invoiced_basis
        data = self._revenue
        if data is None:
            return
        chart = self.query_one("#revenue-chart", BarChart)
        chart.set_bars(
            [Bar(MONTHS[m.month.month - 1], self._month_value(m), str(m.month.year))
             for m in data.months]
        )
        self._revenue_titles()

    def action_period(self) -> None:
        if self.current == "revenue":
            self.revenue_period_index = (self.revenue_period_index + 1) % len(REVENUE_PERIODS)
        elif self.current == "conversion":
            self.conversion_period_index = (
                (self.conversion_period_index + 1) % len(CONVERSION_PERIODS))
        else:
            return
        self.load(self.current)

    # ------------------------------------------------------------------ receivables

    @work(thread=True, exclusive=True, group="reports-aging", exit_on_error=False)
    def _load_aging(self, request: int, today: dt.date) -> None:
        report = aged_receivables(self.db, today, limit=AGING_ROWS)
        currency = business.load(self.db, "business")["currency"]
        self._deliver("receivables", request, self._show_aging, _Aging(report, currency))

    def _show_aging(self, data: _Aging) -> None:
        self._aging = data
        self.query_one("#receivables").loading = False
        report = data.report
        table = self.query_one("#aging-table", DataTable)
        totals = self.query_one("#aging-totals", DataTable)
        keep = self.aging_client_id()
        width = self.size.width or self.app.size.width
        self._aging_width = width
        layout, widths = aging_layout(report, width)
        for t in (table, totals):
            t.clear(columns=True)
            t.add_column("Client", width=widths[0], key="client")
            for (key, title, _buckets), column_width in zip(layout, widths[1:-1], strict=True):
                t.add_column(Text(title, justify="right"), width=column_width, key=key)
            t.add_column(Text("Total", justify="right"), width=widths[-1], key="total")
        for row in report.rows:
            table.add_row(render.plain(row.client_name, style="bold"),
                          *self._amounts(layout, row.buckets), key=str(row.client_id))
        everyone = f"All {report.client_count} client{'s' if report.client_count != 1 else ''}"
        totals.add_row(render.plain(everyone, style="bold"),
                       *self._amounts(layout, report.totals, bold=True))
        totals.display = bool(report.rows)
        if keep is not None and str(keep) in table.rows:
            table.move_cursor(row=table.get_row_index(str(keep)))
        self._aging_status()

    def on_resize(self) -> None:
        # the columns were fitted to the width the report was first shown at
        width = self.size.width or self.app.size.width
        if self._aging is not None and width != self._aging_width:
            self._show_aging(self._aging)

    @staticmethod
    def _amounts(layout: tuple[tuple[str, str, tuple[int, ...]], ...],
                 buckets: tuple[int, ...], *, bold: bool = False) -> list[Text]:
        cells = []
        for cents in (*column_sums(layout, buckets), sum(buckets)):
            if cents:
                cells.append(render.plain(amount(cents), justify="right",
                                          style="bold" if bold else ""))
            else:
                cells.append(render.plain("–", justify="right", style="dim"))
        return cells

    def _aging_status(self) -> None:
        data = self._aging
        if data is None:
            return
        report = data.report
        status = self.query_one("#aging-status", Label)
        if not report.client_count:
            status.update(f"Nobody owes anything on {report.as_of.isoformat()}: "
                          "every issued invoice is paid.")
            return
        owed = format_money(report.totals.total_cents, data.currency)
        late = format_money(report.totals.past_due_cents, data.currency)
        clients = f"{report.client_count} client{'s' if report.client_count != 1 else ''}"
        text = f"Owed on {report.as_of.isoformat()}: {owed} by {clients} ({late} past due)"
        if report.client_count > len(report.rows):
            text += f" · the {len(report.rows)} largest shown"
        text += f" · in {data.currency}"
        status.update(text)

    def aging_client_id(self) -> int | None:
        table = self.query_one("#aging-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    # ------------------------------------------------------------------ conversion

    @work(thread=True, exclusive=True, group="reports-conversion", exit_on_error=False)
    def _load_conversion(self, request: int, start: dt.date, end: dt.date,
                         today: dt.date) -> None:
        report = proposal_conversion(self.db, start, end, today=today)
        currency = business.load(self.db, "business")["currency"]
        self._deliver("conversion", request, self._show_conversion,
                      _Conversion(report, currency))

    def _show_conversion(self, data: _Conversion) -> None:
        self._conversion = data
        self.query_one("#conversion").loading = False
        self.query_one("#conversion-body", Static).update(self._conversion_content(data))

    def _conversion_content(self, data: _Conversion) -> Content:
        r = data.report
        period = CONVERSION_PERIODS[self.conversion_period_index][1]
        money = lambda cents: format_money(cents, data.currency)  # noqa: E731
        parts: list[str | tuple[str, str]] = [
            (f"Proposals sent in the {period}", "bold"),
            (f" ({r.start.isoformat()} to {r.end.isoformat()})\n\n", "$text-muted"),
            "Conversion rate  ", (percent(r.rate), "bold $text-success"),
        ]
        if r.decided_count:
            parts.append((f"   {r.approved_count} approved of {r.decided_count} decided "
                          "(approved + declined)\n", "$text-muted"))
        else:
            parts.append(("   none of them approved or declined yet\n", "$text-muted"))
        counts = [r.approved_count, r.declined_count, r.expired_count, r.open_count]
        width = max(min((self.size.width or self.app.size.width) - 8, 60), 10)
        for (_key, _label, char, style), cells in zip(OUTCOMES, shares(counts, width),
                                                      strict=True):
            if cells:
                parts.append((char * cells, style))
        parts.append("\n")
        for _key, label, char, style in OUTCOMES:
            parts += [(char, style), f" {label.lower()}   "]
        parts.append("\n\n")
        parts.append((f"{'':<10}{'Count':>7}{'Amount':>16}\n", "$text-muted"))
        rows = [("Sent", r.sent_count, r.sent_cents), ("Approved", r.approved_count, r.approved_cents),
                ("Declined", r.declined_count, r.declined_cents),
                ("Expired", r.expired_count, r.expired_cents), ("Open", r.open_count, r.open_cents)]
        for label, count, cents in rows:
            parts.append(f"{label:<10}{count:>7,}{money(cents):>16}\n")
        parts.append(("\nExpired: sent, unanswered and past valid-until. Open: awaiting an "
                      "answer, or back in draft for changes.", "$text-muted"))
        return Content.assemble(*parts)

    # ------------------------------------------------------------------ jobs to invoice

    @work(thread=True, exclusive=True, group="reports-jobs", exit_on_error=False)
    def _load_jobs(self, request: int) -> None:
        jobs = jobs_to_invoice(self.db)
        currency = business.load(self.db, "business")["currency"]
        self._deliver("jobs", request, self._show_jobs, _Jobs(jobs, currency))

    def _show_jobs(self, data: _Jobs) -> None:
        self._jobs = data
        self.query_one("#jobs").loading = False
        table = self.query_one("#jobs-table", DataTable)
        keep = self.highlighted_job()
        table.clear(columns=True)
        width = self.size.width or self.app.size.width
        money_width = max([len(amount(j.estimate_cents)) for j in data.jobs[:JOB_ROWS]] + [8])
        fixed = {"number": 10, "billing": 9, "status": 11, "estimate": money_width}
        rest = max(width - 2 - 2 * 6 - sum(fixed.values()) - 2, 20)
        columns: list[tuple[str, str | Text, int]] = [
            ("number", "Job", fixed["number"]), ("title", "Title", rest // 2),
            ("client", "Client", rest - rest // 2), ("billing", "To bill", fixed["billing"]),
            ("status", "Status", fixed["status"]),
            ("estimate", Text("Estimate", justify="right"), money_width)]
        for key, title, w in columns:
            table.add_column(title, width=w, key=key)
        for job in data.jobs[:JOB_ROWS]:
            to_bill = ("the job" if job.billing == "per_job"
                       else f"{job.visits_to_invoice} visit{'s' if job.visits_to_invoice != 1 else ''}")
            table.add_row(render.plain(job.number, style="bold"), render.plain(job.title),
                          render.plain(job.client_name), render.plain(to_bill),
                          render.plain(render.status(job.status)),
                          render.plain(amount(job.estimate_cents), justify="right"),
                          key=str(job.job_id))
        if keep is not None and str(keep.job_id) in table.rows:
            table.move_cursor(row=table.get_row_index(str(keep.job_id)))
        status = self.query_one("#jobs-status", Label)
        if not data.jobs:
            status.update("Nothing to invoice: every finished job and visit has been billed.")
        else:
            total = format_money(sum(j.estimate_cents for j in data.jobs), data.currency)
            count = len(data.jobs)
            shown = f" (the first {JOB_ROWS} listed)" if count > JOB_ROWS else ""
            status.update(f"{count:,} job{'s' if count != 1 else ''} ready to invoice, about "
                          f"{total}{shown} · amounts in {data.currency}")

    def highlighted_job(self) -> JobToInvoice | None:
        table = self.query_one("#jobs-table", DataTable)
        if self._jobs is None or not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((j for j in self._jobs.jobs if str(j.job_id) == key), None)

    # ------------------------------------------------------------------ opening

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        if self.current == "receivables":
            client_id = self.aging_client_id()
            if client_id is not None:
                self.crm.open_client(client_id)
        elif self.current == "jobs":
            job = self.highlighted_job()
            if job is None:
                return
            open_job = getattr(self.crm, "open_job", None)
            if callable(open_job):
                open_job(job.job_id)
            else:
                self.crm.open_client(job.client_id)
