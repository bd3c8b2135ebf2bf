"""Text messages to clients, the domain side: templates with placeholders, previews with the
real record, consent, the opt-out list, quiet hours, the message log and visit reminders.
``integrations.twilio_sms`` sends; this module decides what may be sent and keeps the books.

Decisions where the brief is silent:

* A message goes to one contact: the one chosen, else the client's primary contact with a
  phone, else the first contact with a phone. It needs that contact's SMS consent, and the
  number must not be on the opt-out list (Twilio error 21610 puts it there, for every contact
  with that number) nor the contact marked opted out. :func:`opt_in` undoes both when the
  person texts START and agrees again.
* Quiet hours (default 21:00–08:00, may wrap midnight, start = end means none) are in the
  business's time zone (Settings; empty = this computer's). A naive ``now`` is read as that
  local wall-clock time. Reminders are skipped during quiet hours and sent by the next run;
  a hand-sent message may override them explicitly (``ignore_quiet_hours``).
* Each send is written to the log *before* Twilio is called (``pending``), so a crash or a
  lost answer can never lead to a blind re-send: an unconfirmed message becomes ``unknown``
  and ``sync`` looks it up in Twilio. Only a message that certainly never left
  (``not_sent``) frees its visit reminder for the next ``remind`` run.
* A visit reminder is a row per (visit, template), written in the same transaction as the
  log entry: each visit and template is reminded at most once, even with two runs at once.
* Templates are stored only where the owner changed them; the built-in text applies
  otherwise (and improves with new versions). Placeholders are ``{name}``; other braces are
  literal text. A template may only use the placeholders of its record.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from core import audit, business, money, validate
from core.db import Database
from core.errors import DomainError, NotFound, ValidationError
from core.models import (
    Address,
    Client,
    Contact,
    Invoice,
    Job,
    PaymentLink,
    Proposal,
    SmsMessage,
    SmsOptOut,
    User,
    Visit,
    VisitReminder,
    utcnow,
)
from core.text import clean_line, clean_text

# --------------------------------------------------------------------------- templates

COMMON_PLACEHOLDERS = ("client_name", "contact_name", "business_name", "business_phone")
VISIT_PLACEHOLDERS = (*COMMON_PLACEHOLDERS, "visit_day", "visit_date", "visit_time", "address",
                      "job_title", "technician_name")
INVOICE_PLACEHOLDERS = (*COMMON_PLACEHOLDERS, "invoice_number", "amount_due", "due_date",
                        "payment_link")
PROPOSAL_PLACEHOLDERS = (*COMMON_PLACEHOLDERS, "proposal_number", "proposal_title",
                         "proposal_total", "valid_until")


@dataclass(frozen=True)
class TemplateKind:
    name: str
    label: str
    record: str  # what it is sent about: client | visit | invoice | proposal
    placeholders: tuple[str, ...]
    default: str


TEMPLATES: dict[str, TemplateKind] = {t.name: t for t in (
    TemplateKind(
        "visit_reminder", "Visit reminder", "visit", VISIT_PLACEHOLDERS,
        "Hi {contact_name}, this is {business_name} reminding you of your visit on {visit_day}, "
        "{visit_date} at {visit_time} at {address}. Reply STOP to opt out."),
    TemplateKind(
        "on_my_way", "On my way", "visit", VISIT_PLACEHOLDERS,
        "Hi {contact_name}, {technician_name} from {business_name} is on the way to {address}."),
    TemplateKind(
        "invoice_link", "Invoice with payment link", "invoice", INVOICE_PLACEHOLDERS,
        "Hi {contact_name}, invoice {invoice_number} from {business_name} for {amount_due} is "
        "due {due_date}. Pay securely here: {payment_link}"),
    TemplateKind(
        "proposal_ready", "Proposal ready", "proposal", PROPOSAL_PLACEHOLDERS,
        "Hi {contact_name}, your proposal {proposal_number} ({proposal_title}) from "
        "{business_name} is ready: {proposal_total}. Questions? Call {business_phone}."),
)}
CUSTOM = "custom"  # a message typed by hand (no template)
RECORD_KINDS = ("client", "visit", "invoice", "proposal")
MAX_TEMPLATE = 1000
MAX_BODY = 1600  # Twilio's limit for one message body

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def placeholders_in(text: str) -> list[str]:
    return _PLACEHOLDER.findall(text)


def check_template(name: str, text: str) -> str:
    """Clean and check a template's text, or raise naming the template."""
    kind = TEMPLATES.get(name)
    if kind is None:
        raise ValidationError("template", f"unknown template '{name}' "
                              f"(templates: {', '.join(TEMPLATES)})")
    field = f"{kind.label} template"
    body = validate.note(text, field, MAX_TEMPLATE).strip()
    if not body:
        raise ValidationError(field, "is empty; write the message, or reset it to the default")
    unknown = [p for p in placeholders_in(body) if p not in kind.placeholders]
    if unknown:
        raise ValidationError(field, f"{{{unknown[0]}}} is not a placeholder of this template; "
                              f"use: {', '.join('{' + p + '}' for p in kind.placeholders)}")
    return body


