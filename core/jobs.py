"""Job use cases: jobs, their visits and service logs, from creation to completion.

Lifecycle: unscheduled → scheduled → in_progress → completed → invoiced, plus cancelled and
on_hold (``held_from`` remembers the status to resume to). ``invoiced`` is set by the invoicing
code and, like ``cancelled``, is terminal here. While a job is active its status follows its
visits (:func:`_settle_status`): no open visit and none done → unscheduled; open visits, none
started → scheduled; any visit started or done with some still open → in_progress; no open
visit left and at least one done → completed. So a one-off job completes with its visit, and a
recurring job completes when the last of its generated visits is done or cancelled.

Decisions where the brief is silent:
- a job gets its number (``JOB-{seq:04}``) when created; billing defaults to per_visit when the
  job is created with a recurring schedule, else per_job (scheduling later does not change it);
- completing a job explicitly cancels its remaining scheduled visits and is refused while a
  visit is in progress (its time would not be logged); a visit may be completed straight from
  scheduled (the technician forgot to press start);
- on hold, visits cannot be scheduled, started or completed, but may be moved or cancelled;
  resuming recomputes the status from the visits when the job was active before;
- a job linked to any invoice that is not void (a draft included) cannot be cancelled, its
  billing cannot change and invoiced lines cannot be edited;
- a job invoiced in advance (every line, or every completed visit for per_visit billing,
  already on an invoice) becomes ``invoiced`` rather than ``completed`` when its work is done,
  as :func:`core.invoices.job_fully_invoiced` expects of this module;
- a service log without a date is dated today; its technician defaults to the visit's assignee;
  logs can be added to visits that started or are done, and to any job not cancelled.

Ready to invoice (computed in SQL by the reports code, stated here as the rule): a job that is
not cancelled or on hold AND either (billing per_job AND status completed AND it has a job line
with ``invoice_id`` NULL) or (billing per_visit AND it has a completed visit with ``invoice_id``
NULL).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified

from core import audit, business, money, numbering, recurrence, validate
from core.db import Database
from core.errors import NotFound, StaleRecord, TransitionError, ValidationError
from core.lines import CleanLine, LineData, as_line_data, clean_lines, replace_lines
from core.models import (
    Address,
    Client,
    Invoice,
    Job,
    JobLine,
    ServiceLog,
    Visit,
    utcnow,
)
from core.recurrence import Rule
from core.staff import check_assignee

BILLING = ("per_job", "per_visit")
ACTIVE = ("unscheduled", "scheduled", "in_progress")
OPEN_VISIT = ("scheduled", "in_progress")
MAX_DURATION_MINUTES = 7 * 24 * 60  # a week-long install is the longest visit we expect
MAX_LOG_MINUTES = 7 * 24 * 60


@dataclass
class JobData:
    client_id: int
    title: str
    address_id: int | None = None
    description: str = ""
    lines: list[LineData] | None = None  # on edit, None keeps the current lines
    billing: str | None = None  # None: per_visit for a recurring schedule, else per_job
    discount_kind: str = "none"
    discount_value: Decimal | str | int = Decimal(0)  # percent, or cents when "fixed"


@dataclass
class ScheduleData:
    start_date: dt.date | str
    start_time: dt.time | str
    duration_minutes: int = 60
    rule: Rule = field(default_factory=Rule)
    assignee_id: int | None = None


@dataclass
class VisitData:
    starts_at: dt.datetime
    duration_minutes: int = 60
    assignee_id: int | None = None


@dataclass
class ServiceLogData:
    minutes_spent: int = 0
    notes: str = ""
    materials: str = ""
    technician_id: int | None = None
    logged_on: dt.date | str | None = None  # None: today


# --------------------------------------------------------------------------- messages

_JOB_STATE = {
    "unscheduled": "has no visits scheduled",
    "scheduled": "is scheduled",
    "in_progress": "is in progress",
    "completed": "is already completed",
    "invoiced": "has been invoiced",
    "cancelled": "was cancelled",
    "on_hold": "is on hold",
}
_VISIT_STATE = {
    "scheduled": "has not started yet",
    "in_progress": "is already in progress",
    "completed": "is already completed",
    "cancelled": "was cancelled",
}


def _job_refusal(job: Job, consequence: str) -> TransitionError:
    hint = " Resume it first." if job.status == "on_hold" else ""
    return TransitionError(f"Job {job.number} {_JOB_STATE[job.status]}, so {consequence}.{hint}")


def _visit_refusal(visit: Visit, verb: str) -> TransitionError:
    return TransitionError(f"This visit {_VISIT_STATE[visit.status]}, so it cannot be {verb}.")


# --------------------------------------------------------------------------- helpers


def _get_job(s: Session, job_id: int) -> Job:
    job = s.get(Job, job_id)
    if job is None:
        raise NotFound("Job", job_id)
    return job


def _get_visit(s: Session, visit_id: int) -> Visit:
    visit = s.get(Visit, visit_id)
    if visit is None:
        raise NotFound("Visit", visit_id)
    return visit


def _check_version(row: Job | Visit, expected: int | None, what: str) -> None:
    if expected is not None and row.version != expected:
        raise StaleRecord(what)


def _touch(row: Job | Visit) -> None:
    # a save bumps the version even when only child rows (lines, visits) changed
    row.updated_at = utcnow()
    flag_modified(row, "updated_at")


def check_client_address(s: Session, client_id: int, address_id: int | None) -> Client:
    """The client must exist and the address, when given, must be one of its addresses."""
    if isinstance(client_id, bool) or not isinstance(client_id, int):
        raise ValidationError("client", "is required")
    client = s.get(Client, client_id)
    if client is None:
        raise ValidationError("client", f"client {client_id} does not exist")
    if address_id is not None:
        address = s.get(Address, address_id)
        if address is None:
            raise ValidationError("service address", f"address {address_id} does not exist")
        if address.client_id != client_id:
            raise ValidationError("service address", f"does not belong to {client.name}")
    return client


def copy_lines(s: Session, rows: Sequence[Any]) -> list[CleanLine]:
    """Stored lines as clean input for another document, keeping each line's tax percentage.

    :func:`core.lines.clean_lines` looks the rate up again by id; a rate edited since the
    source was written would otherwise change the copy's tax and total.
    """
    cleaned = clean_lines(s, [as_line_data(row) for row in rows])
    return [replace(c, tax_rate=row.tax_rate) for c, row in zip(cleaned, rows, strict=True)]


def plain_decimal(value: Decimal) -> Decimal:
    """``1E+1`` (what ``Decimal.normalize`` makes of 10) as ``10``, so stored text reads well."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def clean_discount(kind: str, value: Decimal | str | int) -> tuple[str, Decimal]:
    kind = validate.choice(kind, "discount kind", money.DISCOUNT_KINDS)
    if kind == "none":
        return kind, Decimal(0)
    return kind, plain_decimal(money.parse_decimal(value, "discount", max_places=4))


