"""Invoices on both backends: drafts, editing, issuing with gapless numbers, every lifecycle
transition allowed and forbidden, invoicing jobs (per job, per visit, deposits), overdue."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update

from core import (
    business,
    catalog,
    clients,
    credit_notes,
    invoices,
    jobs,
    lines,
    payments,
    proposals,
)
from core.catalog import TaxRateData
from core.clients import ClientData
from core.errors import DomainError, NotFound, StaleRecord, TransitionError, ValidationError
from core.invoices import InvoiceData
from core.lines import LineData
from core.models import (
    AuditEvent,
    CreditNote,
    Invoice,
    InvoiceLine,
    Job,
    JobLine,
    NumberSequence,
    Payment,
    Proposal,
    Visit,
)
from core.text import clean_text
from tests.core import factories

D = Decimal
ISSUED_ON = dt.date(2026, 3, 2)


def _client(db, name: str = "Acme Lawn Care") -> int:
    return clients.create_client(db, ClientData(name=name))


def _tax(db, rate: str = "10") -> int:
    return catalog.create_tax_rate(db, TaxRateData(name=f"Tax {rate}", rate=rate))


def _draft(db, cid: int | None = None, price: int = 10000, qty: str = "1", **kw) -> int:
    cid = cid or _client(db)
    return invoices.create_blank(db, cid, [LineData("Lawn mowing", D(qty), price)], **kw)


def _issued(db, cid: int | None = None, price: int = 10000) -> int:
    iid = _draft(db, cid, price)
    invoices.issue(db, iid, ISSUED_ON)
    return iid


def _count(db, model, *where) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _invoice_audits(db) -> list[str]:
    with db.read() as s:
        return list(s.scalars(select(AuditEvent.action)
                              .where(AuditEvent.entity_type.in_(("invoice", "payment", "refund",
                                                                 "credit_note")))
                              .order_by(AuditEvent.id)))


def _state(db, iid: int) -> dict:
    """Everything a forbidden change must leave alone."""
    with db.read() as s:
        inv = s.get(Invoice, iid)
        row = None if inv is None else {
            c.key: getattr(inv, c.key) for c in Invoice.__table__.columns}
        line_rows = s.execute(select(InvoiceLine.description, InvoiceLine.total_cents)
                              .where(InvoiceLine.invoice_id == iid)
                              .order_by(InvoiceLine.position)).all()
        counts = [s.scalar(select(func.count()).select_from(m)) for m in
                  (Invoice, Payment, CreditNote, AuditEvent, NumberSequence)]
        seqs = s.execute(select(NumberSequence.doc_type, NumberSequence.next_value)).all()
    return {"invoice": row, "lines": line_rows, "counts": counts, "seqs": sorted(seqs)}


# --------------------------------------------------------------------------- drafts


def test_a_blank_draft_has_no_number_and_takes_the_business_defaults(db):
    cid = _client(db)
    rate = _tax(db, "8.875")
    iid = invoices.create_blank(db, cid, [LineData("Filter", D(3), 1999, tax_rate_id=rate),
                                          LineData("Labour", D("1.5"), 8000)],
                                notes="Gate code 1234")
    inv = invoices.get(db, iid)
    assert (inv.status, inv.number, inv.kind, inv.client_id) == ("draft", None, "standard", cid)
    assert (inv.terms_days, inv.terms) == (30, "Payment due within 30 days.")
    assert inv.due_date is None and inv.issue_date is None and inv.balance_cents == 0
    # 3 × 19.99 = 59.97 + 8.875% tax 5.32; 1.5 × 80 = 120.00
    assert (inv.subtotal_cents, inv.tax_cents, inv.total_cents) == (5997 + 12000, 532, 18529)
    assert [ln.total_cents for ln in inv.lines] == [6529, 12000]
    assert inv.lines[0].tax_rate == D("8.875")
    assert inv.notes == "Gate code 1234"
    assert _invoice_audits(db) == ["invoice.create"]


def test_changed_business_defaults_apply_to_new_drafts(db):
    business.update(db, "defaults", {"payment_terms_days": 14, "invoice_terms": "Net 14, thanks"})
    inv = invoices.get(db, _draft(db))
    assert (inv.terms_days, inv.terms) == (14, "Net 14, thanks")
    inv = invoices.get(db, _draft(db, terms_days=0, terms=""))
    assert (inv.terms_days, inv.terms) == (0, "")


BAD_DRAFTS = [
    (LineData("   "), {}, "line 1 description"),
    (LineData("Mow", "a lot", 100), {}, "line 1 quantity"),
    (LineData("Mow", "1.23456", 100), {}, "line 1 quantity"),
    (LineData("Mow", 1, 100, tax_rate_id=9999), {}, "line 1 tax rate"),
    (LineData("Mow", 1, 100, discount_kind="fixed", discount_value=101), {}, "line 1 discount"),
    (LineData("Mow", 1, "100"), {}, "line 1 unit price"),  # type: ignore[arg-type]
    (LineData("Mow", 1, -100, discount_kind="percent", discount_value=5), {},
     "line 1 discount"),
    (LineData("Mow", 1, 100), {"discount_kind": "bogus"}, "discount kind"),
    (LineData("Mow", 1, 100), {"discount_kind": "percent", "discount_value": "150"},
     "discount"),
    (LineData("Mow", 1, 100), {"discount_kind": "fixed", "discount_value": "101"}, "discount"),
    (LineData("Mow", 1, 100), {"terms_days": 400}, "payment terms (days)"),
    (LineData("Mow", 1, 100), {"terms_days": "soon"}, "payment terms (days)"),
    (LineData("Mow", 1, 100), {"due_date": "31/02/2026"}, "due date"),
    (LineData("Mow", 1, 100), {"notes": "x" * 10_001}, "notes"),
]


def test_bad_draft_input_names_the_field_and_writes_nothing(db):
    cid = _client(db)
    for line, kw, field in BAD_DRAFTS:
        with pytest.raises(ValidationError) as err:
            invoices.create_blank(db, cid, [line], **kw)
        assert err.value.field == field, (line, kw)
    assert _count(db, Invoice) == 0 and _count(db, InvoiceLine) == 0
    assert _invoice_audits(db) == []


def test_a_draft_for_a_missing_client_is_refused(db):
    with pytest.raises(NotFound):
        invoices.create_blank(db, 4242, [LineData("Mow", 1, 100)])
    assert _count(db, Invoice) == 0


def test_editing_a_draft_replaces_lines_and_totals_and_audits_the_change(db):
    iid = _draft(db)
    v1 = invoices.get(db, iid).version
    data = InvoiceData(lines=[LineData("Hedge", D(2), 4500), LineData("Edging", D(1), 1000)],
                       discount_kind="percent", discount_value="10", terms_days=7, terms="Net 7",
                       notes="Thanks!", due_date="2026-04-30")
    v2 = invoices.edit_draft(db, iid, data, expected_version=v1)
    inv = invoices.get(db, iid)
    assert v2 == inv.version > v1
    assert [ln.description for ln in inv.lines] == ["Hedge", "Edging"]
    assert (inv.subtotal_cents, inv.discount_cents, inv.total_cents) == (10000, 1000, 9000)
    assert (inv.terms_days, inv.terms, inv.notes, inv.due_date) == (
        7, "Net 7", "Thanks!", dt.date(2026, 4, 30))
    assert _invoice_audits(db) == ["invoice.create", "invoice.edit"]
    with db.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "invoice.edit")).one()
    assert event.before["total_cents"] == 10000 and event.after["total_cents"] == 9000


def test_a_stale_edit_is_refused_and_changes_nothing(db):
    iid = _draft(db)
    v1 = invoices.get(db, iid).version
    invoices.edit_draft(db, iid, InvoiceData(lines=[LineData("First save", 1, 500)]),
                        expected_version=v1)
    before = _state(db, iid)
    with pytest.raises(StaleRecord) as err:
        invoices.edit_draft(db, iid, InvoiceData(lines=[LineData("Second save", 1, 900)]),
                            expected_version=v1)
    assert "changed elsewhere" in str(err.value)
    assert _state(db, iid) == before
    assert invoices.get(db, iid).lines[0].description == "First save"


def test_editing_a_draft_to_bad_input_keeps_what_was_there(db):
    iid = _draft(db)
    before = _state(db, iid)
    with pytest.raises(ValidationError) as err:
        invoices.edit_draft(db, iid, InvoiceData(lines=[LineData("ok", 1, 100), LineData("", 1, 1)]))
    assert err.value.field == "line 2 description"
    assert _state(db, iid) == before


def test_negative_lines_are_deductions_untouched_by_the_document_discount(db):
    rate = _tax(db, "10")
    cid = _client(db)
    # $1,000 of work, 10% off, 10% tax = $990; less $495 already received
    iid = invoices.create_blank(db, cid, [LineData("Install", 1, 100000, tax_rate_id=rate),
                                          LineData("Less: received", 1, -49500)],
                                discount_kind="percent", discount_value="10")
    inv = invoices.get(db, iid)
    assert (inv.discount_cents, inv.tax_cents, inv.total_cents) == (10000, 9000, 49500)
    assert [ln.total_cents for ln in inv.lines] == [99000, -49500]
    assert inv.subtotal_cents - inv.discount_cents + inv.tax_cents == inv.total_cents


def test_naughty_strings_survive_in_lines_and_notes(db, naughty_strings):
    cid = _client(db)
    usable = [t for t in naughty_strings if clean_text(t).strip()][:300]
    iid = invoices.create_blank(db, cid, [LineData(t, 1, 100) for t in usable],
                                notes="\n".join(usable[:50]))
    inv = invoices.get(db, iid)
    assert [ln.description for ln in inv.lines] == [clean_text(t).strip() for t in usable]
    assert inv.notes == clean_text("\n".join(usable[:50]))
    assert inv.total_cents == 100 * len(usable)


# --------------------------------------------------------------------------- issuing


def test_issue_assigns_gapless_numbers_dates_and_balance(db):
    cid = _client(db)
    a, b = _draft(db, cid, 12345), _draft(db, cid, 500)
    assert invoices.issue(db, a, ISSUED_ON) == "INV-0001"
    assert invoices.issue(db, b, "2026-03-05") == "INV-0002"
    inv = invoices.get(db, a)
    assert (inv.status, inv.number, inv.issue_date, inv.due_date) == (
        "issued", "INV-0001", ISSUED_ON, ISSUED_ON + dt.timedelta(days=30))
    assert inv.issued_at is not None and inv.paid_at is None
    assert (inv.balance_cents, inv.paid_cents, inv.credited_cents) == (12345, 0, 0)
    assert _invoice_audits(db) == ["invoice.create", "invoice.create", "invoice.issue",
                                   "invoice.issue"]


def test_issue_keeps_a_due_date_set_on_the_draft_and_refuses_one_before_issue(db):
    iid = _draft(db, due_date="2026-03-20")
    invoices.issue(db, iid, ISSUED_ON)
    assert invoices.get(db, iid).due_date == dt.date(2026, 3, 20)
    early = _draft(db, due_date="2026-03-01")
    before = _state(db, early)
    with pytest.raises(ValidationError) as err:
        invoices.issue(db, early, ISSUED_ON)
    assert err.value.field == "due date"
    assert _state(db, early) == before


def test_issue_follows_the_numbering_pattern_in_settings(db):
    business.update(db, "numbering", {"invoice": "{year}-{seq:03}"})
    assert invoices.issue(db, _draft(db), dt.date(2026, 12, 31)) == "2026-001"
    assert invoices.issue(db, _draft(db), dt.date(2027, 1, 1)) == "2027-001"
    assert invoices.issue(db, _draft(db), dt.date(2026, 12, 31)) == "2026-002"


UNISSUABLE = [
    (lambda db, cid: invoices.create_blank(db, cid, []), "lines"),
    (lambda db, cid: invoices.create_blank(db, cid, [LineData("Free visit", 1, 0)]), "total"),
    (lambda db, cid: invoices.create_blank(db, cid, [LineData("Refund", 1, -500)]), "total"),
    (lambda db, cid: invoices.create_blank(db, cid, [LineData("Mow", 1, 500)],
                                           discount_kind="percent", discount_value=100),
     "total"),
]


def test_a_failed_issue_takes_no_number(db):
    cid = _client(db)
    for make, field in UNISSUABLE:
        bad = make(db, cid)
        before = _state(db, bad)
        with pytest.raises(ValidationError) as err:
            invoices.issue(db, bad, ISSUED_ON)
        assert err.value.field == field
        assert _state(db, bad) == before
    assert invoices.issue(db, _draft(db, cid), ISSUED_ON) == "INV-0001"


def test_a_number_already_in_use_is_refused_and_rolls_the_counter_back(db):
    cid = _client(db)
    invoices.issue(db, _draft(db, cid), ISSUED_ON)
    # e.g. a restored backup whose counter is behind the invoices
    with db.write() as s:
        s.execute(update(NumberSequence).where(NumberSequence.doc_type == "invoice")
                  .values(next_value=1))
    second = _draft(db, cid)
    before = _state(db, second)
    with pytest.raises(DomainError) as err:
        invoices.issue(db, second, ISSUED_ON)
    assert "INV-0001, is already used" in str(err.value)
    assert _state(db, second) == before  # the counter did not move either


def test_deleting_a_draft_frees_no_number_and_audits(db):
    cid = _client(db)
    first, second = _draft(db, cid), _draft(db, cid)
    invoices.delete_draft(db, first)
    assert _count(db, Invoice) == 1 and _count(db, InvoiceLine) == 1
    assert invoices.issue(db, second, ISSUED_ON) == "INV-0001"
    assert _invoice_audits(db)[-2:] == ["invoice.delete", "invoice.issue"]


def test_a_stale_delete_or_issue_is_refused(db):
    iid = _draft(db)
    v1 = invoices.get(db, iid).version
    invoices.edit_draft(db, iid, InvoiceData(lines=[LineData("Changed", 1, 700)]))
    before = _state(db, iid)
    with pytest.raises(StaleRecord):
        invoices.delete_draft(db, iid, expected_version=v1)
    with pytest.raises(StaleRecord):
        invoices.issue(db, iid, ISSUED_ON, expected_version=v1)
    assert _state(db, iid) == before


# --------------------------------------------------------------------------- lifecycle matrix


def _in_state(db, state: str) -> int:
    cid = _client(db)
    if state == "draft":
        return _draft(db, cid)
    iid = _issued(db, cid)
    if state == "partially_paid":
        payments.record_payment(db, iid, 4000, "cash", ISSUED_ON)
    elif state == "paid":
        payments.record_payment(db, iid, 10000, "bank", ISSUED_ON)
    elif state == "void":
        credit_notes.void(db, iid, "Issued by mistake", issued_on=ISSUED_ON)
    assert invoices.get(db, iid).status == state
    return iid


ACTIONS = {
    "edit": lambda db, iid: invoices.edit_draft(db, iid, InvoiceData(lines=[LineData("New", 1, 1)])),
    "delete": lambda db, iid: invoices.delete_draft(db, iid),
    "issue": lambda db, iid: invoices.issue(db, iid, ISSUED_ON),
    "pay": lambda db, iid: payments.record_payment(db, iid, 1000, "cash", ISSUED_ON),
    "credit": lambda db, iid: credit_notes.issue_credit_note(db, iid, 1000, "Goodwill",
                                                             issued_on=ISSUED_ON),
    "void": lambda db, iid: credit_notes.void(db, iid, "Cancelled", issued_on=ISSUED_ON),
}
LOCKED = "An issued invoice is locked; issue a credit note to change what it asks for"
NOT_DELETABLE = "only a draft can be deleted"
# (state, action) -> the status afterwards, or the refusal's message
MATRIX = {
    ("draft", "edit"): "draft",
    ("draft", "delete"): None,
    ("draft", "issue"): "issued",
    ("draft", "pay"): "still a draft; issue it before recording a payment",
    ("draft", "credit"): "still a draft; edit or delete it",
    ("draft", "void"): "A draft invoice is deleted, not voided.",
    ("issued", "edit"): LOCKED,
    ("issued", "delete"): NOT_DELETABLE,
    ("issued", "issue"): "already issued as INV-0001",
    ("issued", "pay"): "partially_paid",
    ("issued", "credit"): "issued",
    ("issued", "void"): "void",
    ("partially_paid", "edit"): LOCKED,
    ("partially_paid", "delete"): NOT_DELETABLE,
    ("partially_paid", "issue"): "already issued as INV-0001",
    ("partially_paid", "pay"): "partially_paid",
    ("partially_paid", "credit"): "partially_paid",
    ("partially_paid", "void"): "refund the payments first",
    ("paid", "edit"): LOCKED,
    ("paid", "delete"): NOT_DELETABLE,
    ("paid", "issue"): "already issued as INV-0001",
    ("paid", "pay"): "already paid; nothing more is owed",
    ("paid", "credit"): "already paid; record a refund instead",
    ("paid", "void"): "refund the payments first",
    ("void", "edit"): "void; a void invoice cannot be changed",
    ("void", "delete"): NOT_DELETABLE,
    ("void", "issue"): "void; it cannot be issued again",
    ("void", "pay"): "void; it accepts no payments",
    ("void", "credit"): "already void",
    ("void", "void"): "already void",
}
STATUSES = ("draft", "issued", "partially_paid", "paid", "void")


def test_the_matrix_covers_every_state_and_action():
    assert set(MATRIX) == {(s, a) for s in STATUSES for a in ACTIONS}


@pytest.mark.parametrize("state", STATUSES)
def test_lifecycle_transitions(db, state):
    """Every action from ``state``, each on a fresh invoice in that state."""
    for action in ACTIONS:
        iid = _in_state(db, state)
        number = invoices.get(db, iid).number
        expected = MATRIX[(state, action)]
        if expected is None or expected in STATUSES:
            events = _count(db, AuditEvent)
            ACTIONS[action](db, iid)
            if expected is None:
                assert _count(db, Invoice, Invoice.id == iid) == 0, action
            else:
                assert invoices.get(db, iid).status == expected, action
            assert _count(db, AuditEvent) > events, action
            continue
        before = _state(db, iid)
        with pytest.raises(TransitionError) as err:
            ACTIONS[action](db, iid)
        assert expected.replace("INV-0001", str(number)) in str(err.value), action
        assert _state(db, iid) == before, action


# --------------------------------------------------------------------------- overdue


@pytest.mark.parametrize(
    ("status", "balance", "due", "today", "days"),
    [
        ("issued", 100, dt.date(2026, 3, 1), dt.date(2026, 3, 1), 0),
        ("issued", 100, dt.date(2026, 3, 1), dt.date(2026, 3, 2), 1),
        ("partially_paid", 50, dt.date(2026, 1, 1), dt.date(2026, 3, 2), 60),
        ("issued", 100, dt.date(2026, 3, 1), dt.date(2026, 2, 1), 0),
        ("paid", 0, dt.date(2026, 1, 1), dt.date(2026, 3, 2), 0),
        ("void", 0, dt.date(2026, 1, 1), dt.date(2026, 3, 2), 0),
        ("draft", 0, None, dt.date(2026, 3, 2), 0),
        ("draft", 0, dt.date(2026, 1, 1), dt.date(2026, 3, 2), 0),
    ],
)
def test_overdue_is_derived(status, balance, due, today, days):
    inv = SimpleNamespace(status=status, balance_cents=balance, due_date=due)
    assert invoices.days_overdue(inv, today) == days
    assert invoices.is_overdue(inv, today) is (days > 0)


def test_a_stored_invoice_becomes_overdue_and_stops_when_paid(db):
    iid = _issued(db)
    due = ISSUED_ON + dt.timedelta(days=30)
    inv = invoices.get(db, iid)
    assert not invoices.is_overdue(inv, due)
    assert invoices.days_overdue(inv, due + dt.timedelta(days=45)) == 45
    payments.record_payment(db, iid, 10000, "cash", ISSUED_ON)
    assert invoices.days_overdue(invoices.get(db, iid), due + dt.timedelta(days=45)) == 0


# --------------------------------------------------------------------------- from a job


def _job(db, cid: int, *, billing: str = "per_job", discount_kind: str = "none",
         discount_value: str = "0", rate: int | None = None) -> int:
    return jobs.create_job(db, jobs.JobData(
        client_id=cid, title="Spring clean-up", billing=billing,
        discount_kind=discount_kind, discount_value=discount_value,
        lines=[LineData("Mowing", 1, 6000, tax_rate_id=rate),
               LineData("Mulch (bags)", D("2.5"), 1200, tax_rate_id=rate)]))


def _visit(db, job_id: int, day: int, *, complete: bool = True) -> int:
    vid = jobs.add_visit(db, job_id, jobs.VisitData(starts_at=dt.datetime(2026, 3, day, 9, 0)))
    if complete:
        jobs.complete_visit(db, vid, jobs.ServiceLogData(minutes_spent=60))
    return vid


def _job_row(db, job_id: int) -> Job:
    with db.read() as s:
        job = s.get(Job, job_id)
        job.lines, job.visits  # noqa: B018 - load them while the session is open
        return job


def test_a_completed_per_job_job_becomes_one_draft_and_is_invoiced_once(db):
    cid = _client(db)
    job_id = _job(db, cid)
    _visit(db, job_id, 3)
    assert _job_row(db, job_id).status == "completed"
    iid = invoices.create_from_job(db, job_id)
    inv = invoices.get(db, iid)
    assert (inv.status, inv.job_id, inv.client_id) == ("draft", job_id, cid)
    assert [(ln.description, ln.total_cents) for ln in inv.lines] == [
        ("Mowing", 6000), ("Mulch (bags)", 3000)]
    job = _job_row(db, job_id)
    assert {ln.invoice_id for ln in job.lines} == {iid}
    assert [ln.job_line_id for ln in inv.lines] == [ln.id for ln in job.lines]
    assert job.status == "invoiced"
    with pytest.raises(TransitionError) as err:
        invoices.create_from_job(db, job_id)
    assert "already been invoiced" in str(err.value)
    assert _count(db, Invoice) == 1
    assert "invoice.create_from_job" in _invoice_audits(db)


def test_an_unfinished_job_is_invoiced_only_when_asked_and_keeps_its_status(db):
    cid = _client(db)
    job_id = _job(db, cid)
    _visit(db, job_id, 3, complete=False)
    with pytest.raises(TransitionError) as err:
        invoices.create_from_job(db, job_id)
    assert "not completed yet" in str(err.value)
    assert _count(db, Invoice) == 0
    iid = invoices.create_from_job(db, job_id, allow_incomplete=True)
    assert invoices.get(db, iid).total_cents == 9000
    job = _job_row(db, job_id)
    assert job.status == "scheduled" and all(ln.invoice_id == iid for ln in job.lines)
    with db.read() as s:  # what the job service asks when it completes the job later
        assert invoices.job_fully_invoiced(s, s.get(Job, job_id))


def test_deleting_a_draft_from_a_job_gives_the_work_back(db):
    cid = _client(db)
    job_id = _job(db, cid)
    _visit(db, job_id, 3)
    iid = invoices.create_from_job(db, job_id)
    invoices.delete_draft(db, iid)
    job = _job_row(db, job_id)
    assert job.status == "completed" and all(ln.invoice_id is None for ln in job.lines)
    again = invoices.create_from_job(db, job_id)
    assert invoices.get(db, again).total_cents == 9000
    assert _job_row(db, job_id).status == "invoiced"


def test_voiding_an_invoice_from_a_job_gives_the_work_back(db):
    cid = _client(db)
    job_id = _job(db, cid)
    _visit(db, job_id, 3)
    iid = invoices.create_from_job(db, job_id)
    invoices.issue(db, iid, ISSUED_ON)
    credit_notes.void(db, iid, "Wrong client", issued_on=ISSUED_ON)
    job = _job_row(db, job_id)
    assert job.status == "completed" and all(ln.invoice_id is None for ln in job.lines)
    with db.read() as s:  # the void invoice keeps its history
        assert s.scalars(select(InvoiceLine.job_line_id).where(InvoiceLine.invoice_id == iid)).all()


def test_per_visit_billing_invoices_each_completed_visit_once(db):
    cid = _client(db)
    rate = _tax(db, "5")
    job_id = _job(db, cid, billing="per_visit", discount_kind="percent", discount_value="10",
                  rate=rate)
    v1, v2, v3 = (_visit(db, job_id, day, complete=False) for day in (3, 10, 17))
    for done in (v1, v2):
        jobs.complete_visit(db, done, jobs.ServiceLogData(minutes_spent=45))
    first = invoices.create_from_job(db, job_id)
    inv = invoices.get(db, first)
    assert [ln.description for ln in inv.lines] == [
        "2026-03-03: Mowing", "2026-03-03: Mulch (bags)",
        "2026-03-10: Mowing", "2026-03-10: Mulch (bags)"]
    assert [ln.visit_id for ln in inv.lines] == [v1, v1, v2, v2]
    # 2 × $90 = $180, 10% off = $162, 5% tax = $8.10
    assert (inv.discount_kind, inv.subtotal_cents, inv.discount_cents, inv.tax_cents,
            inv.total_cents) == ("percent", 18000, 1800, 810, 17010)
    with pytest.raises(TransitionError) as err:
        invoices.create_from_job(db, job_id)
    assert "no completed visit waiting" in str(err.value)
    jobs.complete_visit(db, v3, jobs.ServiceLogData(minutes_spent=30))
    assert _job_row(db, job_id).status == "completed"
    second = invoices.create_from_job(db, job_id)
    inv2 = invoices.get(db, second)
    assert [ln.visit_id for ln in inv2.lines] == [v3, v3]
    assert (inv2.discount_kind, inv2.total_cents) == ("percent", 8505)
    job = _job_row(db, job_id)
    assert {v.id: v.invoice_id for v in job.visits} == {v1: first, v2: first, v3: second}
    assert all(ln.invoice_id is None for ln in job.lines)  # per-visit lines are reused
    assert job.status == "invoiced"


def test_a_fixed_job_discount_goes_on_the_first_invoice_only(db):
    cid = _client(db)
    job_id = _job(db, cid, billing="per_visit", discount_kind="fixed", discount_value="2500")
    v1, v2 = _visit(db, job_id, 3, complete=False), _visit(db, job_id, 10, complete=False)
    jobs.complete_visit(db, v1, jobs.ServiceLogData())
    first = invoices.get(db, invoices.create_from_job(db, job_id))
    assert (first.discount_kind, first.discount_cents, first.total_cents) == ("fixed", 2500, 6500)
    jobs.complete_visit(db, v2, jobs.ServiceLogData())
    second = invoices.get(db, invoices.create_from_job(db, job_id))
    assert (second.discount_kind, second.discount_cents, second.total_cents) == ("none", 0, 9000)


def test_a_job_with_nothing_to_invoice_is_refused_clearly(db):
    cid = _client(db)
    empty = jobs.create_job(db, jobs.JobData(client_id=cid, title="Quote visit", lines=[]))
    with pytest.raises(TransitionError) as err:
        invoices.create_from_job(db, empty, allow_incomplete=True)
    assert "no line items" in str(err.value)
    per_visit = _job(db, cid, billing="per_visit")
    _visit(db, per_visit, 3, complete=False)
    with pytest.raises(TransitionError) as err:
        invoices.create_from_job(db, per_visit)
    assert "no completed visit" in str(err.value)
    with pytest.raises(NotFound):
        invoices.create_from_job(db, 9999)
    assert _count(db, Invoice) == 0


# --------------------------------------------------------------------------- deposits


def _approved_proposal(db, cid: int, rate: int, deposit_kind: str, deposit_value: str) -> int:
    """An approved proposal: $1,000 of work, 10% off, 10% tax = $990."""
    pid = factories.make_approved_proposal(
        db, cid, lines=[LineData("Patio slabs", 1, 60000, tax_rate_id=rate),
                        LineData("Labour", 8, 5000, tax_rate_id=rate)],
        discount_kind="percent", discount_value="10",
        deposit_kind=deposit_kind, deposit_value=deposit_value)
    with db.read() as s:
        assert s.get(Proposal, pid).total_cents == 99000
    return pid


def _job_from_proposal(db, proposal_id: int) -> tuple[int, int]:
    """The proposal service's conversion: a job plus the deposit draft; returns both ids."""
    job_id = proposals.convert_to_job(db, proposal_id)
    with db.read() as s:
        deposit = s.scalar(select(Invoice.id).where(Invoice.proposal_id == proposal_id,
                                                    Invoice.kind == "deposit"))
    return job_id, deposit


