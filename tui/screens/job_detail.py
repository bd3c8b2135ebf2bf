"""One job: what it is, its line items and totals, its visits and its service logs, with a
key for each step of its work.

``v`` schedules visits (one-off or a repeating rule, previewing the dates), ``b`` starts
the highlighted visit, ``c`` completes it with its service log, ``h`` holds or resumes the
job (one key; the bottom line shows which applies), ``x`` cancels the job (asking for an
optional reason), ``i`` creates a draft invoice from the job and opens it (or says its id
when the invoices section cannot open it). Every step is a core service call in a thread
worker; a refusal shows the service's reason and changes nothing. The service-log dialog
completes the visit itself and stays open with the reason when refused, so what was typed
is kept (:class:`tui.screens.visit_dialogs.CompleteVisitDialog`). ``m`` texts the client
about the highlighted visit (:mod:`tui.screens.sms_dialog`): "on my way" for a visit still
to come today, the visit reminder otherwise; ``t`` in the dialog switches between the two.

Decisions where the issue is silent: a job billed per job that is not completed yet asks
before invoicing in advance (the service's ``allow_incomplete``); visits are listed oldest
first, all of them (a job's visits are capped by the recurrence rule at a few hundred);
the newest ``LOG_LIMIT`` service logs are shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Label, Static
from textual.worker import get_current_worker

from core import invoices, jobs, messaging, money
from core.errors import DomainError, NotFound
from core.lists import AddressRow, ServiceLogRow, list_addresses, list_service_logs
from core.models import Job, Visit
from core.overview import client_names
from core.staff import UserRow, list_users
from tui import render
from tui.screens.base import CrmScreen
from tui.screens.sms_dialog import SmsDialog
from tui.screens.visit_dialogs import (
    CompleteVisitDialog,
    CompletionRequest,
    NoteDialog,
    ScheduleDialog,
    ScheduleRequest,
)
from tui.widgets.key_hints import KeyHints
from tui.widgets.section_bar import SectionBar

LOG_LIMIT = 50
ACTIVE = ("unscheduled", "scheduled", "in_progress")
VISIT_TEMPLATES = tuple(name for name, kind in messaging.TEMPLATES.items()
                        if kind.record == "visit")
RECURRENCE = {"weekly": "every week", "every_n_weeks": "every {n} weeks",
              "monthly": "every {n} months"}


@dataclass(frozen=True)
class JobView:
    job: Job
    client_name: str
    address: AddressRow | None
    staff: list[UserRow]
    logs: list[ServiceLogRow]


def load_job_view(db: Any, job_id: int) -> JobView:
    """Everything the page shows (call from a thread worker)."""
    job = jobs.get(db, job_id)
    name = client_names(db, [job.client_id]).get(job.client_id, "")
    address = None
    if job.address_id is not None:
        rows = list_addresses(db, client_id=job.client_id, limit=200).rows
        address = next((a for a in rows if a.id == job.address_id), None)
    staff = list_users(db, include_inactive=True)
    logs = list_service_logs(db, job_id=job_id, limit=LOG_LIMIT).rows
    return JobView(job, name, address, staff, logs)


def visit_minutes(visit: Visit) -> int:
    return int((visit.ends_at - visit.starts_at).total_seconds() // 60)


def _hours(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def _table(*columns: tuple[str, dict[str, object]]) -> Table:
    table = Table(box=None, padding=(0, 2, 0, 0), expand=True, header_style="dim")
    for name, options in columns:
        table.add_column(name, no_wrap=True, overflow="ellipsis", **options)  # type: ignore[arg-type]
    return table


class JobDetailScreen(CrmScreen[None]):
    CSS_PATH = "job_detail.tcss"
    HELP_TITLE = "Job"
    BINDINGS = [
        Binding("escape", "back", "Back", id="job.back"),
        Binding("v", "schedule", "Schedule", id="job.schedule"),
        Binding("b", "start_visit", "Start", id="job.start_visit"),
        Binding("c", "complete_visit", "Complete", id="job.complete_visit"),
        # in the order the key hints keep them when the line is short: the daily ones first
        Binding("i", "invoice", "Invoice", id="job.invoice"),
        Binding("m", "text_visit", "Text", id="job.text_visit"),
        Binding("e", "edit", "Edit", id="job.edit"),
        Binding("h", "hold", "Hold", id="job.hold"),
        Binding("h", "resume", "Resume", id="job.resume"),
        Binding("x", "cancel_job", "Cancel job", id="job.cancel"),
        Binding("X", "cancel_visit", "Cancel visit", id="job.cancel_visit"),
    ]

    def __init__(self, job_id: int) -> None:
        super().__init__()
        self.job_id = job_id
        self.view: JobView | None = None
        self._busy = False
        self._seen_data_version = -1

    def compose(self) -> ComposeResult:
        yield SectionBar("jobs")
        with VerticalScroll(id="job-detail"):
            yield Static(id="job-header")
            yield Static(id="job-lines", classes="detail-section")
            yield Label("", id="visits-title", classes="section-title", markup=False)
            yield DataTable(id="visits", cursor_type="row", zebra_stripes=True)
            yield Static(id="job-logs", classes="detail-section")
        yield KeyHints()

    def on_mount(self) -> None:
        table = self.query_one("#visits", DataTable)
        for key, title, width in (("when", "When", 22), ("length", "Length", 7),
                                  ("who", "Who", 16), ("status", "Status", 12),
                                  ("billed", "Invoice", 8)):
            table.add_column(title, key=key, width=width)
        table.focus()
        self.query_one("#job-detail").loading = True

    def on_screen_resume(self) -> None:
        if self._seen_data_version != self.crm.data_version:
            self._seen_data_version = self.crm.data_version
            self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.view is None:
            return None if action != "back" else True
        status = self.view.job.status
        if action == "hold":
            return status != "on_hold"
        if action == "resume":
            return status == "on_hold"
        if action in ("start_visit", "complete_visit", "text_visit"):
            return self.highlighted_visit() is not None
        if action == "cancel_visit":
            visit = self.highlighted_visit()
            return visit is not None and visit.status in ("scheduled", "in_progress")
        return True

    # ------------------------------------------------------------------ loading

    @work(thread=True, exclusive=True, group="job-detail", exit_on_error=False)
    def load(self) -> None:
        try:
            view = load_job_view(self.db, self.job_id)
        except NotFound as exc:
            self.app.call_from_thread(self._gone, exc)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, view)

    def _gone(self, error: NotFound) -> None:
        self.notice(str(error), severity="error")
        self.dismiss(None)

    def _show(self, view: JobView) -> None:
        keep = self.highlighted_visit()
        self.view = view
        self.query_one("#job-detail").loading = False
        self.query_one("#job-header", Static).update(self._header(view))
        lines = self.query_one("#job-lines", Static)
        lines.border_title = f"Line items ({len(view.job.lines)})"
        lines.update(self._lines(view))
        self._fill_visits(view, keep.id if keep else None)
        logs = self.query_one("#job-logs", Static)
        logs.border_title = f"Service logs ({len(view.logs)})"
        logs.update(self._logs(view) if view.logs else Content("No work logged yet."))
        self.refresh_bindings()
        self.query_one(KeyHints).refresh_hints()

    def _header(self, view: JobView) -> Content:
        job = view.job
        parts: list[str | tuple[str, str]] = [
            (f"Job {job.number}", "bold"), "  ", (render.one_line(job.title), "bold"), "\n",
            (render.one_line(view.client_name), ""),
        ]
        if view.address is not None:
            a = view.address
            place = ", ".join(p for p in (a.line1, a.line2, a.city) if p)
            parts.append(("  ·  " + render.one_line(place), "dim"))
        facts = [render.status(job.status),
                 "billed per visit" if job.billing == "per_visit" else "billed per job"]
        if job.recurrence in RECURRENCE:
            rule = RECURRENCE[job.recurrence].format(n=job.recurrence_interval)
            if job.recurrence_until:
                rule += f" until {job.recurrence_until.isoformat()}"
            elif job.recurrence_count:
                rule += f", {job.recurrence_count} visits"
            facts.append(f"repeats {rule}")
        facts.append(f"total {money.format_money(job.total_cents, job.currency)}")
        parts += ["\n", ("  ·  ".join(facts), "")]
        if job.description:
            parts += ["\n", (render.one_line(job.description), "dim")]
        return Content.assemble(*parts)

    def _lines(self, view: JobView) -> Table | Content:
        job = view.job
        if not job.lines:
            return Content("No line items.")
        table = _table(("Description", {"ratio": 1}), ("Qty", {"justify": "right"}),
                       ("Price", {"justify": "right"}), ("Tax", {"justify": "right"}),
                       ("Amount", {"justify": "right"}), ("", {}))
        for line in job.lines:
            table.add_row(
                render.plain(line.description.replace("\n", " ")),
                render.plain(f"{line.quantity.normalize():f}"),
                render.plain(money.format_money(line.unit_price_cents, job.currency)),
                render.plain(f"{line.tax_rate.normalize():f}%" if line.tax_rate else ""),
                render.money(line.subtotal_cents, job.currency),
                render.plain("invoiced" if line.invoice_id else "", style="dim"),
            )
        totals = Text(justify="right")
        totals.append("Subtotal ", "dim")
        totals.append(money.format_money(job.subtotal_cents, job.currency))
        if job.discount_cents:
            totals.append("  Discount ", "dim")
            totals.append(money.format_money(-job.discount_cents, job.currency))
        totals.append("  Tax ", "dim")
        totals.append(money.format_money(job.tax_cents, job.currency))
        totals.append("  Total ", "dim")
        totals.append(money.format_money(job.total_cents, job.currency), "bold")
        outer = Table.grid(expand=True)
        outer.add_row(table)
        outer.add_row(totals)
        return outer

    def _fill_visits(self, view: JobView, keep: int | None) -> None:
        table = self.query_one("#visits", DataTable)
        table.clear()
        names = {u.id: u.name for u in view.staff}
        visits = view.job.visits
        open_count = sum(v.status in ("scheduled", "in_progress") for v in visits)
        title = f"Visits ({len(visits)}, {open_count} open)" if visits else "Visits: none yet"
        self.query_one("#visits-title", Label).update(render.content(
            title + ("" if visits else f". Press {self.crm.key_for('job.schedule', 'v')} "
                     "to schedule.")))
        for v in visits:
            minutes = visit_minutes(v)
            style = "dim" if v.status in ("completed", "cancelled") else ""
            table.add_row(
                render.plain(f"{v.starts_at:%a %Y-%m-%d %H:%M}", style=style),
                render.plain(_hours(minutes), style=style),
                render.plain(names.get(v.assignee_id or 0, ""), style=style),
                render.plain(render.status(v.status), style="bold" if v.status == "in_progress"
                             else style),
                render.plain("yes" if v.invoice_id else "", style=style),
                key=str(v.id),
            )
        table.display = bool(visits)
        # the keys act on the highlighted visit: keep the focus on the list when it shows
        if visits and (self.focused is None or self.focused.id == "job-detail"):
            table.focus()
        elif not visits:
            self.query_one("#job-detail").focus()
        if keep is not None:
            try:
                table.move_cursor(row=table.get_row_index(str(keep)))
            except Exception:  # that visit is gone
                pass
        elif visits:
            # start on the first visit still to do: that is the one to start or complete
            first_open = next((i for i, v in enumerate(visits)
                               if v.status in ("scheduled", "in_progress")), 0)
            table.move_cursor(row=first_open)

    def _logs(self, view: JobView) -> Table:
        table = _table(("Date", {}), ("Who", {}), ("Time", {"justify": "right"}),
                       ("Notes", {"ratio": 2}), ("Materials", {"ratio": 1}))
        for log in view.logs:
            table.add_row(render.plain(log.logged_on.isoformat()),
                          render.plain(log.technician_name),
                          render.plain(_hours(log.minutes_spent)),
                          render.plain(log.notes_preview.replace("\n", " ")),
                          render.plain(log.materials_preview.replace("\n", " ")))
        return table

    @on(DataTable.RowHighlighted, "#visits")
    def _visit_highlighted(self) -> None:
        self.refresh_bindings()

    def highlighted_visit(self) -> Visit | None:
        if self.view is None:
            return None
        table = self.query_one("#visits", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((v for v in self.view.job.visits if str(v.id) == key), None)

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        self.dismiss(None)

    def action_schedule(self) -> None:
        if self.view is None:
            return
        job = self.view.job

        def answered(result: object) -> None:
            if isinstance(result, ScheduleRequest):
                self._run("schedule", lambda: jobs.schedule_visits(
                    self.db, job.id, result.data, expected_version=job.version))

        self.app.push_screen(ScheduleDialog(f"{job.number} {job.title}",
                                            [u for u in self.view.staff if u.active],
                                            self.crm.today), answered)

    def action_start_visit(self) -> None:
        visit = self.highlighted_visit()
        if visit is not None:
            self._run("start", lambda: jobs.start_visit(self.db, visit.id,
                                                        expected_version=visit.version))

    def action_complete_visit(self) -> None:
        visit, view = self.highlighted_visit(), self.view
        if visit is None or view is None:
            return
        minutes = visit_minutes(visit)
        staff = [u for u in view.staff if u.active or u.id == visit.assignee_id]
        dialog = CompleteVisitDialog(f"{visit.starts_at:%a %Y-%m-%d %H:%M}", minutes, staff,
                                     visit.assignee_id, self.crm.today, visit_id=visit.id,
                                     job_id=view.job.id, version=visit.version,
                                     job_label=f"{view.job.number} {view.job.title}")

        def closed(result: object) -> None:
            # completed: the dialog saved it and the page reloads on resume (data_version);
            # given up after a refusal: the visit changed elsewhere, show it as it is now
            if not isinstance(result, CompletionRequest) and dialog.refused:
                self.load()

        self.app.push_screen(dialog, closed)

    def action_text_visit(self) -> None:
        visit = self.highlighted_visit()
        if visit is None:
            return
        soon = visit.status == "scheduled" and visit.starts_at.date() == self.crm.today
        template = "on_my_way" if soon else "visit_reminder"
        self.app.push_screen(SmsDialog("visit", visit.id, template, templates=VISIT_TEMPLATES))

    def action_hold(self) -> None:
        job = self.view.job if self.view else None
        if job is not None:
            self._run("hold", lambda: jobs.hold_job(self.db, job.id, expected_version=job.version))

    def action_resume(self) -> None:
        job = self.view.job if self.view else None
        if job is not None:
            self._run("resume", lambda: jobs.resume_job(self.db, job.id,
                                                        expected_version=job.version))

    def action_cancel_job(self) -> None:
        job = self.view.job if self.view else None
        if job is None:
            return

        def answered(reason: object) -> None:
            if isinstance(reason, str):
                self._run("cancel", lambda: jobs.cancel_job(
                    self.db, job.id, reason=reason, expected_version=job.version))

        self.app.push_screen(NoteDialog(
            f"Cancel job {job.number}?", "Its open visits are cancelled too. Reason "
            "(optional, kept in the history):", confirm="Cancel the job"), answered)

    def action_cancel_visit(self) -> None:
        """Cancel the highlighted visit only (the job and its other visits stay)."""
        visit = self.highlighted_visit()
        if visit is None:
            return
        from tui.screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self._run("cancel_visit", lambda: jobs.cancel_visit(
                    self.db, visit.id, expected_version=visit.version))

        self.app.push_screen(ConfirmScreen(
            f"Cancel the visit of {visit.starts_at:%a %Y-%m-%d %H:%M}? The job and its other "
            "visits stay as they are.", yes="Cancel the visit", no="Keep it"), answered)

    def action_edit(self) -> None:
        if self.view is None:
            return
        from tui.screens.job_form import JobFormScreen

        self.app.push_screen(JobFormScreen(self.job_id))

    def action_invoice(self) -> None:
        job = self.view.job if self.view else None
        if job is None:
            return
        if job.billing == "per_job" and job.status in ACTIVE:
            from tui.screens.confirm import ConfirmScreen

            def answered(yes: bool | None) -> None:
                if yes:
                    self._run("invoice", lambda: jobs_invoice(self.db, job.id, True))

            self.app.push_screen(ConfirmScreen(
                f"Job {job.number} is not completed yet. Invoice it in advance?",
                yes="Invoice now", no="Not yet"), answered)
            return
        self._run("invoice", lambda: jobs_invoice(self.db, job.id, False))

    def _run(self, kind: str, call: Any) -> None:
        if self._busy:
            return
        self._busy = True
        self._run_in_thread(kind, call)

    @work(thread=True, exclusive=True, group="job-action", exit_on_error=False)
    def _run_in_thread(self, kind: str, call: Any) -> None:
        try:
            result = call()
        except DomainError as exc:
            self.app.call_from_thread(self._refused, exc)
            return
        finally:
            self._busy = False
        self.app.call_from_thread(self._done, kind, result)

    def _refused(self, error: DomainError) -> None:
        self.notice(render.error_text(error), severity="error", title="Not done")

    def _done(self, kind: str, result: Any) -> None:
        self.crm.note_data_changed()
        self._seen_data_version = self.crm.data_version
        number = self.view.job.number if self.view else ""
        if kind == "invoice":
            invoice_id, total = result
            open_invoice = getattr(self.crm, "open_invoice", None)
            if open_invoice is not None:
                self.notice(f"Created a draft invoice for {total} from job {number}.")
                open_invoice(invoice_id)
            else:
                self.notice(f"Created draft invoice #{invoice_id} for {total} from job "
                            f"{number}. Find it in Invoices (5).")
        elif kind == "schedule":
            count = len(result)
            self.notice(f"Scheduled {count} visit{'' if count == 1 else 's'} for job {number}.")
        else:
            self.notice({
                "start": "Visit started.",
                "hold": f"Job {number} is on hold.",
                "resume": f"Job {number} resumed.",
                "cancel": f"Job {number} was cancelled.",
                "cancel_visit": "Visit cancelled.",
            }[kind])
        self.load()


def jobs_invoice(db: Any, job_id: int, in_advance: bool) -> tuple[int, str]:
    """Create the draft invoice; its id and total as shown in the notice."""
    invoice_id = invoices.create_from_job(db, job_id, allow_incomplete=in_advance)
    invoice = invoices.get(db, invoice_id)
    return invoice_id, money.format_money(invoice.total_cents, invoice.currency)