def render(text: str, values: dict[str, str]) -> str:
    """Fill ``{placeholders}``; the values are inserted as plain text, never re-read."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


# --------------------------------------------------------------------------- settings


def _parse_clock(value: Any, field: str) -> str:
    text = clean_line(str(value or ""))
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValidationError(field, f"'{text[:20]}' is not a time like 21:00")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def _check_timezone(value: Any) -> str:
    name = clean_line(str(value or ""))
    if not name:
        return ""
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError("time zone", f"'{name[:60]}' is not a time zone like "
                              "America/Chicago") from None
    return name


def validate_settings(value: dict[str, Any]) -> dict[str, Any]:
    """The ``messaging`` business setting, cleaned (called by :func:`core.business.update`)."""
    raw_templates = value.get("templates") or {}
    if not isinstance(raw_templates, dict):
        raise ValidationError("templates", "must map template names to their text")
    templates = {}
    for name, text in raw_templates.items():
        body = check_template(str(name), str(text or ""))
        if body != TEMPLATES[name].default:  # store only the owner's changes
            templates[name] = body
    return {
        "quiet_hours_start": _parse_clock(value.get("quiet_hours_start"), "quiet hours start"),
        "quiet_hours_end": _parse_clock(value.get("quiet_hours_end"), "quiet hours end"),
        "timezone": _check_timezone(value.get("timezone")),
        "templates": templates,
    }


def template_text(settings: dict[str, Any], name: str) -> str:
    if name not in TEMPLATES:
        raise ValidationError("template", f"unknown template '{name}'")
    return str((settings.get("templates") or {}).get(name) or TEMPLATES[name].default)


def all_templates(db: Database) -> dict[str, str]:
    """Every template's current text (the Settings screen's list)."""
    settings = business.load(db, "messaging")
    return {name: template_text(settings, name) for name in TEMPLATES}


def set_template(db: Database, name: str, text: str, *, actor: str = "owner") -> str:
    body = check_template(name, text)
    current = business.load(db, "messaging")
    templates = {**(current.get("templates") or {}), name: body}
    business.update(db, "messaging", {"templates": templates}, actor=actor)
    return body


def reset_template(db: Database, name: str, *, actor: str = "owner") -> str:
    check_template(name, TEMPLATES[name].default if name in TEMPLATES else "")
    current = business.load(db, "messaging")
    templates = {k: v for k, v in (current.get("templates") or {}).items() if k != name}
    business.update(db, "messaging", {"templates": templates}, actor=actor)
    return TEMPLATES[name].default


# --------------------------------------------------------------------------- quiet hours


def local_now(settings: dict[str, Any], now: dt.datetime | None = None) -> dt.datetime:
    """``now`` as the business's local wall-clock time (naive)."""
    if now is not None and now.tzinfo is None:
        return now  # already local wall-clock time
    tz_name = settings.get("timezone") or ""
    if tz_name:
        import zoneinfo

        tz: dt.tzinfo | None = zoneinfo.ZoneInfo(tz_name)
    else:
        tz = None  # the computer's own zone
    moment = now or dt.datetime.now(dt.UTC)
    return moment.astimezone(tz).replace(tzinfo=None)


