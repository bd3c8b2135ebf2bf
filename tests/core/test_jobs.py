"""Jobs, visits and service logs: scheduling, doing the work, and every lifecycle rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import invoices, jobs, proposals, staff
from core.errors import NotFound, StaleRecord, TransitionError, ValidationError
from core.jobs import JobData, ScheduleData, ServiceLogData, VisitData
from core.models import AuditEvent, Job, ServiceLog, Visit
from core.recurrence import Rule
from core.text import clean_line, clean_text
from tests.core.factories import (
    TODAY,
    address_ids,
    line,
    make_approved_proposal,
    make_client,
    make_client_with_address,
    make_job,
    make_scheduled_job,
    make_tax_rate,
    make_user,
    schedule,
    table_dump,
    visit_ids,
)

T9 = dt.datetime.combine(TODAY, dt.time(9, 0))


def _job(db, job_id) -> Job:
    with db.read() as s:
        job = s.get(Job, job_id)
        job.lines, job.visits  # noqa: B018 - load while the session is open
        return job


def _visit(db, visit_id) -> Visit:
    with db.read() as s:
        return s.get(Visit, visit_id)


def _statuses(db, job_id) -> tuple[str, list[str]]:
    job = _job(db, job_id)
    return job.status, [v.status for v in job.visits]


def _logs(db, job_id) -> list[ServiceLog]:
    with db.read() as s:
        return list(s.scalars(select(ServiceLog).where(ServiceLog.job_id == job_id)
                              .order_by(ServiceLog.id)))


def _actions(db, entity_type=None) -> list[str]:
    with db.read() as s:
        stmt = select(AuditEvent.action).order_by(AuditEvent.id)
        if entity_type:
            stmt = stmt.where(AuditEvent.entity_type == entity_type)
        return list(s.scalars(stmt))


# --------------------------------------------------------------------------- creating jobs


def test_create_job_from_scratch(db):
    client_id, address_id = make_client_with_address(db)
    rate = make_tax_rate(db, "Sales", "10")
    job_id = jobs.create_job(db, JobData(
        client_id=client_id, address_id=address_id, title="Fix gutters",
        description="Back of the house", lines=[line("Labour", "2.5", 8_000, rate)],
        discount_kind="percent", discount_value="10"), today=TODAY, actor="olive")
    job = _job(db, job_id)
    assert (job.number, job.status, job.billing, job.recurrence) == (
        "JOB-0001", "unscheduled", "per_job", "none")
    assert (job.client_id, job.address_id, job.title, job.description) == (
        client_id, address_id, "Fix gutters", "Back of the house")
    # 2.5 × 80.00 = 200.00, less 10 % = 180.00, plus 10 % tax = 198.00
    assert (job.subtotal_cents, job.discount_cents, job.tax_cents, job.total_cents) == (
        20_000, 2_000, 1_800, 19_800)
    assert job.discount_value == Decimal(10) and str(job.discount_value) == "10"
    assert make_job(db, client_id) and _job(db, job_id + 1).number == "JOB-0002"
    with db.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.entity_id == job_id,
                                                   AuditEvent.entity_type == "job")).one()
    assert (event.action, event.actor, event.client_id) == ("job.create", "olive", client_id)


def test_bad_job_input_names_the_field_and_writes_nothing(db):
    client_id = make_client(db)
    other_address = address_ids(db, make_client(db, "Someone else"))[0]
    cases = [
        (JobData(client_id=client_id, title=" "), "title", "is required"),
        (JobData(client_id=client_id, title="A", address_id=other_address), "service address",
         "does not belong"),
        (JobData(client_id=99_999, title="A"), "client", "does not exist"),
        (JobData(client_id=client_id, title="A", billing="hourly"), "billing", "must be one of"),
        (JobData(client_id=client_id, title="A", discount_kind="fixed", discount_value=1),
         "discount", "larger than"),
        (JobData(client_id=client_id, title="A", lines=[line(unit_price_cents=-5)]),
         "line 1 unit price", "negative"),
    ]
    before = table_dump(db)
    for data, field, message in cases:
        with pytest.raises(ValidationError, match=message) as err:
            jobs.create_job(db, data, today=TODAY)
        assert err.value.field == field
        assert table_dump(db) == before, field


def test_create_with_recurring_schedule_defaults_to_per_visit_billing(db):
    tech = make_user(db)
    job_id = make_job(db, schedule=schedule(
        rule=Rule("every_n_weeks", 2, until=TODAY + dt.timedelta(weeks=6)), minutes=90,
        assignee_id=tech))
    job = _job(db, job_id)
    assert (job.billing, job.status, job.recurrence, job.recurrence_interval) == (
        "per_visit", "scheduled", "every_n_weeks", 2)
    assert (job.recurrence_until, job.recurrence_count) == (TODAY + dt.timedelta(weeks=6), None)
    assert [v.starts_at for v in job.visits] == [T9 + dt.timedelta(weeks=2 * n) for n in range(4)]
    assert all(v.ends_at - v.starts_at == dt.timedelta(minutes=90) for v in job.visits)
    assert {v.assignee_id for v in job.visits} == {tech}
    assert _actions(db, "job") == ["job.create", "job.schedule"]


def test_a_bad_schedule_at_creation_writes_no_job_and_uses_no_number(db):
    client_id = make_client(db)
    before = table_dump(db)
    with pytest.raises(ValidationError, match="at most 500 visits"):
        make_job(db, client_id, schedule=schedule(rule=Rule("weekly", count=501)))
    assert table_dump(db) == before
    assert _job(db, make_job(db, client_id)).number == "JOB-0001"


def test_billing_defaults_per_job_for_one_off_and_explicit_billing_wins(db):
    assert _job(db, make_scheduled_job(db)).billing == "per_job"
    assert _job(db, make_job(db, schedule=schedule(rule=Rule("weekly", count=2)),
                             billing="per_job")).billing == "per_job"


# --------------------------------------------------------------------------- scheduling


def test_schedule_visits_on_an_unscheduled_job(db):
    job_id = make_job(db)
    ids = jobs.schedule_visits(db, job_id, ScheduleData(
        start_date="2026-01-31", start_time="08:30", duration_minutes=120,
        rule=Rule("monthly", count=3)), expected_version=1)
    job = _job(db, job_id)
    assert [v.id for v in job.visits] == ids
    assert [v.starts_at for v in job.visits] == [
        dt.datetime(2026, 1, 31, 8, 30), dt.datetime(2026, 2, 28, 8, 30),
        dt.datetime(2026, 3, 31, 8, 30)]
    assert (job.status, job.recurrence, job.recurrence_count, job.version) == (
        "scheduled", "monthly", 3, 2)
    with db.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "job.schedule")).one()
    assert "Scheduled 3 visits" in event.summary and event.after["status"] == "scheduled"


def test_preview_matches_what_is_scheduled(db):
    data = ScheduleData(start_date=TODAY, start_time="07:15", rule=Rule("weekly", count=4))
    job_id = make_job(db)
    jobs.schedule_visits(db, job_id, data)
    assert jobs.preview_schedule(data) == [v.starts_at for v in _job(db, job_id).visits]


def test_bad_schedules_are_refused_and_write_nothing(db):
    job_id = make_job(db)
    gone = make_user(db, "Gone")
    staff.deactivate_user(db, gone)
    cases = [
        (schedule(rule=Rule("weekly", count=501)), "count", "at most 500"),
        (schedule(rule=Rule("weekly", until=TODAY + dt.timedelta(days=4000))), "until",
         "more than 500"),
        (schedule(rule=Rule("weekly")), "ends", "either an end date"),
        (schedule(minutes=0), "duration", "between 1 and"),
        (ScheduleData(start_date=TODAY, start_time="25:00"), "start time", "not a time"),
        (ScheduleData(start_date="tomorrow", start_time="09:00"), "start date", "not a date"),
        (schedule(assignee_id=gone), "assignee", "deactivated"),
        (schedule(assignee_id=99_999), "assignee", "does not exist"),
    ]
    before = table_dump(db)
    for data, field, message in cases:
        with pytest.raises(ValidationError, match=message) as err:
            jobs.schedule_visits(db, job_id, data)
        assert err.value.field == field
        assert table_dump(db) == before, field


def test_add_single_visit_and_its_window(db):
    job_id = make_job(db)
    vid = jobs.add_visit(db, job_id, VisitData(starts_at=T9, duration_minutes=45))
    v = _visit(db, vid)
    assert (v.starts_at, v.ends_at, v.status) == (T9, T9 + dt.timedelta(minutes=45), "scheduled")
    assert _job(db, job_id).status == "scheduled"
    before = table_dump(db)
    for data, field in [(VisitData(starts_at=T9, duration_minutes=0), "duration"),
                        (VisitData(starts_at=T9, duration_minutes=-30), "duration"),
                        (VisitData(starts_at=TODAY, duration_minutes=30), "start"),  # type: ignore[arg-type]
                        (VisitData(starts_at=T9.replace(tzinfo=dt.UTC)), "start")]:
        with pytest.raises(ValidationError) as err:
            jobs.add_visit(db, job_id, data)
        assert err.value.field == field
    assert table_dump(db) == before


# --------------------------------------------------------------------------- doing the work


def test_one_off_job_completes_with_its_visit_and_log(db):
    tech = make_user(db)
    job_id = make_scheduled_job(db)
    (vid,) = visit_ids(db, job_id)
    jobs.move_visit(db, vid, VisitData(starts_at=T9 + dt.timedelta(days=1), duration_minutes=30,
                                       assignee_id=tech), expected_version=1)
    jobs.start_visit(db, vid, expected_version=2)
    assert _statuses(db, job_id) == ("in_progress", ["in_progress"])
    assert _visit(db, vid).started_at is not None
    log_id = jobs.complete_visit(db, vid, ServiceLogData(
        minutes_spent=95, notes="Cleared all gutters", materials="2 brackets"),
        today=TODAY + dt.timedelta(days=1))
    assert _statuses(db, job_id) == ("completed", ["completed"])
    (log,) = _logs(db, job_id)
    assert (log.id, log.visit_id, log.minutes_spent, log.notes, log.materials) == (
        log_id, vid, 95, "Cleared all gutters", "2 brackets")
    # the technician defaults to the visit's assignee; the date to "today"
    assert (log.technician_id, log.logged_on, log.client_id) == (
        tech, TODAY + dt.timedelta(days=1), _job(db, job_id).client_id)
    assert _visit(db, vid).completed_at is not None
    assert [a for a in _actions(db) if a.startswith(("visit.", "job."))] == [
        "job.create", "job.schedule", "visit.move", "visit.start", "visit.complete"]


def test_a_visit_can_be_completed_without_pressing_start(db):
    job_id = make_scheduled_job(db)
    (vid,) = visit_ids(db, job_id)
    jobs.complete_visit(db, vid, ServiceLogData(minutes_spent=30), today=TODAY)
    v = _visit(db, vid)
    assert (v.status, v.started_at is not None) == ("completed", True)
    assert _job(db, job_id).status == "completed"


def test_recurring_job_completes_when_its_last_visit_is_done(db):
    job_id = make_scheduled_job(db, visits=3)
    first, second, third = visit_ids(db, job_id)
    jobs.complete_visit(db, first, ServiceLogData(minutes_spent=60), today=TODAY)
    assert _statuses(db, job_id) == ("in_progress", ["completed", "scheduled", "scheduled"])
    jobs.complete_visit(db, third, ServiceLogData(minutes_spent=60), today=TODAY)
    assert _job(db, job_id).status == "in_progress"  # the second is still to do
    jobs.complete_visit(db, second, ServiceLogData(minutes_spent=60), today=TODAY)
    assert _statuses(db, job_id) == ("completed", ["completed"] * 3)
    assert len(_logs(db, job_id)) == 3


def test_cancelling_visits_settles_the_job(db):
    job_id = make_scheduled_job(db, visits=2)
    first, second = visit_ids(db, job_id)
    jobs.cancel_visit(db, first)
    assert _statuses(db, job_id) == ("scheduled", ["cancelled", "scheduled"])
    jobs.cancel_visit(db, second, expected_version=1)
    assert _job(db, job_id).status == "unscheduled"  # nothing left to do, nothing done
    other = make_scheduled_job(db, visits=2)
    a, b = visit_ids(db, other)
    jobs.complete_visit(db, a, ServiceLogData(), today=TODAY)
    jobs.cancel_visit(db, b)
    assert _job(db, other).status == "completed"  # the work that remained was dropped


def test_service_logs_added_afterwards(db):
    tech = make_user(db)
    job_id = make_scheduled_job(db, visits=2)
    done, later = visit_ids(db, job_id)
    jobs.complete_visit(db, done, ServiceLogData(minutes_spent=60), today=TODAY)
    jobs.add_service_log(db, ServiceLogData(minutes_spent=15, notes="Forgot: gate latch fixed",
                                            technician_id=tech, logged_on="2026-03-11"),
                         visit_id=done, today=TODAY)
    jobs.add_service_log(db, ServiceLogData(minutes_spent=20, notes="Quote follow-up call"),
                         job_id=job_id, today=TODAY)
    logs = _logs(db, job_id)
    assert [(lg.visit_id, lg.minutes_spent, lg.technician_id, lg.logged_on) for lg in logs] == [
        (done, 60, None, TODAY), (done, 15, tech, dt.date(2026, 3, 11)), (None, 20, None, TODAY)]
    other_job = make_job(db)
    before = table_dump(db)
    with pytest.raises(TransitionError, match="has not started yet; complete it to log the work"):
        jobs.add_service_log(db, ServiceLogData(minutes_spent=5), visit_id=later)
    with pytest.raises(ValidationError, match="does not belong to this job"):
        jobs.add_service_log(db, ServiceLogData(), job_id=other_job, visit_id=done)
    with pytest.raises(ValidationError, match="choose the job or visit"):
        jobs.add_service_log(db, ServiceLogData())
    for bad, field in [(ServiceLogData(minutes_spent=-1), "time spent"),
                       (ServiceLogData(minutes_spent=20_000), "time spent"),
                       (ServiceLogData(technician_id=99_999), "technician"),
                       (ServiceLogData(logged_on="yesterday"), "date")]:
        with pytest.raises(ValidationError) as err:
            jobs.add_service_log(db, bad, job_id=job_id)
        assert err.value.field == field
    assert table_dump(db) == before


def test_logs_on_cancelled_visits_or_jobs_are_refused(db):
    job_id = make_scheduled_job(db, visits=2)
    first, _ = visit_ids(db, job_id)
    jobs.cancel_visit(db, first)
    with pytest.raises(TransitionError, match="was cancelled, so no work can be logged"):
        jobs.add_service_log(db, ServiceLogData(), visit_id=first)
    jobs.cancel_job(db, job_id)
    before = table_dump(db)
    with pytest.raises(TransitionError, match="was cancelled, so no work can be logged"):
        jobs.add_service_log(db, ServiceLogData(), job_id=job_id)
    assert table_dump(db) == before


# --------------------------------------------------------------------------- job-level changes


def test_complete_job_explicitly_cancels_what_is_left(db):
    job_id = make_scheduled_job(db, visits=3)
    first, *_ = visit_ids(db, job_id)
    jobs.complete_visit(db, first, ServiceLogData(), today=TODAY)
    jobs.complete_job(db, job_id)
    assert _statuses(db, job_id) == ("completed", ["completed", "cancelled", "cancelled"])
    with db.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "job.complete")).one()
    assert "2 scheduled visits cancelled" in event.summary


def test_complete_job_waits_for_a_visit_in_progress(db):
    job_id = make_scheduled_job(db)
    (vid,) = visit_ids(db, job_id)
    jobs.start_visit(db, vid)
    before = table_dump(db)
    with pytest.raises(TransitionError, match="in progress; complete it first"):
        jobs.complete_job(db, job_id)
    assert table_dump(db) == before


def test_cancel_job_cancels_its_open_visits(db):
    job_id = make_scheduled_job(db, visits=3)
    first, second, _ = visit_ids(db, job_id)
    jobs.complete_visit(db, first, ServiceLogData(), today=TODAY)
    jobs.start_visit(db, second)
    jobs.cancel_job(db, job_id, reason="Client moved away")
    assert _statuses(db, job_id) == ("cancelled", ["completed", "cancelled", "cancelled"])
    with db.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "job.cancel")).one()
    assert "Client moved away" in event.summary and "2 visits" in event.summary


def test_hold_and_resume(db):
    job_id = make_scheduled_job(db, visits=2)
    first, second = visit_ids(db, job_id)
    jobs.hold_job(db, job_id)
    job = _job(db, job_id)
    assert (job.status, job.held_from) == ("on_hold", "scheduled")
    # while on hold, visits may be moved or cancelled but not started or completed
    jobs.move_visit(db, first, VisitData(starts_at=T9 + dt.timedelta(days=2)))
    for act in (lambda: jobs.start_visit(db, first),
                lambda: jobs.complete_visit(db, first, ServiceLogData()),
                lambda: jobs.add_visit(db, job_id, VisitData(starts_at=T9)),
                lambda: jobs.schedule_visits(db, job_id, schedule())):
        with pytest.raises(TransitionError, match=r"is on hold, .* Resume it first\."):
            act()
    jobs.cancel_visit(db, first)
    jobs.cancel_visit(db, second)
    jobs.resume_job(db, job_id)
    job = _job(db, job_id)
    # resumed, and the status follows the visits changed meanwhile
    assert (job.status, job.held_from) == ("unscheduled", None)
    assert _actions(db, "job")[-2:] == ["job.hold", "job.resume"]


def test_a_completed_job_can_be_held_and_resumed(db):
    job_id = make_scheduled_job(db)
    jobs.complete_job(db, job_id)
    jobs.hold_job(db, job_id)
    jobs.resume_job(db, job_id)
    assert _job(db, job_id).status == "completed"


def test_edit_job(db):
    client_id, address_id = make_client_with_address(db)
    job_id = make_job(db, client_id)
    jobs.edit_job(db, job_id, JobData(client_id=client_id, title="New title", address_id=address_id,
                                      description="Gate code 1234",
                                      lines=[line("A", 2, 1_000), line("B", 1, 500)]),
                  expected_version=1)
    job = _job(db, job_id)
    assert (job.title, job.address_id, job.description, job.total_cents, job.version) == (
        "New title", address_id, "Gate code 1234", 2_500, 2)
    # lines=None keeps the lines; a new discount is spread over them
    jobs.edit_job(db, job_id, JobData(client_id=client_id, title="New title",
                                      discount_kind="fixed", discount_value=500))
    job = _job(db, job_id)
    assert ([ln.description for ln in job.lines], job.total_cents) == (["A", "B"], 2_000)
    before = table_dump(db)
    with pytest.raises(StaleRecord):
        jobs.edit_job(db, job_id, JobData(client_id=client_id, title="X"), expected_version=2)
    with pytest.raises(ValidationError, match="cannot move to another client") as err:
        jobs.edit_job(db, job_id, JobData(client_id=make_client(db, "B"), title="X"))
    assert err.value.field == "client"
    assert table_dump(db, ("jobs", "job_lines")) == {k: before[k] for k in ("jobs", "job_lines")}


def test_stale_visit_changes_are_refused(db):
    job_id = make_scheduled_job(db)
    (vid,) = visit_ids(db, job_id)
    jobs.move_visit(db, vid, VisitData(starts_at=T9 + dt.timedelta(hours=1)), expected_version=1)
    before = table_dump(db)
    for act in (lambda: jobs.move_visit(db, vid, VisitData(starts_at=T9), expected_version=1),
                lambda: jobs.start_visit(db, vid, expected_version=1),
                lambda: jobs.cancel_visit(db, vid, expected_version=1),
                lambda: jobs.complete_visit(db, vid, ServiceLogData(), expected_version=1)):
        with pytest.raises(StaleRecord, match="changed elsewhere"):
            act()
    assert table_dump(db) == before
    with pytest.raises(NotFound):
        jobs.start_visit(db, 99_999)


# --------------------------------------------------------------------------- invoices


def test_an_invoiced_job_cannot_be_cancelled_and_is_terminal(db):
    job_id = make_scheduled_job(db)
    jobs.complete_job(db, job_id)
    invoice_id = invoices.create_from_job(db, job_id)
    assert _job(db, job_id).status == "invoiced"
    before = table_dump(db)
    for act, consequence in [
        (lambda: jobs.cancel_job(db, job_id), "it cannot be cancelled"),
        (lambda: jobs.hold_job(db, job_id), "it cannot be put on hold"),
        (lambda: jobs.add_visit(db, job_id, VisitData(starts_at=T9)), "no visits can be added"),
        (lambda: jobs.edit_job(db, job_id, JobData(client_id=_job(db, job_id).client_id,
                                                   title="X")), "it can no longer be edited"),
    ]:
        with pytest.raises(TransitionError) as err:
            act()
        assert str(err.value) == f"Job JOB-0001 has been invoiced, so {consequence}."
    assert table_dump(db) == before
    # the draft is deleted: the job is back to completed and may be cancelled
    invoices.delete_draft(db, invoice_id)
    jobs.cancel_job(db, job_id)
    assert _job(db, job_id).status == "cancelled"


def test_a_job_with_an_invoice_cannot_be_cancelled(db):
    job_id = make_scheduled_job(db)
    invoice_id = invoices.create_from_job(db, job_id, allow_incomplete=True)  # billed in advance
    assert _job(db, job_id).status == "scheduled"
    before = table_dump(db)
    with pytest.raises(TransitionError, match="has been invoiced, so it cannot be cancelled"):
        jobs.cancel_job(db, job_id)
    with pytest.raises(TransitionError, match="already has an invoice, so its billing"):
        jobs.edit_job(db, job_id, JobData(client_id=_job(db, job_id).client_id,
                                          title="Gutter repair", billing="per_visit"))
    with pytest.raises(TransitionError, match="already invoiced, so its lines"):
        jobs.edit_job(db, job_id, JobData(client_id=_job(db, job_id).client_id,
                                          title="Gutter repair", lines=[line()]))
    assert table_dump(db) == before
    # work billed in advance: finishing it leaves nothing to bill, so the job is invoiced
    (vid,) = visit_ids(db, job_id)
    jobs.complete_visit(db, vid, ServiceLogData(), today=TODAY)
    assert _job(db, job_id).status == "invoiced"
    assert invoice_id


def test_a_draft_deposit_invoice_blocks_cancelling_until_deleted(db):
    pid = make_approved_proposal(db, deposit_kind="percent", deposit_value="20")
    job_id = proposals.convert_to_job(db, pid, today=TODAY)
    before = table_dump(db)
    with pytest.raises(TransitionError, match="has a draft invoice; delete that draft"):
        jobs.cancel_job(db, job_id)
    assert table_dump(db) == before


# --------------------------------------------------------------------------- lifecycle matrix

JOB_STATES = ("unscheduled", "scheduled", "in_progress", "completed", "on_hold", "cancelled",
              "invoiced")
JOB_ACTIONS = ("schedule", "add_visit", "complete", "cancel", "hold", "resume", "edit")
JOB_ALLOWED = {
    *{(st_, a) for st_ in ("unscheduled", "scheduled", "in_progress")
       for a in ("schedule", "add_visit", "complete", "cancel", "hold", "edit")},
    ("completed", "cancel"), ("completed", "hold"), ("completed", "edit"),
    ("on_hold", "cancel"), ("on_hold", "resume"), ("on_hold", "edit"),
}
JOB_RESULT = {"schedule": None, "add_visit": None, "complete": "completed", "cancel": "cancelled",
              "hold": "on_hold", "edit": None}
JOB_PHRASE = {"completed": "is already completed", "on_hold": "is on hold",
              "cancelled": "was cancelled", "invoiced": "has been invoiced",
              "unscheduled": "has no visits scheduled", "scheduled": "is scheduled",
              "in_progress": "is in progress"}
JOB_CONSEQUENCE = {"schedule": "no visits can be added", "add_visit": "no visits can be added",
                   "complete": "it cannot be completed", "cancel": "it cannot be cancelled",
                   "hold": "it cannot be put on hold", "edit": "it can no longer be edited"}


def _job_in_state(db, state: str) -> int:
    if state == "unscheduled":
        return make_job(db)
    job_id = make_scheduled_job(db, visits=2, billing="per_job")
    first, _ = visit_ids(db, job_id)
    if state == "in_progress":
        jobs.complete_visit(db, first, ServiceLogData(), today=TODAY)
    elif state in ("completed", "invoiced"):
        jobs.complete_job(db, job_id)
        if state == "invoiced":
            invoices.create_from_job(db, job_id)
    elif state == "on_hold":
        jobs.hold_job(db, job_id)
    elif state == "cancelled":
        jobs.cancel_job(db, job_id)
    assert _job(db, job_id).status == state
    return job_id


def _job_act(db, job_id: int, action: str) -> None:
    if action == "schedule":
        jobs.schedule_visits(db, job_id, schedule(TODAY + dt.timedelta(days=30)))
    elif action == "add_visit":
        jobs.add_visit(db, job_id, VisitData(starts_at=T9 + dt.timedelta(days=30)))
    elif action == "edit":
        jobs.edit_job(db, job_id, JobData(client_id=_job(db, job_id).client_id, title="Renamed"))
    else:
        {"complete": jobs.complete_job, "cancel": jobs.cancel_job, "hold": jobs.hold_job,
         "resume": jobs.resume_job}[action](db, job_id)


@pytest.mark.parametrize("state", sorted({s_ for s_, _ in JOB_ALLOWED}))
def test_allowed_job_transitions(db, state):
    for action in sorted(a for s_, a in JOB_ALLOWED if s_ == state):
        job_id = _job_in_state(db, state)
        visits_before = len(_job(db, job_id).visits)
        _job_act(db, job_id, action)
        job = _job(db, job_id)
        if action == "resume":
            assert job.status == "scheduled"
        elif action in ("schedule", "add_visit"):
            assert job.status == ("in_progress" if state == "in_progress" else "scheduled")
            assert len(job.visits) == visits_before + 1
        elif action == "edit":
            assert (job.title, job.status) == ("Renamed", state)
        else:
            assert job.status == JOB_RESULT[action], (state, action)


@pytest.mark.parametrize("state", JOB_STATES)
def test_forbidden_job_transitions_explain_and_change_nothing(db, state):
    job_id = _job_in_state(db, state)
    before = table_dump(db)
    for action in [a for a in JOB_ACTIONS if (state, a) not in JOB_ALLOWED]:
        with pytest.raises(TransitionError) as err:
            _job_act(db, job_id, action)
        if action == "resume":
            expected = "Job JOB-0001 is not on hold, so it cannot be resumed."
        else:
            hint = " Resume it first." if state == "on_hold" else ""
            expected = f"Job JOB-0001 {JOB_PHRASE[state]}, so {JOB_CONSEQUENCE[action]}.{hint}"
        assert str(err.value) == expected
        assert table_dump(db) == before, action


VISIT_STATES = ("scheduled", "in_progress", "completed", "cancelled")
VISIT_ACTIONS = ("move", "cancel", "start", "complete", "log")
VISIT_ALLOWED = {("scheduled", "move"), ("scheduled", "cancel"), ("scheduled", "start"),
                 ("scheduled", "complete"), ("in_progress", "cancel"),
                 ("in_progress", "complete"), ("in_progress", "log"), ("completed", "log")}
VISIT_PHRASE = {"scheduled": "has not started yet", "in_progress": "is already in progress",
                "completed": "is already completed", "cancelled": "was cancelled"}
VISIT_VERB = {"move": "moved", "cancel": "cancelled", "start": "started", "complete": "completed"}


def _visit_in_state(db, state: str) -> int:
    job_id = make_scheduled_job(db, visits=2)  # a second visit keeps the job active
    vid = visit_ids(db, job_id)[0]
    if state == "in_progress":
        jobs.start_visit(db, vid)
    elif state == "completed":
        jobs.complete_visit(db, vid, ServiceLogData(), today=TODAY)
    elif state == "cancelled":
        jobs.cancel_visit(db, vid)
    return vid


def _visit_act(db, vid: int, action: str) -> None:
    if action == "move":
        jobs.move_visit(db, vid, VisitData(starts_at=T9 + dt.timedelta(hours=3)))
    elif action == "complete":
        jobs.complete_visit(db, vid, ServiceLogData(minutes_spent=10), today=TODAY)
    elif action == "log":
        jobs.add_service_log(db, ServiceLogData(minutes_spent=10), visit_id=vid, today=TODAY)
    else:
        {"cancel": jobs.cancel_visit, "start": jobs.start_visit}[action](db, vid)


@pytest.mark.parametrize("state", sorted({s_ for s_, _ in VISIT_ALLOWED}))
def test_allowed_visit_transitions(db, state):
    result = {"move": state, "cancel": "cancelled", "start": "in_progress", "complete": "completed",
              "log": state}
    for action in sorted(a for s_, a in VISIT_ALLOWED if s_ == state):
        vid = _visit_in_state(db, state)
        _visit_act(db, vid, action)
        assert _visit(db, vid).status == result[action], (state, action)


@pytest.mark.parametrize("state", VISIT_STATES)
def test_forbidden_visit_transitions_explain_and_change_nothing(db, state):
    vid = _visit_in_state(db, state)
    before = table_dump(db)
    for action in [a for a in VISIT_ACTIONS if (state, a) not in VISIT_ALLOWED]:
        with pytest.raises(TransitionError) as err:
            _visit_act(db, vid, action)
        if action == "log":
            assert str(err.value).startswith(f"This visit {VISIT_PHRASE[state]}")
        else:
            assert str(err.value) == (
                f"This visit {VISIT_PHRASE[state]}, so it cannot be {VISIT_VERB[action]}.")
        assert table_dump(db) == before, action


# --------------------------------------------------------------------------- naughty strings


def test_naughty_titles_descriptions_and_logs_round_trip(db, naughty_strings):
    sample = [x for x in naughty_strings if clean_line(x) and len(clean_line(x)) <= 300]
    sample = sample[::9] + [x for x in sample if any(c in x for c in "[]")]
    client_id = make_client(db)
    job_id = make_job(db, client_id)
    ids = [make_job(db, client_id, title=x, description=x, lines=[]) for x in sample]
    for x in sample:
        jobs.add_service_log(db, ServiceLogData(notes=x, materials=x), job_id=job_id, today=TODAY)
    with db.read() as s:
        rows = {j.id: (j.title, j.description) for j in s.scalars(select(Job))}
    assert [rows[i] for i in ids] == [(clean_line(x), clean_text(x)) for x in sample]
    assert [(lg.notes, lg.materials) for lg in _logs(db, job_id)] == [
        (clean_text(x), clean_text(x)) for x in sample]


def test_audit_events_carry_the_client(db):
    client_id = make_client(db)
    job_id = make_scheduled_job(db, client_id)
    (vid,) = visit_ids(db, job_id)
    jobs.complete_visit(db, vid, ServiceLogData(), today=TODAY)
    with db.read() as s:
        rows = s.execute(select(AuditEvent.action, AuditEvent.client_id)
                         .where(AuditEvent.entity_type.in_(("job", "visit")))).all()
    assert rows and {c for _, c in rows} == {client_id}