def _per_visit_job_from_proposal(db, proposal_id: int) -> tuple[int, int]:
    """As the conversion does it, but billed per visit (so the job gets several invoices)."""
    with db.write() as s:
        p = s.get(Proposal, proposal_id)
        job = jobs.insert_job(
            s, client_id=p.client_id, address_id=None, title=p.title, description="",
            lines=lines.clean_lines(s, [lines.as_line_data(ln) for ln in p.lines]),
            billing="per_visit", discount_kind=p.discount_kind, discount_value=p.discount_value,
            proposal_id=p.id)
        deposit = invoices.create_deposit_draft(s, p, job, "owner")
        return job.id, deposit.id


def test_a_deposit_draft_asks_for_the_proposals_deposit_untaxed(db):
    cid = _client(db)
    pid = _approved_proposal(db, cid, _tax(db), "percent", "50")
    job_id, dep = _job_from_proposal(db, pid)
    inv = invoices.get(db, dep)
    assert (inv.kind, inv.status, inv.number, inv.client_id, inv.job_id, inv.proposal_id) == (
        "deposit", "draft", None, cid, job_id, pid)
    assert [(ln.description, ln.total_cents, ln.tax_cents) for ln in inv.lines] == [
        ("Deposit for proposal PRO-2026-0001", 49500, 0)]
    assert inv.total_cents == 49500
    assert "invoice.create_deposit" in _invoice_audits(db)


