"""Proposal (quote) use cases: draft, send, approve, decline, request changes, convert to a job.

Lifecycle: draft → sent → approved / declined; "changes requested" turns a sent proposal back
into a draft with ``revision + 1`` and the client's note in ``changes_requested``. Expired is
derived, never stored: a sent proposal whose ``valid_until`` is before today
(:func:`effective_status`). Functions take ``today`` so tests need no clock.

Decisions where the brief is silent:
- the number is taken on the first send and kept by every later revision; a draft that was
  sent before (it has a number) cannot be deleted, so numbers stay gapless;
- sending is refused when ``valid_until`` has passed (the client would get an expired quote);
  requesting changes is allowed on an expired proposal, as that is how it gets a new date;
- on edit, ``valid_until``/``terms`` given as None keep the current value (on create they
  take the business defaults); a deposit of zero must be chosen as "no deposit";
- a fixed discount or deposit is given in cents (as in :mod:`core.money`);
- conversion copies the lines with the tax percentage stored on each line (a tax rate edited
  since does not change the job), so the job's totals equal the proposal's to the cent; the
  job's title is the proposal's, or "Work from <number>" when it had none; the proposal stays
  "approved" with ``job_id`` set.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified

from core import audit, business, money, numbering, validate
from core.db import Database
from core.errors import DomainError, NotFound, StaleRecord, TransitionError, ValidationError
from core.jobs import check_client_address, clean_discount, copy_lines, insert_job, plain_decimal
from core.lines import LineData, as_line_data, clean_lines, replace_lines
from core.models import Job, Proposal, ProposalLine, Task, utcnow

DEPOSIT_KINDS = ("none", "percent", "fixed")


@dataclass
class ProposalData:
    client_id: int
    title: str = ""
    address_id: int | None = None
    lines: list[LineData] = field(default_factory=list)
    discount_kind: str = "none"
    discount_value: Decimal | str | int = Decimal(0)  # percent, or cents when "fixed"
    deposit_kind: str = "none"
    deposit_value: Decimal | str | int = Decimal(0)  # percent, or cents when "fixed"
    valid_until: dt.date | str | None = None  # None: today + proposal_valid_days (edit: keep)
    terms: str | None = None  # None: the business's proposal terms (edit: keep)
    notes: str = ""


# --------------------------------------------------------------------------- derived state


def is_expired(proposal: Proposal, today: dt.date | None = None) -> bool:
    today = today or dt.date.today()
    return (
        proposal.status == "sent"
        and proposal.valid_until is not None
        and proposal.valid_until < today
    )


def effective_status(proposal: Proposal, today: dt.date | None = None) -> str:
    """The status a person sees: the stored one, or "expired" for a sent, out-of-date proposal."""
    return "expired" if is_expired(proposal, today) else proposal.status


def _state(p: Proposal, today: dt.date) -> str:
    status = effective_status(p, today)
    if status == "expired":
        return f"expired on {p.valid_until}"
    if status == "approved" and p.job_id is not None:
        return "was approved and converted to a job"
    return {
        "draft": "is still a draft",
        "sent": "has been sent to the client",
        "approved": "was approved",
        "declined": "was declined",
    }[status]


def _refuse(p: Proposal, today: dt.date, consequence: str, hint: str = "") -> TransitionError:
    return TransitionError(
        f"This proposal {_state(p, today)}, so {consequence}.{(' ' + hint) if hint else ''}"
    )


# --------------------------------------------------------------------------- helpers


def _get(s: Session, proposal_id: int) -> Proposal:
    p = s.get(Proposal, proposal_id)
    if p is None:
        raise NotFound("Proposal", proposal_id)
    return p


def _check_version(p: Proposal, expected: int | None) -> None:
    if expected is not None and p.version != expected:
        raise StaleRecord("proposal")


def _label(p: Proposal) -> str:
    return p.number or f"draft proposal #{p.id}"


def _snapshot(p: Proposal) -> dict[str, object]:
    return {
        "title": p.title, "client_id": p.client_id, "address_id": p.address_id,
        "status": p.status, "revision": p.revision, "lines": len(p.lines),
        "discount_kind": p.discount_kind, "discount_value": str(p.discount_value),
        "deposit_kind": p.deposit_kind, "deposit_value": str(p.deposit_value),
        "valid_until": p.valid_until.isoformat() if p.valid_until else None,
        "total_cents": p.total_cents,
    }


@dataclass(frozen=True)
class _Clean:
    client_id: int
    address_id: int | None
    title: str
    discount_kind: str
    discount_value: Decimal
    deposit_kind: str
    deposit_value: Decimal
    valid_until: dt.date | None
    terms: str | None
    notes: str


def _clean(data: ProposalData) -> _Clean:
    kind, value = clean_discount(data.discount_kind, data.discount_value)
    dkind = validate.choice(data.deposit_kind, "deposit kind", DEPOSIT_KINDS)
    if dkind == "none":
        dvalue = Decimal(0)
    elif dkind == "percent":
        dvalue = plain_decimal(money.parse_rate(data.deposit_value, "deposit"))
    else:
        dvalue = plain_decimal(money.parse_decimal(data.deposit_value, "deposit", max_places=0))
    if dkind != "none" and dvalue <= 0:
        raise ValidationError("deposit", "must be more than zero (or choose no deposit)")
    return _Clean(
        client_id=data.client_id,
        address_id=data.address_id,
        title=validate.optional_line(data.title, "title", 300),
        discount_kind=kind,
        discount_value=value,
        deposit_kind=dkind,
        deposit_value=dvalue,
        valid_until=validate.parse_date(data.valid_until, "valid until"),
        terms=None if data.terms is None else validate.note(data.terms, "terms", 20_000),
        notes=validate.note(data.notes, "notes"),
    )


def _apply(s: Session, p: Proposal, clean: _Clean, lines: list[LineData]) -> None:
    check_client_address(s, clean.client_id, clean.address_id)
    p.client_id, p.address_id, p.title, p.notes = (
        clean.client_id, clean.address_id, clean.title, clean.notes)
    p.discount_kind, p.discount_value = clean.discount_kind, clean.discount_value
    p.deposit_kind, p.deposit_value = clean.deposit_kind, clean.deposit_value
    if clean.valid_until is not None:
        p.valid_until = clean.valid_until
    if clean.terms is not None:
        p.terms = clean.terms
    totals = replace_lines(p, ProposalLine, clean_lines(s, lines))
    money.deposit_cents(totals.total_cents, p.deposit_kind, p.deposit_value)  # raises if too big


# --------------------------------------------------------------------------- use cases


def create_proposal(db: Database, data: ProposalData, *, today: dt.date | None = None,
                    actor: str = "owner") -> int:
    today = today or dt.date.today()
    clean = _clean(data)
    with db.write() as s:
        defaults = business.get(s, "defaults")
        p = Proposal(status="draft", revision=1, rounding_rule=money.ROUNDING_RULE,
                     currency=business.get(s, "business")["currency"],
                     valid_until=today + dt.timedelta(days=int(defaults["proposal_valid_days"])),
                     terms=defaults["proposal_terms"] or "")
        _apply(s, p, clean, data.lines)
        s.add(p)
        s.flush()
        audit.record(s, actor, "proposal.create", "proposal", p.id,
                     f"Created draft proposal {p.title or '#' + str(p.id)}",
                     client_id=p.client_id, after=_snapshot(p))
        return p.id


def edit_proposal(db: Database, proposal_id: int, data: ProposalData, *,
                  expected_version: int | None = None, today: dt.date | None = None,
                  actor: str = "owner") -> None:
    today = today or dt.date.today()
    clean = _clean(data)
    with db.write() as s:
        p = _get(s, proposal_id)
        _check_version(p, expected_version)
        if p.status != "draft":
            hint = ("Record the client's requested changes to make a new revision."
                    if p.status == "sent" else "")
            raise _refuse(p, today, "it can no longer be edited", hint)
        before = _snapshot(p)
        _apply(s, p, clean, data.lines)
        p.updated_at = utcnow()
        flag_modified(p, "updated_at")  # lines alone changing must still bump the version
        s.flush()
        old, new = audit.changes(before, _snapshot(p))
        audit.record(s, actor, "proposal.update", "proposal", p.id, f"Edited {_label(p)}",
                     client_id=p.client_id, before=old, after=new)


def send_proposal(db: Database, proposal_id: int, *, expected_version: int | None = None,
                  today: dt.date | None = None, actor: str = "owner") -> None:
    """Mark as sent; the first send takes the next proposal number."""
    today = today or dt.date.today()
    with db.write() as s:
        p = _get(s, proposal_id)
        _check_version(p, expected_version)
        if p.status != "draft":
            raise _refuse(p, today, "it cannot be sent again")
        if not p.lines:
            raise ValidationError("lines", "add at least one line before sending")
        if p.total_cents <= 0:
            raise ValidationError("total", "must be more than zero before sending")
        if p.valid_until is not None and p.valid_until < today:
            raise ValidationError(
                "valid until", f"{p.valid_until} has passed; choose a later date before sending"
            )
        money.deposit_cents(p.total_cents, p.deposit_kind, p.deposit_value)
        first = p.number is None
        if first:
            pattern = business.get(s, "numbering")["proposal"]
            p.number = numbering.next_number(s, "proposal", pattern, today)
        p.status, p.sent_at = "sent", utcnow()
        what = "Sent" if first else f"Sent revision {p.revision} of"
        audit.record(s, actor, "proposal.send", "proposal", p.id, f"{what} proposal {p.number}",
                     client_id=p.client_id,
                     before={"status": "draft"},
                     after={"status": "sent", "number": p.number, "revision": p.revision,
                            "total_cents": p.total_cents})


def _decide(db: Database, proposal_id: int, action: str, status: str, verb: str,
            expected_version: int | None, today: dt.date | None, actor: str,
            reason: str = "") -> None:
    today = today or dt.date.today()
    with db.write() as s:
        p = _get(s, proposal_id)
        _check_version(p, expected_version)
        if p.status != "sent" or is_expired(p, today):
            hint = ("Record the client's requested changes to revise it and send it again."
                    if is_expired(p, today) else "")
            raise _refuse(p, today, f"it cannot be {verb}", hint)
        p.status, p.decided_at = status, utcnow()
        summary = f"{verb.capitalize()} proposal {p.number}"
        if reason:
            summary += f": {reason}"
        audit.record(s, actor, f"proposal.{action}", "proposal", p.id, summary, client_id=p.client_id,
                     before={"status": "sent"}, after={"status": status})


def approve_proposal(db: Database, proposal_id: int, *, expected_version: int | None = None,
                     today: dt.date | None = None, actor: str = "owner") -> None:
    _decide(db, proposal_id, "approve", "approved", "approved", expected_version, today, actor)


def decline_proposal(db: Database, proposal_id: int, *, reason: str = "",
                     expected_version: int | None = None, today: dt.date | None = None,
                     actor: str = "owner") -> None:
    """The client said no; ``reason`` goes into the audit trail."""
    _decide(db, proposal_id, "decline", "declined", "declined", expected_version, today, actor,
            validate.note(reason, "reason", 2000).strip())


def request_changes(db: Database, proposal_id: int, note: str, *,
                    expected_version: int | None = None, today: dt.date | None = None,
                    actor: str = "owner") -> None:
    """The client asked for changes: back to draft as the next revision, keeping the number."""
    today = today or dt.date.today()
    text = validate.note(note, "changes requested", 20_000)
    if not text.strip():
        raise ValidationError("changes requested", "write down what the client asked to change")
    with db.write() as s:
        p = _get(s, proposal_id)
        _check_version(p, expected_version)
        if p.status != "sent":
            raise _refuse(p, today, "changes cannot be requested")
        p.status, p.revision, p.changes_requested = "draft", p.revision + 1, text
        p.decided_at = None
        audit.record(s, actor, "proposal.request_changes", "proposal", p.id,
                     f"Changes requested on proposal {p.number}; now revision {p.revision}",
                     client_id=p.client_id,
                     before={"status": "sent", "revision": p.revision - 1},
                     after={"status": "draft", "revision": p.revision, "changes_requested": text})


def convert_to_job(db: Database, proposal_id: int, *, expected_version: int | None = None,
                   today: dt.date | None = None, actor: str = "owner") -> int:
    """Turn an approved proposal into a job (and a draft deposit invoice when it asks for one)."""
    today = today or dt.date.today()
    with db.write() as s:
        p = _get(s, proposal_id)
        _check_version(p, expected_version)
        if p.job_id is not None:
            existing = s.get(Job, p.job_id)
            number = existing.number if existing is not None else f"#{p.job_id}"
            raise TransitionError(f"This proposal was already converted to job {number}.")
        if p.status != "approved":
            raise _refuse(p, today, "it cannot become a job yet",
                          "Only an approved proposal can be converted.")
        job = insert_job(
            s, client_id=p.client_id, address_id=p.address_id,
            title=p.title or f"Work from {p.number}", description="",
            lines=copy_lines(s, p.lines), billing="per_job", discount_kind=p.discount_kind,
            discount_value=p.discount_value, proposal_id=p.id, currency=p.currency,
            rounding_rule=p.rounding_rule, today=today,
        )
        if job.total_cents != p.total_cents:  # same lines, same rule: cannot differ
            raise DomainError(
                f"The job's total {money.format_money(job.total_cents, job.currency)} differs from "
                f"the proposal's {money.format_money(p.total_cents, p.currency)}; nothing was saved."
            )
        p.job_id = job.id
        audit.record(s, actor, "job.create", "job", job.id,
                     f"Created job {job.number} from proposal {p.number}",
                     client_id=p.client_id, after={"proposal_id": p.id, "title": job.title,
                                                   "total_cents": job.total_cents})
        deposit_note = ""
        if p.deposit_kind != "none":
            from core.invoices import create_deposit_draft  # the invoicing engineer's module

            invoice = create_deposit_draft(s, p, job, actor)
            deposit_note = f" with a draft deposit invoice of " \
                f"{money.format_money(invoice.total_cents, invoice.currency)}"
        audit.record(s, actor, "proposal.convert", "proposal", p.id,
                     f"Converted proposal {p.number} to job {job.number}{deposit_note}",
                     client_id=p.client_id, after={"job_id": job.id, "job_number": job.number})
        return job.id


def delete_proposal(db: Database, proposal_id: int, *, expected_version: int | None = None,
                    today: dt.date | None = None, actor: str = "owner") -> None:
    """Delete a draft that was never sent; tasks linked to it are re-linked to its client."""
    today = today or dt.date.today()
    with db.write() as s:
        p = _get(s, proposal_id)
        _check_version(p, expected_version)
        if p.status != "draft":
            raise _refuse(p, today, "it cannot be deleted",
                          "Only a draft that was never sent can be deleted.")
        if p.number is not None:
            raise TransitionError(
                f"This proposal was already sent as {p.number}, so it stays on record and "
                "cannot be deleted."
            )
        before = _snapshot(p)
        client_id, label = p.client_id, _label(p)
        # tasks about this draft stay, now about its client, rather than pointing at nothing
        s.execute(update(Task).where(Task.linked_type == "proposal", Task.linked_id == p.id)
                  .values(linked_type="client", linked_id=client_id, version=Task.version + 1))
        s.delete(p)
        audit.record(s, actor, "proposal.delete", "proposal", proposal_id,
                     f"Deleted {label}{' ' + p.title if p.title else ''}",
                     client_id=client_id, before=before)


def get(db: Database, proposal_id: int) -> Proposal:
    """A proposal with its lines, for display and for the editor (detached, read-only)."""
    with db.read() as s:
        p = s.scalar(select(Proposal).options(selectinload(Proposal.lines))
                     .where(Proposal.id == proposal_id))
        if p is None:
            raise NotFound("Proposal", proposal_id)
        return p


def as_proposal_data(p: Proposal) -> ProposalData:
    """A stored proposal as the editor's input (everything :func:`edit_proposal` takes)."""
    return ProposalData(
        client_id=p.client_id, title=p.title, address_id=p.address_id,
        lines=[as_line_data(line) for line in p.lines],
        discount_kind=p.discount_kind, discount_value=p.discount_value,
        deposit_kind=p.deposit_kind, deposit_value=p.deposit_value,
        valid_until=p.valid_until, terms=p.terms, notes=p.notes,
    )