def quiet_hours_reason(settings: dict[str, Any], now: dt.datetime | None = None) -> str | None:
    """None when texting is allowed now; else the sentence saying until when it is not."""
    start = dt.time.fromisoformat(settings["quiet_hours_start"])
    end = dt.time.fromisoformat(settings["quiet_hours_end"])
    if start == end:
        return None
    t = local_now(settings, now).time()
    quiet = start <= t < end if start < end else (t >= start or t < end)
    if not quiet:
        return None
    return (f"It is quiet hours ({start:%H:%M}–{end:%H:%M}); no texts are sent now. "
            f"Try again after {end:%H:%M}.")


# --------------------------------------------------------------------------- composing


@dataclass(frozen=True)
class Draft:
    """A message ready to preview: who gets it, the text, and why it cannot be sent (if so)."""

    client_id: int
    client_name: str
    contact_id: int | None
    contact_name: str
    to_phone: str
    body: str
    template: str
    related_type: str
    related_id: int | None
    blocked: str | None = None

    @property
    def segments(self) -> int:
        return sms_segments(self.body)


_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM7_EXT = set("^{}\\[~]|€")


def sms_segments(body: str) -> int:
    """How many SMS parts the body costs (GSM-7: 160/153 characters, else UCS-2: 70/67)."""
    if all(c in _GSM7 or c in _GSM7_EXT for c in body):
        units = sum(2 if c in _GSM7_EXT else 1 for c in body)
        single, multi = 160, 153
    else:
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in body)  # UTF-16 code units
        single, multi = 70, 67
    return 1 if units <= single else math.ceil(units / multi)


def _money(cents: int, currency: str) -> str:
    return money.format_money(cents, currency)


def date_words(d: dt.date | None) -> str:
    """"March 16, 2026", as texts say a date ("" for none)."""
    return f"{d:%B} {d.day}, {d.year}" if d else ""


def _time(t: dt.datetime) -> str:
    return f"{t:%I:%M %p}".lstrip("0")


def _address(a: Address | None) -> str:
    if a is None:
        return ""
    return ", ".join(p for p in (a.line1, a.line2, a.city) if p)


def _pick_contact(s: Session, client: Client, contact_id: int | None) -> Contact | None:
    if contact_id is not None:
        contact = s.get(Contact, contact_id)
        if contact is None or contact.client_id != client.id:
            raise ValidationError("contact", f"is not a contact of {client.name}")
        return contact
    with_phone = [c for c in client.contacts if c.phone]
    primary = [c for c in with_phone if c.is_primary]
    chosen = primary or with_phone
    return chosen[0] if chosen else None


def opted_out(s: Session, contact: Contact) -> tuple[dt.datetime, str] | None:
    """(when, source) if the contact or their number is opted out; source is
    ``twilio_21610`` (they replied STOP) or ``manual`` (the owner recorded it)."""
    row = s.get(SmsOptOut, contact.phone) if contact.phone else None
    if row is not None:
        return row.opted_out_at, row.source
    if contact.sms_opted_out_at is not None:
        return contact.sms_opted_out_at, "manual"
    return None


def block_reason(s: Session, client: Client, contact: Contact | None) -> str | None:
    """Why this contact cannot be texted, in words; None when they can."""
    if contact is None:
        return f"No contact of {client.name} has a mobile number to text."
    if not contact.phone:
        return f"{contact.name} has no phone number to text."
    out = opted_out(s, contact)
    if out is not None:
        since, source = out
        how = "replied STOP" if source == "twilio_21610" else "asked not to be texted"
        return (f"{contact.name} ({contact.phone}) {how} on {since:%Y-%m-%d}, so texts to them "
                "are blocked. If they text START and agree again, turn consent back on.")
    if not contact.sms_consent:
        return (f"{contact.name} has not agreed to receive texts; turn on SMS consent on the "
                "contact first.")
    return None


