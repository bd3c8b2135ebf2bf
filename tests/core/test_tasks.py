"""Tasks: to-dos linked to any record, with derived overdue."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from core import clients, invoices, staff, tasks
from core.errors import NotFound, StaleRecord, TransitionError, ValidationError
from core.models import AuditEvent, Task
from core.tasks import TaskData
from core.text import clean_line, clean_text
from tests.core.factories import (
    TODAY,
    line,
    make_client,
    make_job,
    make_proposal,
    make_scheduled_job,
    make_task,
    make_user,
    table_dump,
    visit_ids,
)


def _task(db, task_id) -> Task:
    with db.read() as s:
        return s.get(Task, task_id)


def test_create_task_with_everything(db):
    user = make_user(db)
    client_id = make_client(db)
    tid = tasks.create_task(db, TaskData(title="Call about the hedge", notes="After 5pm",
                                         due_date="2026-03-12", priority="high", assignee_id=user,
                                         linked_type="client", linked_id=client_id), actor="olive")
    t = _task(db, tid)
    assert (t.title, t.notes, t.due_date, t.priority, t.assignee_id, t.status) == (
        "Call about the hedge", "After 5pm", dt.date(2026, 3, 12), "high", user, "open")
    assert (t.linked_type, t.linked_id, t.client_id) == ("client", client_id, client_id)
    with db.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "task")).one()
    assert (event.action, event.actor, event.client_id) == ("task.create", "olive", client_id)


def test_a_task_without_link_or_due_date(db):
    t = _task(db, make_task(db))
    assert (t.linked_type, t.linked_id, t.client_id, t.due_date, t.priority) == (
        None, None, None, None, "normal")


def test_client_is_taken_from_every_kind_of_linked_record(db):
    client_id = make_client(db)
    contact_id = clients.add_contact(db, client_id, clients.ContactData(name="Pat"))
    proposal_id = make_proposal(db, client_id)
    job_id = make_scheduled_job(db, client_id)
    (visit_id,) = visit_ids(db, job_id)
    invoice_id = invoices.create_blank(db, client_id, [line()])
    for kind, ref in [("client", client_id), ("contact", contact_id), ("proposal", proposal_id),
                      ("job", job_id), ("visit", visit_id), ("invoice", invoice_id)]:
        t = _task(db, make_task(db, f"About the {kind}", linked_type=kind, linked_id=ref))
        assert (t.linked_type, t.linked_id, t.client_id) == (kind, ref, client_id), kind


def test_bad_task_input_names_the_field_and_writes_nothing(db):
    gone = make_user(db, "Gone")
    staff.deactivate_user(db, gone)
    cases = [
        (TaskData(title=" \x1b "), "title", "is required"),
        (TaskData(title="x" * 301), "title", "too long"),
        (TaskData(title="A", priority="urgent"), "priority", "must be one of"),
        (TaskData(title="A", due_date="next week"), "due date", "not a date"),
        (TaskData(title="A", assignee_id=99_999), "assignee", "does not exist"),
        (TaskData(title="A", assignee_id=gone), "assignee", "deactivated"),
        (TaskData(title="A", linked_type="job"), "linked record", "choose both"),
        (TaskData(title="A", linked_id=1), "linked record", "choose both"),
        (TaskData(title="A", linked_type="payment", linked_id=1), "linked record", "must be one of"),
        (TaskData(title="A", linked_type="job", linked_id=424242), "linked record",
         "job 424242 does not exist"),
    ]
    before = table_dump(db)
    for data, field, message in cases:
        with pytest.raises(ValidationError, match=message) as err:
            tasks.create_task(db, data)
        assert err.value.field == field
        assert table_dump(db) == before, data


def test_edit_with_version_and_relink(db):
    a, b = make_client(db, "A"), make_client(db, "B")
    tid = make_task(db, linked_type="client", linked_id=a)
    job_id = make_job(db, b)
    tasks.edit_task(db, tid, TaskData(title="Chase the job", priority="low", linked_type="job",
                                      linked_id=job_id, due_date=TODAY), expected_version=1)
    t = _task(db, tid)
    assert (t.title, t.priority, t.client_id, t.linked_type, t.due_date, t.version) == (
        "Chase the job", "low", b, "job", TODAY, 2)
    before = table_dump(db)
    with pytest.raises(StaleRecord, match="changed elsewhere"):
        tasks.edit_task(db, tid, TaskData(title="Mine"), expected_version=1)
    assert table_dump(db) == before
    with db.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "task.update")).one()
    assert event.before["linked_type"] == "client"
    assert event.after["linked_type"] == "job"


def test_an_assignee_deactivated_later_can_be_kept_on_edit(db):
    user = make_user(db)
    tid = make_task(db, assignee_id=user)
    staff.deactivate_user(db, user)
    tasks.edit_task(db, tid, TaskData(title="Renamed", assignee_id=user))
    assert _task(db, tid).assignee_id == user


def test_complete_reopen_delete(db):
    tid = make_task(db)
    tasks.complete_task(db, tid, expected_version=1)
    t = _task(db, tid)
    assert (t.status, t.completed_at is not None) == ("done", True)
    before = table_dump(db)
    with pytest.raises(TransitionError, match="is already done"):
        tasks.complete_task(db, tid)
    assert table_dump(db) == before
    tasks.reopen_task(db, tid)
    t = _task(db, tid)
    assert (t.status, t.completed_at) == ("open", None)
    before = table_dump(db)
    with pytest.raises(TransitionError, match="still open, so it cannot be reopened"):
        tasks.reopen_task(db, tid)
    with pytest.raises(StaleRecord):
        tasks.delete_task(db, tid, expected_version=1)
    assert table_dump(db) == before
    tasks.delete_task(db, tid)
    assert _task(db, tid) is None
    with pytest.raises(NotFound):
        tasks.complete_task(db, tid)
    with db.read() as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == tid,
                                                                 AuditEvent.entity_type == "task")
                                 .order_by(AuditEvent.id)))
    assert actions == ["task.create", "task.complete", "task.reopen", "task.delete"]


def test_overdue_is_derived(db):
    tid = make_task(db, due_date=TODAY)
    t = _task(db, tid)
    assert not tasks.is_overdue(t, TODAY)  # due today is not late yet
    assert tasks.is_overdue(t, TODAY + dt.timedelta(days=1))
    tasks.complete_task(db, tid)
    assert not tasks.is_overdue(_task(db, tid), TODAY + dt.timedelta(days=1))
    assert not tasks.is_overdue(_task(db, make_task(db)), TODAY)  # no due date, never overdue


@given(due=st.one_of(st.none(), st.dates()), today=st.dates(), status=st.sampled_from(["open", "done"]))
def test_overdue_rule(due, today, status):
    task = Task(title="x", due_date=due, status=status)
    assert tasks.is_overdue(task, today) == (status == "open" and due is not None and due < today)


def test_naughty_titles_and_notes_round_trip(db, naughty_strings):
    sample = [x for x in naughty_strings if clean_line(x) and len(clean_line(x)) <= 300]
    sample = sample[::9] + [x for x in sample if any(c in x for c in "[]")]
    ids = [make_task(db, x, notes=x) for x in sample]
    with db.read() as s:
        rows = {t.id: (t.title, t.notes) for t in s.scalars(select(Task))}
    assert [rows[i] for i in ids] == [(clean_line(x), clean_text(x)) for x in sample]