def test_a_proposal_without_a_deposit_gets_no_deposit_draft(db):
    cid = _client(db)
    pid = _approved_proposal(db, cid, _tax(db), "none", "0")
    job_id = proposals.convert_to_job(db, pid)
    assert _count(db, Invoice) == 0
    with pytest.raises(ValidationError) as err, db.write() as s:
        invoices.create_deposit_draft(s, s.get(Proposal, pid), s.get(Job, job_id), "owner")
    assert err.value.field == "deposit"
    assert _count(db, Invoice) == 0


def test_the_final_invoice_deducts_the_paid_deposit_and_taxes_the_full_work(db):
    cid = _client(db)
    pid = _approved_proposal(db, cid, _tax(db), "percent", "50")
    job_id, dep = _job_from_proposal(db, pid)
    dep_number = invoices.issue(db, dep, ISSUED_ON)
    payments.record_payment(db, dep, 49500, "bank", ISSUED_ON)
    _visit(db, job_id, 3)
    final = invoices.get(db, invoices.create_from_job(db, job_id))
    assert final.lines[-1].description == f"Deposit received ({dep_number})"
    assert (final.lines[-1].total_cents, final.lines[-1].tax_cents) == (-49500, 0)
    assert final.tax_cents == 9000  # 10% of the full $900 of discounted work
    assert final.discount_cents == 10000
    assert final.total_cents == 99000 - 49500
    assert invoices.issue(db, final.id, ISSUED_ON) == "INV-0002"