def _values_for(s: Session, related_type: str, related_id: int | None
                ) -> tuple[Client, dict[str, str], str | None]:
    """The client, the placeholder values and (for a missing payment link) a block reason."""
    biz = business.get(s, "business")
    values = {"business_name": biz["name"], "business_phone": biz["phone"]}
    blocked = None
    if related_type == "client":
        client = s.get(Client, related_id)
        if client is None:
            raise NotFound("Client", related_id)
    elif related_type == "visit":
        visit = s.get(Visit, related_id)
        if visit is None:
            raise NotFound("Visit", related_id)
        job = visit.job
        client = s.get(Client, job.client_id)
        address = s.get(Address, job.address_id) if job.address_id else None
        tech = s.get(User, visit.assignee_id) if visit.assignee_id else None
        values.update(visit_day=f"{visit.starts_at:%A}", visit_date=date_words(visit.starts_at.date()),
                      visit_time=_time(visit.starts_at), address=_address(address),
                      job_title=job.title, technician_name=tech.name if tech else biz["name"])
    elif related_type == "invoice":
        invoice = s.get(Invoice, related_id)
        if invoice is None:
            raise NotFound("Invoice", related_id)
        client = s.get(Client, invoice.client_id)
        url = s.scalar(select(PaymentLink.url).where(
            PaymentLink.invoice_id == invoice.id, PaymentLink.status == "open")
            .order_by(PaymentLink.attempt.desc()).limit(1))
        if not url:
            blocked = (f"{invoice.number or 'This invoice'} has no open payment link yet; "
                       "create one first.")
        values.update(invoice_number=invoice.number or "", due_date=date_words(invoice.due_date),
                      amount_due=_money(invoice.balance_cents, invoice.currency),
                      payment_link=url or "")
    elif related_type == "proposal":
        proposal = s.get(Proposal, related_id)
        if proposal is None:
            raise NotFound("Proposal", related_id)
        client = s.get(Client, proposal.client_id)
        values.update(proposal_number=proposal.number or "", proposal_title=proposal.title,
                      proposal_total=_money(proposal.total_cents, proposal.currency),
                      valid_until=date_words(proposal.valid_until))
    else:
        raise ValidationError("about", f"must be one of: {', '.join(RECORD_KINDS)}")
    assert client is not None  # foreign keys
    values["client_name"] = client.name
    return client, {k: clean_line(str(v)) for k, v in values.items()}, blocked


def compose_in(s: Session, related_type: str, related_id: int, template: str, *,
               contact_id: int | None = None, body: str | None = None) -> Draft:
    """:func:`compose` inside the caller's session."""
    client, values, blocked = _values_for(s, related_type, related_id)
    contact = _pick_contact(s, client, contact_id)
    values["contact_name"] = (contact.name.split()[0] if contact and contact.name.split()
                              else client.name)
    if template == CUSTOM:
        text = validate.note(body, "message", MAX_BODY).strip()
        if not text:
            raise ValidationError("message", "is empty")
        blocked = None  # a hand-written message needs no payment link
    else:
        kind = TEMPLATES.get(template)
        if kind is None:
            raise ValidationError("template", f"unknown template '{template}'")
        if kind.record != related_type:
            raise ValidationError("template", f"'{kind.label}' is sent about a {kind.record}, "
                                  f"not a {related_type}")
        # ``body``: the template's text edited for this one message
        source = body if body is not None else template_text(business.get(s, "messaging"),
                                                             template)
        text = clean_text(render(source, values)).strip()
        if "payment_link" not in placeholders_in(source):
            blocked = None
        if not text:
            raise ValidationError("message", "is empty")
    if len(text) > MAX_BODY:
        raise ValidationError("message", f"is {len(text)} characters; a text can hold at "
                              f"most {MAX_BODY}")
    reason = block_reason(s, client, contact) or blocked
    return Draft(client_id=client.id, client_name=client.name,
                 contact_id=contact.id if contact else None,
                 contact_name=contact.name if contact else "",
                 to_phone=contact.phone if contact else "", body=text, template=template,
                 related_type=related_type, related_id=related_id, blocked=reason)