def _duration(minutes: int, field_name: str = "duration") -> dt.timedelta:
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise ValidationError(field_name, "must be a whole number of minutes")
    if not 1 <= minutes <= MAX_DURATION_MINUTES:
        raise ValidationError(field_name, f"must be between 1 and {MAX_DURATION_MINUTES} minutes")
    return dt.timedelta(minutes=minutes)


def _visit_window(starts_at: dt.datetime, minutes: int) -> tuple[dt.datetime, dt.datetime]:
    if not isinstance(starts_at, dt.datetime):
        raise ValidationError("start", "must be a date and time")
    if starts_at.tzinfo is not None:
        raise ValidationError("start", "must be a local time without a time zone")
    ends_at = starts_at + _duration(minutes)
    if ends_at <= starts_at:  # guarded by _duration; kept as the rule the schema states
        raise ValidationError("end", "must be after the start")
    return starts_at, ends_at


def _parse_time(value: dt.time | str) -> dt.time:
    if isinstance(value, dt.time):
        return value.replace(tzinfo=None)
    try:
        return dt.time.fromisoformat(validate.optional_line(value, "start time", 20))
    except ValueError:
        raise ValidationError("start time", f"'{str(value)[:20]}' is not a time like 08:30") from None


def _invoice_link(s: Session, job: Job) -> str | None:
    """Why the job counts as invoiced (any invoice not void refers to it), or None."""
    if s.scalar(select(exists().where(JobLine.job_id == job.id, JobLine.invoice_id.is_not(None)))):
        return "invoiced"
    if s.scalar(select(exists().where(Visit.job_id == job.id, Visit.invoice_id.is_not(None)))):
        return "invoiced"
    statuses = set(s.scalars(select(Invoice.status).where(Invoice.job_id == job.id)))
    if statuses - {"draft", "void"}:
        return "invoiced"
    if "draft" in statuses:
        return "draft"
    return None