def test_a_final_invoice_the_deposit_covers_in_full_is_issued_as_paid(db):
    cid = _client(db)
    pid = _approved_proposal(db, cid, _tax(db), "percent", "100")
    job_id, dep = _job_from_proposal(db, pid)
    dep_number = invoices.issue(db, dep, ISSUED_ON)
    payments.record_payment(db, dep, 99000, "bank", ISSUED_ON)
    _visit(db, job_id, 3)
    final = invoices.get(db, invoices.create_from_job(db, job_id))
    assert final.lines[-1].description == f"Deposit received ({dep_number})"
    assert final.total_cents == 0 and final.tax_cents == 9000
    assert invoices.issue(db, final.id, ISSUED_ON) == "INV-0002"
    issued = invoices.get(db, final.id)
    # owes nothing from the start: paid, not void, and not in anyone's receivables
    assert (issued.status, issued.balance_cents, issued.paid_cents) == ("paid", 0, 0)
    assert issued.paid_at is not None
    assert jobs.get(db, job_id).status == "invoiced"
    # issued by mistake: it voids without a credit note, and the work can be invoiced again
    assert credit_notes.void(db, final.id, "Wrong visit dates", issued_on=ISSUED_ON) is None
    assert invoices.get(db, final.id).status == "void"
    again = invoices.get(db, invoices.create_from_job(db, job_id))
    assert again.total_cents == 0 and again.lines[-1].description.startswith("Deposit received")