def compose(db: Database, related_type: str, related_id: int, template: str, *,
            contact_id: int | None = None, body: str | None = None) -> Draft:
    """The message a template makes for a record, filled with the real data (the preview).

    ``related_type`` is client, visit, invoice or proposal; ``template`` one of
    :data:`TEMPLATES` or ``"custom"`` with ``body`` typed by hand."""
    with db.read() as s:
        return compose_in(s, related_type, related_id, template,
                          contact_id=contact_id, body=body)


# --------------------------------------------------------------------------- sending


class AlreadyReminded(DomainError):
    """This visit already had this reminder (sent, or on its way)."""


def begin_send(db: Database, draft: Draft, *, now: dt.datetime | None = None,
               ignore_quiet_hours: bool = False, reminder: bool = False,
               actor: str = "owner") -> int:
    """Write the message to the log as ``pending`` before Twilio is called; returns its id.

    Consent, the opt-out list and quiet hours are checked again here, in the transaction:
    the preview may be old. ``reminder`` also claims the (visit, template) reminder, and
    raises :class:`AlreadyReminded` when it was claimed before."""
    body = validate.note(draft.body, "message", MAX_BODY).strip()
    if not body:
        raise ValidationError("message", "is empty")
    with db.write() as s:
        client = s.get(Client, draft.client_id)
        if client is None:
            raise NotFound("Client", draft.client_id)
        contact = s.get(Contact, draft.contact_id) if draft.contact_id else None
        if contact is not None and contact.client_id != client.id:
            raise ValidationError("contact", f"is not a contact of {client.name}")
        reason = block_reason(s, client, contact)
        if reason:
            raise DomainError(reason)
        assert contact is not None
        if not ignore_quiet_hours:
            quiet = quiet_hours_reason(business.get(s, "messaging"), now)
            if quiet:
                raise DomainError(quiet)
        if reminder:
            if draft.related_type != "visit" or draft.related_id is None:
                raise ValidationError("reminder", "reminders are sent about visits")
            if s.scalar(select(exists().where(VisitReminder.visit_id == draft.related_id,
                                              VisitReminder.template == draft.template))):
                raise AlreadyReminded("This visit already had this reminder.")
        message = SmsMessage(client_id=client.id, contact_id=contact.id, to_phone=contact.phone,
                             body=body, template=draft.template,
                             related_type=draft.related_type, related_id=draft.related_id,
                             status="pending", error_message="", actor=actor or "owner")
        s.add(message)
        s.flush()
        if reminder:
            s.add(VisitReminder(visit_id=draft.related_id, template=draft.template,
                                message_id=message.id))
        audit.record(s, actor, "sms.send", "sms_message", message.id,
                     f"Texting {contact.name} ({_template_label(draft.template)})",
                     client_id=client.id,
                     after={"to": contact.phone, "template": draft.template,
                            "related": f"{draft.related_type}:{draft.related_id}"})
        return message.id


def _template_label(name: str) -> str:
    return TEMPLATES[name].label.lower() if name in TEMPLATES else "a message"


def send_accepted(db: Database, message_id: int, twilio_sid: str, status: str, *,
                  actor: str = "owner") -> None:
    """Twilio took the message: store its id and first status."""
    sid = _sid(twilio_sid)
    with db.write() as s:
        message = _message(s, message_id)
        if message.twilio_sid == sid:
            return
        before = message.status
        message.twilio_sid, message.status = sid, _status(status)
        message.error_code, message.error_message = None, ""
        audit.record(s, actor, "sms.accepted", "sms_message", message.id,
                     f"Twilio accepted the text to {message.to_phone}",
                     client_id=message.client_id,
                     before={"status": before}, after={"status": message.status, "sid": sid})