def _settle_status(job: Job) -> None:
    """Derive an active job's status from its visits (see the module docstring)."""
    if job.status not in ACTIVE:
        return
    live = [v for v in job.visits if v.status != "cancelled"]
    open_visits = [v for v in live if v.status in OPEN_VISIT]
    done = any(v.status == "completed" for v in live)
    if not open_visits:
        job.status = _done_status(job) if done else "unscheduled"
    elif done or any(v.status == "in_progress" for v in open_visits):
        job.status = "in_progress"
    else:
        job.status = "scheduled"


def _done_status(job: Job) -> str:
    """"completed", or "invoiced" when everything billable was already invoiced in advance."""
    if job.billing == "per_visit":
        billable = [v.invoice_id for v in job.visits if v.status == "completed"]
    else:
        billable = [line.invoice_id for line in job.lines]
    if billable and all(invoice_id is not None for invoice_id in billable):
        return "invoiced"
    return "completed"


def _job_snapshot(job: Job) -> dict[str, object]:
    return {
        "title": job.title, "description": job.description, "address_id": job.address_id,
        "billing": job.billing, "status": job.status, "discount_kind": job.discount_kind,
        "discount_value": str(job.discount_value), "lines": len(job.lines),
        "total_cents": job.total_cents,
    }


# --------------------------------------------------------------------------- jobs


@dataclass(frozen=True)
class _CleanJob:
    client_id: int
    address_id: int | None
    title: str
    description: str
    billing: str | None
    discount_kind: str
    discount_value: Decimal


def _clean_job(data: JobData) -> _CleanJob:
    kind, value = clean_discount(data.discount_kind, data.discount_value)
    billing = None if data.billing is None else validate.choice(data.billing, "billing", BILLING)
    return _CleanJob(
        client_id=data.client_id,
        address_id=data.address_id,
        title=validate.required_line(data.title, "title", 300),
        description=validate.note(data.description, "description"),
        billing=billing,
        discount_kind=kind,
        discount_value=value,
    )


def insert_job(s: Session, *, client_id: int, address_id: int | None, title: str,
               description: str, lines: list[CleanLine], billing: str, discount_kind: str,
               discount_value: Decimal, proposal_id: int | None = None,
               currency: str | None = None, rounding_rule: str = money.ROUNDING_RULE,
               today: dt.date | None = None) -> Job:
    """Add a numbered, unscheduled job inside the caller's transaction (no audit event).

    Inputs must already be clean; used by :func:`create_job` and proposal conversion.
    ``currency`` defaults to the business currency.
    """
    pattern = business.get(s, "numbering")["job"]
    job = Job(
        number=numbering.next_number(s, "job", pattern, today),
        client_id=client_id, address_id=address_id, proposal_id=proposal_id, title=title,
        description=description, status="unscheduled", billing=billing,
        discount_kind=discount_kind, discount_value=discount_value,
        currency=currency or business.get(s, "business")["currency"],
        rounding_rule=rounding_rule,
    )
    replace_lines(job, JobLine, lines)
    s.add(job)
    s.flush()
    return job


def create_job(db: Database, data: JobData, schedule: ScheduleData | None = None, *,
               today: dt.date | None = None, actor: str = "owner") -> int:
    """Create a job, and schedule its visits in the same transaction when ``schedule`` is given."""
    clean = _clean_job(data)
    recurring = schedule is not None and schedule.rule.is_recurring
    billing = clean.billing or ("per_visit" if recurring else "per_job")
    with db.write() as s:
        client = check_client_address(s, clean.client_id, clean.address_id)
        lines = clean_lines(s, data.lines or [])
        job = insert_job(
            s, client_id=client.id, address_id=clean.address_id, title=clean.title,
            description=clean.description, lines=lines, billing=billing,
            discount_kind=clean.discount_kind, discount_value=clean.discount_value, today=today,
        )
        audit.record(s, actor, "job.create", "job", job.id,
                     f"Created job {job.number} {job.title} for {client.name}",
                     client_id=client.id, after=_job_snapshot(job))
        if schedule is not None:
            _schedule(s, job, schedule, actor)
        return job.id