def test_a_partly_paid_deposit_is_deducted_for_what_was_paid_and_only_once(db):
    cid = _client(db)
    pid = _approved_proposal(db, cid, _tax(db), "fixed", "30000")  # $300 in cents
    job_id, dep = _per_visit_job_from_proposal(db, pid)
    invoices.issue(db, dep, ISSUED_ON)
    payments.record_payment(db, dep, 20000, "cash", ISSUED_ON)
    v1, v2 = _visit(db, job_id, 3, complete=False), _visit(db, job_id, 10, complete=False)
    jobs.complete_visit(db, v1, jobs.ServiceLogData())
    first = invoices.get(db, invoices.create_from_job(db, job_id))
    assert first.lines[-1].total_cents == -20000
    assert first.total_cents == 99000 - 20000
    assert [ln.visit_id for ln in first.lines] == [v1, v1, None]
    jobs.complete_visit(db, v2, jobs.ServiceLogData())
    second = invoices.get(db, invoices.create_from_job(db, job_id))
    assert all(ln.unit_price_cents >= 0 for ln in second.lines)
    assert second.total_cents == 99000


def test_an_unpaid_deposit_is_not_deducted(db):
    cid = _client(db)
    pid = _approved_proposal(db, cid, _tax(db), "percent", "50")
    job_id, dep = _job_from_proposal(db, pid)
    invoices.issue(db, dep, ISSUED_ON)
    _visit(db, job_id, 3)
    final = invoices.get(db, invoices.create_from_job(db, job_id))
    assert final.total_cents == 99000
    assert not any(ln.description.startswith("Deposit received") for ln in final.lines)


