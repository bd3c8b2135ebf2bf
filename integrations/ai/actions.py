"""Actions the assistant may propose: create a task, text a contact, schedule a visit.

A proposal is plain data (:class:`ProposedAction`, frozen, no callables): checked against
the database when the model makes it (read-only), shown to the person, and carried out only
by :func:`execute_action`, which the assistant loop never calls — the screen calls it after a
keypress, ``tssg-crm ask`` after a typed "y". A model that obeys an instruction hidden in a
client's note can therefore at most make a proposal appear on screen.

Decisions: a text is composed by :mod:`core.messaging` as a hand-written message and goes only
where that module allows (a phone number, consent, not opted out), checked when proposed and
again when sent; sending needs a sender from the Twilio integration, passed in by the caller;
a visit is added to an existing job that still takes visits; a task may be linked to a client.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core import jobs, messaging, tasks, validate
from core.db import Database
from core.errors import DomainError, NotFound, ValidationError
from core.models import Client, Contact, Job, User
from core.query import parse_date_value

ACTION_KINDS = ("create_task", "draft_sms", "schedule_visit")
MAX_SMS = messaging.MAX_BODY
# sends a composed text (core.messaging.Draft), e.g. integrations.twilio_sms.send_draft with
# the gateway and tier bound; raises when it is not sent
SmsSender = Callable[[messaging.Draft], object]


@dataclass(frozen=True)
class ProposedAction:
    kind: str
    summary: str  # the sentence the person confirms
    params: tuple[tuple[str, Any], ...]  # checked values

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "summary": self.summary,
                "params": {k: v.isoformat() if isinstance(v, dt.date | dt.datetime) else v
                           for k, v in self.params}}


ACTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": list(ACTION_KINDS)},
        "title": {"type": "string", "description": "create_task: what to do"},
        "notes": {"type": "string", "description": "create_task: details"},
        "due_date": {"type": "string", "description": "create_task: ISO date or relative (+7d)"},
        "priority": {"type": "string", "enum": ["low", "normal", "high"]},
        "client_id": {"type": "integer", "description": "create_task: the client it is about; "
                                                        "draft_sms: text their primary contact"},
        "contact_id": {"type": "integer", "description": "draft_sms: the contact to text"},
        "body": {"type": "string", "description": "draft_sms: the message"},
        "job_id": {"type": "integer", "description": "schedule_visit: the job"},
        "starts_at": {"type": "string", "description": "schedule_visit: local date and time, "
                                                       "2026-03-31T09:00"},
        "duration_minutes": {"type": "integer"},
        "assignee_id": {"type": "integer", "description": "schedule_visit: staff member id"},
    },
    "required": ["kind"],
}

_KEYS = {
    "create_task": ("title", "notes", "due_date", "priority", "client_id"),
    "draft_sms": ("contact_id", "client_id", "body"),
    "schedule_visit": ("job_id", "starts_at", "duration_minutes", "assignee_id"),
}


def _id(raw: dict[str, Any], key: str, *, required: bool = False) -> int | None:
    value = raw.get(key)
    if value is None:
        if required:
            raise ValidationError(key, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        raise ValidationError(key, "must be a record id (a whole number from a query's id)")
    return value


def propose_action(db: Database, raw: Any, *, today: dt.date) -> ProposedAction:
    """Check what the model proposed and describe it; nothing is written."""
    if not isinstance(raw, dict):
        raise ValidationError("action", "must be a JSON object with a kind")
    kind = raw.get("kind")
    if kind not in ACTION_KINDS:
        raise ValidationError("kind", f"must be one of: {', '.join(ACTION_KINDS)}")
    for key in raw:
        if key != "kind" and key not in _KEYS[kind]:
            raise ValidationError(key, f"does not apply to {kind}; use: {', '.join(_KEYS[kind])}")
    if kind == "create_task":
        return _task(db, raw, today)
    if kind == "draft_sms":
        return _sms(db, raw)
    return _visit(db, raw, today)


def _task(db: Database, raw: dict[str, Any], today: dt.date) -> ProposedAction:
    title = validate.required_line(raw.get("title") if isinstance(raw.get("title"), str) else "",
                                   "title", 300)
    notes = validate.note(raw.get("notes") if isinstance(raw.get("notes"), str) else "", "notes",
                          5000)
    due = raw.get("due_date")
    due_date = parse_date_value(due, "due_date", today) if due not in (None, "") else None
    priority = validate.choice(raw.get("priority") or "normal", "priority", tasks.PRIORITIES)
    client_id = _id(raw, "client_id")
    who = ""
    if client_id is not None:
        with db.read() as s:
            name = s.scalar(select(Client.name).where(Client.id == client_id))
        if name is None:
            raise ValidationError("client_id", f"client {client_id} does not exist")
        who = f" about {name}"
    when = f", due {due_date.isoformat()}" if due_date else ""
    summary = f"Create a task “{title}”{who}{when} ({priority} priority)"
    return ProposedAction("create_task", summary, (
        ("title", title), ("notes", notes), ("due_date", due_date), ("priority", priority),
        ("client_id", client_id)))


def _sms_draft(db: Database, contact_id: int | None, client_id: int | None,
               body: str) -> messaging.Draft:
    """The text as :mod:`core.messaging` composes it (a hand-written message), refused when
    the contact cannot be texted (no number, no consent, replied STOP)."""
    if contact_id is not None:
        with db.read() as s:
            owner = s.scalar(select(Contact.client_id).where(Contact.id == contact_id))
        if owner is None:
            raise ValidationError("contact_id", f"contact {contact_id} does not exist")
        if client_id is not None and client_id != owner:
            raise ValidationError("contact_id", f"contact {contact_id} is not a contact of "
                                                f"client {client_id}")
        client_id = owner
    elif client_id is None:
        raise ValidationError("contact_id", "name the contact (or the client) to text")
    try:
        draft = messaging.compose(db, "client", client_id, messaging.CUSTOM,
                                  contact_id=contact_id, body=body)
    except NotFound:
        raise ValidationError("client_id", f"client {client_id} does not exist") from None
    if draft.blocked:
        raise ValidationError("contact_id", draft.blocked)
    return draft


def _sms(db: Database, raw: dict[str, Any]) -> ProposedAction:
    body = validate.note(raw.get("body") if isinstance(raw.get("body"), str) else "", "body",
                         MAX_SMS).strip()
    if not body:
        raise ValidationError("body", "is required (the text of the message)")
    draft = _sms_draft(db, _id(raw, "contact_id"), _id(raw, "client_id"), body)
    summary = f"Text {draft.contact_name} ({draft.to_phone}): “{draft.body}”"
    return ProposedAction("draft_sms", summary, (
        ("client_id", draft.client_id), ("contact_id", draft.contact_id), ("body", draft.body)))


def _visit(db: Database, raw: dict[str, Any], today: dt.date) -> ProposedAction:
    job_id = _id(raw, "job_id", required=True)
    starts = raw.get("starts_at")
    if not isinstance(starts, str):
        raise ValidationError("starts_at", "is required: a local date and time, 2026-03-31T09:00")
    moment = parse_date_value(starts, "starts_at", today, allow_time=True)
    if not isinstance(moment, dt.datetime):
        raise ValidationError("starts_at", "needs a time of day too, e.g. 2026-03-31T09:00")
    minutes = raw.get("duration_minutes", 60)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 24 * 60:
        raise ValidationError("duration_minutes", "must be a whole number of minutes, 1 to 1440")
    assignee_id = _id(raw, "assignee_id")
    with db.read() as s:
        job = s.get(Job, job_id)
        if job is None:
            raise ValidationError("job_id", f"job {job_id} does not exist")
        if job.status not in jobs.ACTIVE:
            raise ValidationError("job_id", f"job {job.number} is {job.status.replace('_', ' ')}; "
                                            "it takes no new visits")
        client = s.get(Client, job.client_id)
        who = ""
        if assignee_id is not None:
            user = s.get(User, assignee_id)
            if user is None or not user.active:
                raise ValidationError("assignee_id", f"staff member {assignee_id} does not exist")
            who = f", assigned to {user.name}"
        label = f"{job.number} ({job.title}, {client.name if client else 'no client'})"
    summary = f"Schedule a visit for job {label} on {moment:%Y-%m-%d %H:%M} for {minutes} min{who}"
    return ProposedAction("schedule_visit", summary, (
        ("job_id", job_id), ("starts_at", moment), ("duration_minutes", minutes),
        ("assignee_id", assignee_id)))


def execute_action(db: Database, action: ProposedAction, *, actor: str = "owner",
                   send_sms: SmsSender | None = None) -> str:
    """Carry out a proposal the person confirmed; returns what was done, in a sentence.

    Each action is one service call (its own transaction and audit event)."""
    p = dict(action.params)
    if action.kind == "create_task":
        task_id = tasks.create_task(db, tasks.TaskData(
            title=p["title"], notes=p["notes"], due_date=p["due_date"], priority=p["priority"],
            linked_type="client" if p["client_id"] is not None else None,
            linked_id=p["client_id"]), actor=actor)
        return f"Created task #{task_id}: {p['title']}"
    if action.kind == "schedule_visit":
        visit_id = jobs.add_visit(db, p["job_id"], jobs.VisitData(
            starts_at=p["starts_at"], duration_minutes=p["duration_minutes"],
            assignee_id=p["assignee_id"]), actor=actor)
        return f"Scheduled visit #{visit_id} on {p['starts_at']:%Y-%m-%d %H:%M}"
    if action.kind == "draft_sms":
        if send_sms is None:
            raise DomainError("Text messages are not set up here (Twilio, Premium tier); "
                              "nothing was sent.")
        # checked again: consent may have been withdrawn since the proposal
        draft = _sms_draft(db, p["contact_id"], p["client_id"], p["body"])
        send_sms(draft)
        return f"Sent the text to {draft.contact_name}"
    raise DomainError(f"Unknown action {action.kind}")  # pragma: no cover