def edit_job(db: Database, job_id: int, data: JobData, *, expected_version: int | None = None,
             actor: str = "owner") -> None:
    """Change title, description, address, billing, discount and (unless invoiced) lines."""
    clean = _clean_job(data)
    with db.write() as s:
        job = _get_job(s, job_id)
        _check_version(job, expected_version, "job")
        if job.status in ("cancelled", "invoiced"):
            raise _job_refusal(job, "it can no longer be edited")
        if clean.client_id != job.client_id:
            raise ValidationError(
                "client", "a job cannot move to another client; create a new job instead"
            )
        check_client_address(s, job.client_id, clean.address_id)
        before = _job_snapshot(job)
        link = _invoice_link(s, job)
        billing = clean.billing or job.billing
        if billing != job.billing and link:
            raise TransitionError(
                f"Job {job.number} already has an invoice, so its billing cannot change."
            )
        money_changed = data.lines is not None or (clean.discount_kind, clean.discount_value) != (
            job.discount_kind, job.discount_value)
        if money_changed and any(line.invoice_id is not None for line in job.lines):
            raise TransitionError(
                f"Some lines of job {job.number} are already invoiced, so its lines and "
                "discount cannot change."
            )
        job.title, job.description, job.address_id = clean.title, clean.description, clean.address_id
        job.billing = billing
        job.discount_kind, job.discount_value = clean.discount_kind, clean.discount_value
        if data.lines is not None:
            replace_lines(job, JobLine, clean_lines(s, data.lines))
        elif money_changed:  # a new discount is spread over the lines again
            replace_lines(job, JobLine, copy_lines(s, job.lines))
        _touch(job)
        s.flush()
        old, new = audit.changes(before, _job_snapshot(job))
        audit.record(s, actor, "job.update", "job", job.id, f"Edited job {job.number}",
                     client_id=job.client_id, before=old, after=new)


def complete_job(db: Database, job_id: int, *, expected_version: int | None = None,
                 actor: str = "owner") -> None:
    """Mark the work done; remaining scheduled visits are cancelled."""
    with db.write() as s:
        job = _get_job(s, job_id)
        _check_version(job, expected_version, "job")
        if job.status not in ACTIVE:
            raise _job_refusal(job, "it cannot be completed")
        if any(v.status == "in_progress" for v in job.visits):
            raise TransitionError(
                f"A visit of job {job.number} is in progress; complete it first so its work "
                "is logged."
            )
        dropped = _cancel_open_visits(job)
        old = job.status
        job.status = _done_status(job)
        summary = f"Completed job {job.number}"
        if dropped:
            summary += f" ({dropped} scheduled visit{'s' if dropped != 1 else ''} cancelled)"
        audit.record(s, actor, "job.complete", "job", job.id, summary, client_id=job.client_id,
                     before={"status": old}, after={"status": job.status})


def _cancel_open_visits(job: Job) -> int:
    count = 0
    for visit in job.visits:
        if visit.status in OPEN_VISIT:
            visit.status = "cancelled"
            count += 1
    return count


def cancel_job(db: Database, job_id: int, *, reason: str = "", expected_version: int | None = None,
               actor: str = "owner") -> None:
    """Cancel a job that has not been invoiced; its open visits are cancelled with it."""
    note = validate.note(reason, "reason", 2000)
    with db.write() as s:
        job = _get_job(s, job_id)
        _check_version(job, expected_version, "job")
        if job.status in ("cancelled", "invoiced"):
            raise _job_refusal(job, "it cannot be cancelled")
        link = _invoice_link(s, job)
        if link == "draft":
            raise TransitionError(
                f"Job {job.number} has a draft invoice; delete that draft before cancelling "
                "the job."
            )
        if link:
            raise TransitionError(
                f"Job {job.number} has been invoiced, so it cannot be cancelled. Issue a credit "
                "note for the invoice instead."
            )
        dropped = _cancel_open_visits(job)
        old = job.status
        job.status, job.held_from = "cancelled", None
        summary = f"Cancelled job {job.number}"
        if dropped:
            summary += f" and {dropped} visit{'s' if dropped != 1 else ''}"
        if note:
            summary += f": {note}"
        audit.record(s, actor, "job.cancel", "job", job.id, summary, client_id=job.client_id,
                     before={"status": old}, after={"status": "cancelled"})