def test_job_lines_claimed_by_a_draft_are_not_offered_to_another(db):
    cid = _client(db)
    job_id = _job(db, cid)
    _visit(db, job_id, 3)
    iid = invoices.create_from_job(db, job_id)
    with db.read() as s:
        claimed = s.scalars(select(JobLine.invoice_id).where(JobLine.job_id == job_id)).all()
        visits = s.scalars(select(Visit.invoice_id).where(Visit.job_id == job_id)).all()
    assert claimed == [iid, iid] and visits == [None]


def test_a_voided_final_invoice_gives_the_deposit_deduction_back_to_the_next(db):
    cid = _client(db)
    pid = _approved_proposal(db, cid, _tax(db), "percent", "50")
    job_id, dep = _job_from_proposal(db, pid)
    invoices.issue(db, dep, ISSUED_ON)
    payments.record_payment(db, dep, 49500, "bank", ISSUED_ON)
    _visit(db, job_id, 3)
    wrong = invoices.create_from_job(db, job_id)
    invoices.issue(db, wrong, ISSUED_ON)
    credit_notes.void(db, wrong, "Wrong address on the invoice", issued_on=ISSUED_ON)
    again = invoices.get(db, invoices.create_from_job(db, job_id))
    assert again.lines[-1].total_cents == -49500 and again.total_cents == 49500


def test_a_cancelled_job_is_not_invoiced(db):
    cid = _client(db)
    job_id = _job(db, cid)
    jobs.cancel_job(db, job_id, reason="Client moved away")
    with pytest.raises(TransitionError) as err:
        invoices.create_from_job(db, job_id, allow_incomplete=True)
    assert "was cancelled" in str(err.value)
    assert _count(db, Invoice) == 0


def test_two_writers_invoicing_the_same_job_invoice_it_once(db):
    cid = _client(db)
    job_id = _job(db, cid)
    _visit(db, job_id, 3)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def clerk() -> None:
        barrier.wait()
        try:
            invoices.create_from_job(db, job_id)
            outcomes.append("created")
        except DomainError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=clerk) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["Everything on job JOB-0001 has already been invoiced.", "created"]
    assert _count(db, Invoice) == 1 and _count(db, InvoiceLine) == 2