def send_failed(db: Database, message_id: int, *, definite: bool, message_text: str,
                code: int | None = None, retry_reminder: bool = False,
                opted_out: bool = False, actor: str = "owner") -> None:
    """Note a send that failed. ``definite``: it certainly never left (``not_sent``);
    otherwise its fate is ``unknown`` until ``sync`` finds it. ``retry_reminder`` frees the
    visit reminder for the next run (only for a definite, passing failure). ``opted_out``
    (Twilio 21610) puts the number on the opt-out list and marks its contacts."""
    why = clean_line(message_text or "")[:1000]
    with db.write() as s:
        message = _message(s, message_id)
        before = message.status
        message.status = "not_sent" if definite else "unknown"
        message.error_code, message.error_message = code, why
        if definite and retry_reminder:
            s.execute(delete(VisitReminder).where(VisitReminder.message_id == message.id))
        if opted_out:
            _opt_out_number(s, message.to_phone, "twilio_21610")
        audit.record(s, actor, "sms.failed", "sms_message", message.id,
                     f"Text to {message.to_phone} {'not sent' if definite else 'unconfirmed'}: "
                     f"{why}", client_id=message.client_id,
                     before={"status": before},
                     after={"status": message.status, "code": code, "opted_out": opted_out})


def _message(s: Session, message_id: int) -> SmsMessage:
    message = s.get(SmsMessage, message_id, with_for_update=True)
    if message is None:
        raise NotFound("Message", message_id)
    return message


def _sid(value: str) -> str:
    text = (value or "").strip()
    if not re.fullmatch(r"[A-Za-z]{2}[A-Za-z0-9]{1,62}", text):
        raise ValidationError("Twilio message id", "is not an id Twilio would send")
    return text


_TWILIO_STATUSES = ("queued", "accepted", "scheduled", "sending", "sent", "delivered",
                    "undelivered", "failed", "read", "canceled", "receiving", "received",
                    "partially_delivered")
WAITING = ("pending", "unknown")  # our own states before Twilio confirmed anything
IN_FLIGHT = ("queued", "accepted", "scheduled", "sending", "sent")  # may still change


def _status(value: str) -> str:
    status = clean_line(value or "").lower()
    return status if status in _TWILIO_STATUSES else "unknown"


# --------------------------------------------------------------------------- status refresh


@dataclass(frozen=True)
class MessageView:
    id: int
    client_id: int
    contact_id: int | None
    to_phone: str
    body: str
    template: str
    related_type: str
    related_id: int | None
    status: str
    twilio_sid: str | None
    error_code: int | None
    error_message: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def status_text(self) -> str:
        return STATUS_WORDS.get(self.status, self.status)


STATUS_WORDS = {
    "pending": "sending…",
    "unknown": "not confirmed by Twilio (sync will check)",
    "not_sent": "not sent",
    "queued": "queued at Twilio",
    "accepted": "accepted by Twilio",
    "scheduled": "scheduled",
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "not delivered",
    "failed": "failed",
    "read": "read",
    "canceled": "cancelled",
}


def _mview(m: SmsMessage) -> MessageView:
    return MessageView(id=m.id, client_id=m.client_id, contact_id=m.contact_id,
                       to_phone=m.to_phone, body=m.body, template=m.template,
                       related_type=m.related_type, related_id=m.related_id, status=m.status,
                       twilio_sid=m.twilio_sid, error_code=m.error_code,
                       error_message=m.error_message, created_at=m.created_at,
                       updated_at=m.updated_at)


def get_message(db: Database, message_id: int) -> MessageView:
    with db.read() as s:
        message = s.get(SmsMessage, message_id)
        if message is None:
            raise NotFound("Message", message_id)
        return _mview(message)