def hold_job(db: Database, job_id: int, *, expected_version: int | None = None,
             actor: str = "owner") -> None:
    with db.write() as s:
        job = _get_job(s, job_id)
        _check_version(job, expected_version, "job")
        if job.status not in (*ACTIVE, "completed"):
            raise _job_refusal(job, "it cannot be put on hold")
        old = job.status
        job.held_from, job.status = old, "on_hold"
        audit.record(s, actor, "job.hold", "job", job.id, f"Put job {job.number} on hold",
                     client_id=job.client_id, before={"status": old},
                     after={"status": "on_hold"})


def resume_job(db: Database, job_id: int, *, expected_version: int | None = None,
               actor: str = "owner") -> None:
    with db.write() as s:
        job = _get_job(s, job_id)
        _check_version(job, expected_version, "job")
        if job.status != "on_hold":
            raise TransitionError(f"Job {job.number} is not on hold, so it cannot be resumed.")
        job.status, job.held_from = job.held_from or "unscheduled", None
        _settle_status(job)  # visits may have been moved or cancelled meanwhile
        audit.record(s, actor, "job.resume", "job", job.id,
                     f"Resumed job {job.number} ({job.status.replace('_', ' ')})",
                     client_id=job.client_id, before={"status": "on_hold"},
                     after={"status": job.status})


# --------------------------------------------------------------------------- visits


def _refuse_new_visits(job: Job) -> None:
    if job.status not in ACTIVE:
        raise _job_refusal(job, "no visits can be added")


def _schedule(s: Session, job: Job, data: ScheduleData, actor: str) -> list[int]:
    _refuse_new_visits(job)
    start_date = validate.parse_date(data.start_date, "start date", required=True)
    assert start_date is not None
    start_time = _parse_time(data.start_time)
    length = _duration(data.duration_minutes)
    check_assignee(s, data.assignee_id)
    starts = recurrence.visit_starts(start_date, start_time, data.rule)
    rule = recurrence.validate_rule(data.rule, start_date)
    visits = [Visit(job_id=job.id, starts_at=at, ends_at=at + length,
                    assignee_id=data.assignee_id, status="scheduled") for at in starts]
    job.visits.extend(visits)
    if rule.is_recurring:
        job.recurrence, job.recurrence_interval = rule.kind, rule.interval
        job.recurrence_until, job.recurrence_count = rule.until, rule.count
    old = job.status
    _settle_status(job)
    _touch(job)
    s.flush()
    n = len(visits)
    first, last = starts[0], starts[-1]
    span = f"on {first:%Y-%m-%d %H:%M}" if n == 1 else f"from {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    audit.record(s, actor, "job.schedule", "job", job.id,
                 f"Scheduled {n} visit{'s' if n != 1 else ''} for job {job.number} {span}",
                 client_id=job.client_id,
                 before={"status": old},
                 after={"status": job.status, "visits": n, "repeat": rule.kind,
                        "interval": rule.interval,
                        "until": rule.until.isoformat() if rule.until else None,
                        "count": rule.count})
    return [v.id for v in visits]


def schedule_visits(db: Database, job_id: int, data: ScheduleData, *,
                    expected_version: int | None = None, actor: str = "owner") -> list[int]:
    """Generate the visits of a schedule rule in one transaction; returns their ids."""
    with db.write() as s:
        job = _get_job(s, job_id)
        _check_version(job, expected_version, "job")
        return _schedule(s, job, data, actor)


def preview_schedule(data: ScheduleData) -> list[dt.datetime]:
    """The visit starts a schedule would create (for the form, before saving)."""
    start_date = validate.parse_date(data.start_date, "start date", required=True)
    assert start_date is not None
    return recurrence.visit_starts(start_date, _parse_time(data.start_time), data.rule)


