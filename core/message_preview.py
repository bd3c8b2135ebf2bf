"""Previews of the text-message templates for Settings: a template's text (as typed, before it
is saved) filled with a real record of the database, or with example values when the
database has no such record yet.

Which record (decided here, so every screen previews alike):

* visit templates: the next scheduled visit from ``today`` on, else the latest visit;
* the invoice template: the latest unpaid issued invoice with an open payment link, else the
  latest unpaid issued invoice, else the latest numbered invoice;
* the proposal template: the latest numbered (sent) proposal.

The text is checked first (:func:`core.messaging.check_template`: unknown placeholders,
empty, too long), so the preview raises the same :class:`~core.errors.ValidationError`,
naming the template, that saving would.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from core import business, messaging, money
from core.db import Database
from core.errors import ValidationError
from core.models import Client, Invoice, Job, PaymentLink, Proposal, Visit


@dataclass(frozen=True)
class Sample:
    """The record a template is previewed with; ``related_id`` None means example values."""

    record: str  # visit | invoice | proposal
    related_id: int | None
    label: str  # "visit of Acme Lawn Care on Monday, March 16 at 9:00 AM"


@dataclass(frozen=True)
class Preview:
    about: str  # what the preview is filled with, for the line above it
    body: str
    note: str | None  # why it could not be sent about that record right now, if so

    @property
    def segments(self) -> int:
        return messaging.sms_segments(self.body)


def _when(moment: dt.datetime) -> str:
    return f"{moment:%A}, {moment:%B} {moment.day} at {moment:%I:%M %p}".replace(" 0", " ")


def find_samples(db: Database, today: dt.date) -> dict[str, Sample]:
    """The record each kind of template is previewed with (one per record kind)."""
    start = dt.datetime.combine(today, dt.time())
    out: dict[str, Sample] = {}
    with db.read() as s:
        visit_query = select(Visit.id, Visit.starts_at, Client.name).join(
            Job, Job.id == Visit.job_id).join(Client, Client.id == Job.client_id)
        row = s.execute(visit_query.where(Visit.starts_at >= start, Visit.status == "scheduled")
                        .order_by(Visit.starts_at, Visit.id).limit(1)).first()
        if row is None:
            row = s.execute(visit_query.order_by(Visit.starts_at.desc(), Visit.id.desc())
                            .limit(1)).first()
        if row is not None:
            out["visit"] = Sample("visit", row[0], f"the visit of {row[2]} on {_when(row[1])}")

        invoice_query = select(Invoice.id, Invoice.number, Client.name).join(
            Client, Client.id == Invoice.client_id).where(Invoice.number.is_not(None))
        unpaid = invoice_query.where(Invoice.status.in_(("issued", "partially_paid")))
        linked = unpaid.where(select(PaymentLink.id).where(
            PaymentLink.invoice_id == Invoice.id, PaymentLink.status == "open").exists())
        for query in (linked, unpaid, invoice_query):
            found = s.execute(query.order_by(Invoice.id.desc()).limit(1)).first()
            if found is not None:
                out["invoice"] = Sample("invoice", found[0], f"invoice {found[1]} of {found[2]}")
                break

        found = s.execute(select(Proposal.id, Proposal.number, Client.name)
                        .join(Client, Client.id == Proposal.client_id)
                        .where(Proposal.number.is_not(None))
                        .order_by(Proposal.id.desc()).limit(1)).first()
        if found is not None:
            out["proposal"] = Sample("proposal", found[0], f"proposal {found[1]} of {found[2]}")
    return out


def example_values(db: Database, today: dt.date) -> dict[str, str]:
    """Made-up values for every placeholder (the business's own name and phone are real)."""
    biz = business.load(db, "business")
    currency = biz.get("currency") or "USD"
    visit = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(9, 0))
    day = messaging.date_words

    return {
        "client_name": "Jordan Smith", "contact_name": "Jordan",
        "business_name": biz.get("name") or "Your business",
        "business_phone": biz.get("phone") or "(555) 010-0100",
        "visit_day": f"{visit:%A}", "visit_date": day(visit.date()), "visit_time": "9:00 AM",
        "address": "12 Elm St, Springfield", "job_title": "Lawn care",
        "technician_name": "Sam",
        "invoice_number": "INV-0001", "amount_due": money.format_money(12_000, currency),
        "due_date": day(today + dt.timedelta(days=14)),
        "payment_link": "https://pay.example/inv-0001",
        "proposal_number": "PRO-0001", "proposal_title": "Spring clean-up",
        "proposal_total": money.format_money(45_000, currency),
        "valid_until": day(today + dt.timedelta(days=30)),
    }


def preview(db: Database, name: str, text: str, sample: Sample | None, today: dt.date
            ) -> Preview:
    """``text`` (template ``name``, unsaved) as the message it makes about ``sample``.

    Raises ValidationError (naming the template) for text that could not be saved."""
    source = messaging.check_template(name, text)
    kind = messaging.TEMPLATES[name]
    if sample is not None and sample.record == kind.record and sample.related_id is not None:
        draft = messaging.compose(db, kind.record, sample.related_id, name, body=source)
        return Preview(about=f"with {sample.label}", body=draft.body, note=draft.blocked)
    body = messaging.render(source, example_values(db, today))
    if len(body) > messaging.MAX_BODY:
        raise ValidationError("message", f"is {len(body)} characters; a text can hold at most "
                              f"{messaging.MAX_BODY}")
    return Preview(about=f"with example values (there is no {kind.record} yet)", body=body,
                   note=None)