def client_messages(db: Database, client_id: int, *, limit: int = 50,
                    before_id: int | None = None) -> list[MessageView]:
    """A client's message log, newest first, one keyset page at a time."""
    query = select(SmsMessage).where(SmsMessage.client_id == client_id)
    if before_id is not None:
        query = query.where(SmsMessage.id < before_id)
    with db.read() as s:
        rows = s.scalars(query.order_by(SmsMessage.id.desc()).limit(max(1, min(limit, 500))))
        return [_mview(m) for m in rows]


def utc_naive(now: dt.datetime | None) -> dt.datetime:
    """``now`` (aware; a naive value is taken as UTC) as the naive UTC the tables store."""
    if now is None:
        return utcnow()
    return now.astimezone(dt.UTC).replace(tzinfo=None) if now.tzinfo else now


def messages_to_refresh(db: Database, *, now: dt.datetime | None = None,
                        days: int = 7) -> list[MessageView]:
    """Messages Twilio took whose delivery status may still change (the last ``days``)."""
    since = utc_naive(now) - dt.timedelta(days=days)
    with db.read() as s:
        rows = s.scalars(select(SmsMessage).where(
            SmsMessage.status.in_(IN_FLIGHT), SmsMessage.twilio_sid.is_not(None),
            SmsMessage.created_at >= since).order_by(SmsMessage.id))
        return [_mview(m) for m in rows]


def messages_to_reconcile(db: Database, *, now: dt.datetime | None = None,
                          settle: dt.timedelta = dt.timedelta(minutes=10),
                          days: int = 7) -> list[MessageView]:
    """Messages whose fate is unknown, older than ``settle``: Twilio's answer was lost
    (``unknown``), or the app stopped between writing them and hearing back (``pending``)."""
    moment = utc_naive(now)
    with db.read() as s:
        rows = s.scalars(select(SmsMessage).where(
            SmsMessage.twilio_sid.is_(None),
            SmsMessage.created_at >= moment - dt.timedelta(days=days),
            SmsMessage.status.in_(WAITING),
            # Twilio's list may lag a fresh message; give it time before deciding
            SmsMessage.created_at <= moment - settle).order_by(SmsMessage.id))
        return [_mview(m) for m in rows]


def status_seen(db: Database, message_id: int, status: str, *, twilio_sid: str | None = None,
                error_code: int | None = None, error_message: str = "",
                actor: str = "system") -> bool:
    """Store a status Twilio reported (sync); returns True when something changed."""
    new_status = _status(status)
    sid = _sid(twilio_sid) if twilio_sid else None
    with db.write() as s:
        message = _message(s, message_id)
        if message.status == new_status and (sid is None or message.twilio_sid == sid):
            return False
        before = message.status
        message.status = new_status
        if sid is not None:
            message.twilio_sid = sid
        message.error_code = error_code
        message.error_message = clean_line(error_message or "")[:1000]
        if error_code == 21610:
            _opt_out_number(s, message.to_phone, "twilio_21610")
        audit.record(s, actor, "sms.status", "sms_message", message.id,
                     f"Text to {message.to_phone}: {STATUS_WORDS.get(new_status, new_status)}",
                     client_id=message.client_id, before={"status": before},
                     after={"status": new_status, "code": error_code})
        return True


def never_arrived(db: Database, message_id: int, *, actor: str = "system") -> None:
    """Twilio has no record of an unconfirmed message: it was not sent. Its visit reminder
    (if any) is freed for the next run."""
    send_failed(db, message_id, definite=True, retry_reminder=True, actor=actor,
                message_text="Twilio has no record of this message; it was not sent.")


# --------------------------------------------------------------------------- opt-out list


def _opt_out_number(s: Session, phone: str, source: str) -> None:
    if not phone:
        return
    when = utcnow()
    if s.get(SmsOptOut, phone) is None:
        s.add(SmsOptOut(phone=phone, opted_out_at=when, source=source))
    s.execute(update(Contact).where(Contact.phone == phone, Contact.sms_opted_out_at.is_(None))
              .values(sms_opted_out_at=when).execution_options(synchronize_session=False))


