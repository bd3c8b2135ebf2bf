"""Section 3, Jobs: the list by status, paged in SQL, with a "ready to invoice" filter.

The list machinery is the proposal list's (:class:`tui.screens.proposals.PagedListScreen`).
``n`` starts a new job (:mod:`tui.screens.job_form`; once saved its page opens), ``enter``
opens the job (:mod:`tui.screens.job_detail`), ``e`` opens the highlighted job's form,
``f`` cycles the filter, ``o`` the sort, ``/`` searches (by number, title or the client's
name; :mod:`tui.screens.list_search`). "To invoice" lists the work done and not billed, from
:func:`core.reports.jobs_to_invoice` (one short list, not paged: it holds only jobs waiting
for an invoice), with the amount still to invoice in the total column. Below 90 columns
the next-visit column is left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.widgets import DataTable

from core.business import load as load_settings
from core.list_search import find_jobs
from core.lists import JobRow, list_jobs
from core.paging import Cursor, Page
from core.reports import jobs_to_invoice
from tui import render
from tui.screens.job_detail import JobDetailScreen
from tui.screens.job_form import JobFormScreen
from tui.screens.list_search import SEARCH_LIMIT
from tui.screens.proposals import LIST_CSS, PAGE_SIZE, PagedListScreen


@dataclass(slots=True)
class ReadyRow:
    """A job waiting for an invoice, shaped like a list row."""

    id: int
    number: str
    client_name: str
    title: str
    status: str
    next_visit_at: dt.datetime | None
    total_cents: int  # what is still to invoice (an estimate for per-visit billing)
    currency: str
    visits_to_invoice: int


class JobListScreen(PagedListScreen):
    CSS_PATH = LIST_CSS  # the list styles are shared with the proposal list
    HELP_TITLE = "Jobs"
    MODE = "jobs"
    NOUN = "jobs"
    FILTERS = (
        ("all", "All"),
        ("ready", "To invoice"),
        ("unscheduled", "Unscheduled"),
        ("scheduled", "Scheduled"),
        ("in_progress", "In progress"),
        ("completed", "Completed"),
        ("on_hold", "On hold"),
        ("invoiced", "Invoiced"),
        ("cancelled", "Cancelled"),
    )
    SORTS = (
        ("number", True, "Newest first"),
        ("title", False, "By title"),
    )
    COLUMNS = (
        ("number", "Number", 10),
        ("client", "Client", 0),
        ("title", "Title", 0),
        ("status", "Status", 11),
        ("next", "Next visit", 16),
        ("total", "Total", 12),
    )
    NARROW_DROP = ("next",)
    EMPTY_HINT = ("No jobs yet. Press n for a new job, or approve a proposal and press j "
                  "to turn it into one.")
    SEARCH_PLACEHOLDER = "Search jobs by number, title or client…"
    SEARCH_NOUN = "jobs"
    BINDINGS = [
        Binding("slash", "search", "Search", id="jobs.search"),
        Binding("n", "new", "New", id="jobs.new"),
        Binding("enter", "open", "Open", id="jobs.open"),
        Binding("e", "edit", "Edit", id="jobs.edit"),
        Binding("f", "cycle_filter", "Filter", id="jobs.filter"),
        Binding("o", "cycle_sort", "Sort", id="jobs.sort"),
        Binding("escape", "clear_search", "Clear search", id="jobs.clear_search", show=False),
        Binding("down", "to_results", "To the hits", id="jobs.to_results", show=False),
    ]

    def search_find(self, query: str) -> list[JobRow]:
        return find_jobs(self.db, query, today=self.crm.today, limit=SEARCH_LIMIT)

    def fetch(self, filter_key: str, sort: str, descending: bool, cursor: Cursor | None,
              ) -> Page[JobRow] | Page[ReadyRow]:
        if filter_key == "ready":
            currency = load_settings(self.db, "business")["currency"]
            rows = [ReadyRow(j.job_id, j.number, j.client_name, j.title, j.status, None,
                             j.estimate_cents, currency, j.visits_to_invoice)
                    for j in jobs_to_invoice(self.db)]
            return Page(rows, None)
        return list_jobs(
            self.db, today=self.crm.today, status=None if filter_key == "all" else filter_key,
            sort=sort, descending=descending, cursor=cursor, limit=PAGE_SIZE,
        )

    def cells(self, row: JobRow | ReadyRow) -> dict[str, Text]:
        status = render.status(row.status)
        if isinstance(row, ReadyRow) and row.visits_to_invoice:
            status = f"{row.visits_to_invoice} visit{'s' if row.visits_to_invoice != 1 else ''}"
        return {
            "number": render.plain(row.number),
            "client": render.plain(row.client_name, style="bold"),
            "title": render.plain(row.title),
            "status": render.plain(status),
            "next": render.plain(f"{row.next_visit_at:%a %b %d %H:%M}" if row.next_visit_at
                                 else ""),
            "total": render.money(row.total_cents, row.currency),
        }

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open", "edit"):
            return self.highlighted_id() is not None
        return True

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        job_id = self.highlighted_id()
        if job_id is not None:
            self.app.push_screen(JobDetailScreen(job_id))

    def action_edit(self) -> None:
        job_id = self.highlighted_id()
        if job_id is not None:
            self._keep_id = job_id
            self.app.push_screen(JobFormScreen(job_id))

    def action_new(self) -> None:
        self.app.push_screen(JobFormScreen())