def add_visit(db: Database, job_id: int, data: VisitData, *, actor: str = "owner") -> int:
    starts_at, ends_at = _visit_window(data.starts_at, data.duration_minutes)
    with db.write() as s:
        job = _get_job(s, job_id)
        _refuse_new_visits(job)
        check_assignee(s, data.assignee_id)
        visit = Visit(job_id=job.id, starts_at=starts_at, ends_at=ends_at,
                      assignee_id=data.assignee_id, status="scheduled")
        job.visits.append(visit)
        old = job.status
        _settle_status(job)
        s.flush()
        audit.record(s, actor, "visit.create", "visit", visit.id,
                     f"Added a visit on {starts_at:%Y-%m-%d %H:%M} to job {job.number}",
                     client_id=job.client_id, before={"status": old},
                     after={"starts_at": starts_at.isoformat(), "job_status": job.status})
        return visit.id


def move_visit(db: Database, visit_id: int, data: VisitData, *,
               expected_version: int | None = None, actor: str = "owner") -> None:
    """Reschedule a visit (new start, length and assignee); only one not yet started."""
    starts_at, ends_at = _visit_window(data.starts_at, data.duration_minutes)
    with db.write() as s:
        visit = _get_visit(s, visit_id)
        _check_version(visit, expected_version, "visit")
        if visit.status != "scheduled":
            raise _visit_refusal(visit, "moved")
        check_assignee(s, data.assignee_id, current=visit.assignee_id)
        before = {"starts_at": visit.starts_at.isoformat(), "ends_at": visit.ends_at.isoformat(),
                  "assignee_id": visit.assignee_id}
        visit.starts_at, visit.ends_at, visit.assignee_id = starts_at, ends_at, data.assignee_id
        _touch(visit)
        after = {"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(),
                 "assignee_id": data.assignee_id}
        old, new = audit.changes(before, after)
        audit.record(s, actor, "visit.move", "visit", visit.id,
                     f"Moved a visit of job {visit.job.number} to {starts_at:%Y-%m-%d %H:%M}",
                     client_id=visit.job.client_id, before=old, after=new)


def cancel_visit(db: Database, visit_id: int, *, expected_version: int | None = None,
                 actor: str = "owner") -> None:
    with db.write() as s:
        visit = _get_visit(s, visit_id)
        _check_version(visit, expected_version, "visit")
        if visit.status not in OPEN_VISIT:
            raise _visit_refusal(visit, "cancelled")
        job = visit.job
        old_visit, old_job = visit.status, job.status
        visit.status = "cancelled"
        _settle_status(job)
        audit.record(s, actor, "visit.cancel", "visit", visit.id,
                     f"Cancelled the {visit.starts_at:%Y-%m-%d %H:%M} visit of job {job.number}",
                     client_id=job.client_id,
                     before={"status": old_visit, "job_status": old_job},
                     after={"status": "cancelled", "job_status": job.status})


def start_visit(db: Database, visit_id: int, *, expected_version: int | None = None,
                actor: str = "owner") -> None:
    with db.write() as s:
        visit = _get_visit(s, visit_id)
        _check_version(visit, expected_version, "visit")
        job = visit.job
        if visit.status != "scheduled":
            raise _visit_refusal(visit, "started")
        if job.status not in ACTIVE:
            raise _job_refusal(job, "its visits cannot be started")
        old_job = job.status
        visit.status, visit.started_at = "in_progress", utcnow()
        _settle_status(job)
        audit.record(s, actor, "visit.start", "visit", visit.id,
                     f"Started the {visit.starts_at:%Y-%m-%d %H:%M} visit of job {job.number}",
                     client_id=job.client_id,
                     before={"status": "scheduled", "job_status": old_job},
                     after={"status": "in_progress", "job_status": job.status})


@dataclass(frozen=True)
class _CleanLog:
    minutes_spent: int
    notes: str
    materials: str
    technician_id: int | None
    logged_on: dt.date | None