def opt_out(db: Database, contact_id: int, *, actor: str = "owner") -> None:
    """The owner records that this person does not want texts (e.g. they said so by phone)."""
    with db.write() as s:
        contact = s.get(Contact, contact_id)
        if contact is None:
            raise NotFound("Contact", contact_id)
        if contact.phone:
            _opt_out_number(s, contact.phone, "manual")
        else:
            contact.sms_opted_out_at = contact.sms_opted_out_at or utcnow()
        audit.record(s, actor, "sms.opt_out", "contact", contact.id,
                     f"{contact.name} opted out of texts", client_id=contact.client_id)


def opt_in(db: Database, contact_id: int, *, actor: str = "owner") -> None:
    """The person texted START and agreed again: remove the number from the opt-out list,
    clear the mark on its contacts and record their consent."""
    with db.write() as s:
        contact = s.get(Contact, contact_id)
        if contact is None:
            raise NotFound("Contact", contact_id)
        if contact.phone:
            s.execute(delete(SmsOptOut).where(SmsOptOut.phone == contact.phone))
            s.execute(update(Contact).where(Contact.phone == contact.phone)
                      .values(sms_opted_out_at=None)
                      .execution_options(synchronize_session=False))
        contact = s.get(Contact, contact_id, populate_existing=True)
        assert contact is not None
        contact.sms_opted_out_at = None
        contact.sms_consent = True
        audit.record(s, actor, "sms.opt_in", "contact", contact.id,
                     f"{contact.name} agreed to receive texts again",
                     client_id=contact.client_id)


def is_opted_out(db: Database, phone: str) -> bool:
    e164, _ = validate.phone(phone, "phone")
    with db.read() as s:
        return s.get(SmsOptOut, e164) is not None or bool(s.scalar(select(exists().where(
            Contact.phone == e164, Contact.sms_opted_out_at.is_not(None)))))


# --------------------------------------------------------------------------- data rights


def forget_client_in(s: Session, client_id: int) -> int:
    """For anonymising a client (inside the caller's transaction): blank the number and the
    text of every message to them, keeping the rows (dates, statuses) as bare history.
    Returns how many messages were blanked. The opt-out list keeps the number on purpose:
    a person who said STOP must never be texted again."""
    result = s.execute(update(SmsMessage).where(SmsMessage.client_id == client_id)
                       .values(to_phone="", body="", error_message="")
                       .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


# --------------------------------------------------------------------------- reminders


@dataclass(frozen=True)
class ReminderCandidate:
    visit_id: int
    client_id: int
    starts_at: dt.datetime


def visits_to_remind(db: Database, day: dt.date, template: str = "visit_reminder"
                     ) -> list[ReminderCandidate]:
    """Scheduled visits on ``day`` (local wall-clock) of active jobs that have not had this
    reminder yet, in time order."""
    if template not in TEMPLATES or TEMPLATES[template].record != "visit":
        raise ValidationError("template", "reminders use a visit template "
                              f"({', '.join(t for t, k in TEMPLATES.items() if k.record == 'visit')})")
    start = dt.datetime.combine(day, dt.time())
    with db.read() as s:
        rows = s.execute(
            select(Visit.id, Job.client_id, Visit.starts_at).join(Job, Job.id == Visit.job_id)
            .where(Visit.starts_at >= start, Visit.starts_at < start + dt.timedelta(days=1),
                   Visit.status == "scheduled",
                   Job.status.not_in(("cancelled", "on_hold")),
                   ~exists().where(VisitReminder.visit_id == Visit.id,
                                   VisitReminder.template == template))
            .order_by(Visit.starts_at, Visit.id)).all()
        return [ReminderCandidate(r[0], r[1], r[2]) for r in rows]


def reminded(db: Database, visit_ids: Iterable[int], template: str = "visit_reminder"
             ) -> set[int]:
    ids = list(visit_ids)
    if not ids:
        return set()
    with db.read() as s:
        return set(s.scalars(select(VisitReminder.visit_id).where(
            VisitReminder.visit_id.in_(ids), VisitReminder.template == template)))
