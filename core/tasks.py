"""Task use cases: to-dos with a due date, priority and assignee, linked to any record.

A task may link to a client, contact, proposal, job, visit or invoice; the link is checked to
exist and the task's ``client_id`` is taken from the linked record, so a client's page can list
every task about that client. Overdue is derived, never stored: open and due before today
(:func:`is_overdue`). Decisions where the brief is silent: a done task can still be edited;
completing a done task or reopening an open one is refused; deletion is allowed in either
status (a to-do is not a financial record).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from core import audit, validate
from core.db import Database
from core.errors import NotFound, StaleRecord, TransitionError, ValidationError
from core.models import Client, Contact, Invoice, Job, Proposal, Task, Visit, utcnow
from core.staff import check_assignee

PRIORITIES = ("low", "normal", "high")
LINK_TYPES = ("client", "contact", "proposal", "job", "visit", "invoice")
_LINK_MODELS: dict[str, type] = {
    "client": Client, "contact": Contact, "proposal": Proposal, "job": Job, "visit": Visit,
    "invoice": Invoice,
}


@dataclass
class TaskData:
    title: str
    notes: str = ""
    due_date: dt.date | str | None = None
    priority: str = "normal"
    assignee_id: int | None = None
    linked_type: str | None = None
    linked_id: int | None = None


def is_overdue(task: Task, today: dt.date | None = None) -> bool:
    today = today or dt.date.today()
    return task.status == "open" and task.due_date is not None and task.due_date < today


@dataclass(frozen=True)
class _Clean:
    title: str
    notes: str
    due_date: dt.date | None
    priority: str
    assignee_id: int | None
    linked_type: str | None
    linked_id: int | None


def _clean(data: TaskData) -> _Clean:
    linked_type = data.linked_type or None
    if (linked_type is None) != (data.linked_id is None):
        raise ValidationError("linked record", "choose both the kind of record and the record")
    if linked_type is not None:
        validate.choice(linked_type, "linked record", LINK_TYPES)
    return _Clean(
        title=validate.required_line(data.title, "title", 300),
        notes=validate.note(data.notes, "notes"),
        due_date=validate.parse_date(data.due_date, "due date"),
        priority=validate.choice(data.priority, "priority", PRIORITIES),
        assignee_id=data.assignee_id,
        linked_type=linked_type,
        linked_id=data.linked_id,
    )


def _linked_client(s: Session, linked_type: str | None, linked_id: int | None) -> int | None:
    """The client the linked record belongs to; raises when the record does not exist."""
    if linked_type is None or linked_id is None:
        return None
    if isinstance(linked_id, bool) or not isinstance(linked_id, int):
        raise ValidationError("linked record", "must be a record id")
    row = s.get(_LINK_MODELS[linked_type], linked_id)
    if row is None:
        raise ValidationError("linked record", f"{linked_type} {linked_id} does not exist")
    if isinstance(row, Client):
        return row.id
    if isinstance(row, Visit):
        return row.job.client_id
    return int(row.client_id)


def _get(s: Session, task_id: int) -> Task:
    task = s.get(Task, task_id)
    if task is None:
        raise NotFound("Task", task_id)
    return task


def _check_version(task: Task, expected: int | None) -> None:
    if expected is not None and task.version != expected:
        raise StaleRecord("task")


def _snapshot(t: Task) -> dict[str, object]:
    return {
        "title": t.title, "notes": t.notes,
        "due_date": t.due_date.isoformat() if t.due_date else None, "priority": t.priority,
        "assignee_id": t.assignee_id, "linked_type": t.linked_type, "linked_id": t.linked_id,
        "status": t.status,
    }


def _apply(s: Session, task: Task, clean: _Clean) -> None:
    check_assignee(s, clean.assignee_id, current=task.assignee_id)
    task.client_id = _linked_client(s, clean.linked_type, clean.linked_id)
    task.title, task.notes, task.due_date = clean.title, clean.notes, clean.due_date
    task.priority, task.assignee_id = clean.priority, clean.assignee_id
    task.linked_type, task.linked_id = clean.linked_type, clean.linked_id


def create_task(db: Database, data: TaskData, *, actor: str = "owner") -> int:
    clean = _clean(data)
    with db.write() as s:
        task = Task(status="open")
        _apply(s, task, clean)
        s.add(task)
        s.flush()
        audit.record(s, actor, "task.create", "task", task.id, f"Created task {task.title}",
                     client_id=task.client_id, after=_snapshot(task))
        return task.id


def edit_task(db: Database, task_id: int, data: TaskData, *, expected_version: int | None = None,
              actor: str = "owner") -> None:
    clean = _clean(data)
    with db.write() as s:
        task = _get(s, task_id)
        _check_version(task, expected_version)
        before = _snapshot(task)
        _apply(s, task, clean)
        task.updated_at = utcnow()
        flag_modified(task, "updated_at")  # every save bumps the version
        old, new = audit.changes(before, _snapshot(task))
        audit.record(s, actor, "task.update", "task", task.id, f"Edited task {task.title}",
                     client_id=task.client_id, before=old, after=new)


def complete_task(db: Database, task_id: int, *, expected_version: int | None = None,
                  actor: str = "owner") -> None:
    with db.write() as s:
        task = _get(s, task_id)
        _check_version(task, expected_version)
        if task.status == "done":
            raise TransitionError(f"The task '{task.title}' is already done.")
        task.status, task.completed_at = "done", utcnow()
        audit.record(s, actor, "task.complete", "task", task.id, f"Completed task {task.title}",
                     client_id=task.client_id, before={"status": "open"},
                     after={"status": "done"})


def reopen_task(db: Database, task_id: int, *, expected_version: int | None = None,
                actor: str = "owner") -> None:
    with db.write() as s:
        task = _get(s, task_id)
        _check_version(task, expected_version)
        if task.status == "open":
            raise TransitionError(f"The task '{task.title}' is still open, so it cannot be reopened.")
        task.status, task.completed_at = "open", None
        audit.record(s, actor, "task.reopen", "task", task.id, f"Reopened task {task.title}",
                     client_id=task.client_id, before={"status": "done"},
                     after={"status": "open"})


def delete_task(db: Database, task_id: int, *, expected_version: int | None = None,
                actor: str = "owner") -> None:
    with db.write() as s:
        task = _get(s, task_id)
        _check_version(task, expected_version)
        before = _snapshot(task)
        client_id, title = task.client_id, task.title
        s.delete(task)
        audit.record(s, actor, "task.delete", "task", task_id, f"Deleted task {title}",
                     client_id=client_id, before=before)