def _clean_log(log: ServiceLogData) -> _CleanLog:
    minutes = log.minutes_spent
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise ValidationError("time spent", "must be a whole number of minutes")
    if not 0 <= minutes <= MAX_LOG_MINUTES:
        raise ValidationError("time spent", f"must be between 0 and {MAX_LOG_MINUTES} minutes")
    return _CleanLog(
        minutes_spent=minutes,
        notes=validate.note(log.notes, "notes"),
        materials=validate.note(log.materials, "materials", 20_000),
        technician_id=log.technician_id,
        logged_on=validate.parse_date(log.logged_on, "date"),
    )


def _add_log(s: Session, job: Job, visit: Visit | None, log: _CleanLog,
             today: dt.date | None) -> ServiceLog:
    technician = log.technician_id
    if technician is None and visit is not None:
        technician = visit.assignee_id
    check_assignee(s, log.technician_id, "technician",
                   current=visit.assignee_id if visit is not None else None)
    row = ServiceLog(
        visit_id=visit.id if visit is not None else None, job_id=job.id, client_id=job.client_id,
        technician_id=technician, minutes_spent=log.minutes_spent, notes=log.notes,
        materials=log.materials, logged_on=log.logged_on or today or dt.date.today(),
    )
    s.add(row)
    s.flush()
    return row


def complete_visit(db: Database, visit_id: int, log: ServiceLogData, *,
                   expected_version: int | None = None, today: dt.date | None = None,
                   actor: str = "owner") -> int:
    """Mark a visit done with what happened (the service log); returns the log's id."""
    clean = _clean_log(log)
    with db.write() as s:
        visit = _get_visit(s, visit_id)
        _check_version(visit, expected_version, "visit")
        job = visit.job
        if visit.status not in OPEN_VISIT:
            raise _visit_refusal(visit, "completed")
        if job.status not in ACTIVE:
            raise _job_refusal(job, "its visits cannot be completed")
        old_visit, old_job = visit.status, job.status
        now = utcnow()
        visit.status, visit.completed_at = "completed", now
        visit.started_at = visit.started_at or now
        row = _add_log(s, job, visit, clean, today)
        _settle_status(job)
        audit.record(s, actor, "visit.complete", "visit", visit.id,
                     f"Completed the {visit.starts_at:%Y-%m-%d %H:%M} visit of job {job.number} "
                     f"({clean.minutes_spent} min)",
                     client_id=job.client_id,
                     before={"status": old_visit, "job_status": old_job},
                     after={"status": "completed", "job_status": job.status,
                            "service_log_id": row.id})
        return row.id


def add_service_log(db: Database, log: ServiceLogData, *, job_id: int | None = None,
                    visit_id: int | None = None, today: dt.date | None = None,
                    actor: str = "owner") -> int:
    """Record work on a visit (started or done) or on a job afterwards; returns the log's id."""
    clean = _clean_log(log)
    if job_id is None and visit_id is None:
        raise ValidationError("job", "choose the job or visit the work was for")
    with db.write() as s:
        visit = _get_visit(s, visit_id) if visit_id is not None else None
        if visit is not None and job_id is not None and visit.job_id != job_id:
            raise ValidationError("visit", "does not belong to this job")
        job = visit.job if visit is not None else _get_job(s, job_id)  # type: ignore[arg-type]
        if visit is not None and visit.status not in ("in_progress", "completed"):
            reason = ("has not started yet; complete it to log the work"
                      if visit.status == "scheduled" else "was cancelled, so no work can be logged")
            raise TransitionError(f"This visit {reason}.")
        if job.status == "cancelled":
            raise _job_refusal(job, "no work can be logged")
        row = _add_log(s, job, visit, clean, today)
        where = f"visit of {visit.starts_at:%Y-%m-%d}" if visit is not None else "job"
        audit.record(s, actor, "service_log.create", "service_log", row.id,
                     f"Logged {clean.minutes_spent} min on the {where} {job.number}",
                     client_id=job.client_id,
                     after={"job_id": job.id, "visit_id": row.visit_id,
                            "minutes_spent": row.minutes_spent})
        return row.id



def get(db: Database, job_id: int) -> Job:
    """A job with its lines and visits (in start order), for display (detached, read-only)."""
    with db.read() as s:
        job = s.scalar(select(Job).options(selectinload(Job.lines), selectinload(Job.visits))
                       .where(Job.id == job_id))
        if job is None:
            raise NotFound("Job", job_id)
        return job
