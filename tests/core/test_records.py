"""The read models behind the invoice, task and schedule screens, on both backends: an
invoice with everything about it, refusals that say exactly what the services say, task
links labelled, and a visit as the move dialog needs it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core import credit_notes, invoices, jobs, payments, records, tasks
from core.errors import DomainError, NotFound, TransitionError, ValidationError
from core.lines import LineData
from tests.core.factories import (
    make_client,
    make_job,
    make_proposal,
    make_scheduled_job,
    make_task,
    make_tax_rate,
    visit_ids,
)

ON = dt.date(2026, 3, 2)
TODAY = dt.date(2026, 3, 20)


def _draft(db, client_id: int, lines: list[LineData] | None = None) -> int:
    return invoices.create_blank(db, client_id, lines if lines is not None
                                 else [LineData("Lawn mowing", Decimal(1), 10_000)])


def _issued(db, client_id: int, price: int = 10_000) -> int:
    iid = _draft(db, client_id, [LineData("Lawn mowing", Decimal(1), price)])
    invoices.issue(db, iid, ON)
    return iid


def test_invoice_view_holds_lines_payments_refunds_credit_notes_and_credit(db):
    cid = make_client(db, "Acme Lawn Care")
    tax = make_tax_rate(db, "Sales tax", "8.875")
    iid = invoices.create_blank(db, cid, [
        LineData("Lawn mowing", Decimal("1.5"), 4_000, tax),
        LineData("Hedge trimming", Decimal(2), 6_500),
    ], notes="Gate code 1234")
    number = invoices.issue(db, iid, ON)
    pay = payments.record_payment(db, iid, 5_000, "check", ON, "Check 1001")
    payments.refund(db, pay, 1_000, "Broken gate", ON)
    credit_notes.issue_credit_note(db, iid, 2_000, "Goodwill", issued_on=ON)
    other = _issued(db, cid, 1_000)
    payments.record_payment(db, other, 1_500, "cash", ON, overpayment="credit")

    view = records.invoice_view(db, iid, today=dt.date(2026, 4, 11))

    assert (view.number, view.status, view.client_name, view.label) == (
        number, "partially_paid", "Acme Lawn Care", number)
    assert [(line.description, line.quantity, line.unit_price_cents, line.tax_rate)
            for line in view.lines] == [
        ("Lawn mowing", Decimal("1.5"), 4_000, Decimal("8.875")),
        ("Hedge trimming", Decimal(2), 6_500, Decimal(0)),
    ]
    # 60.00 + 5.33 tax (half-up) + 130.00
    assert (view.subtotal_cents, view.tax_cents, view.total_cents) == (19_000, 533, 19_533)
    assert (view.paid_cents, view.credited_cents, view.balance_cents) == (4_000, 2_000, 13_533)
    assert [(p.method, p.reference, p.amount_cents, p.refunded_cents, p.refundable_cents)
            for p in view.payments] == [("check", "Check 1001", 5_000, 1_000, 4_000)]
    assert [(r.amount_cents, r.reason) for r in view.refunds] == [(1_000, "Broken gate")]
    assert [(c.amount_cents, c.reason, c.voids_invoice) for c in view.credit_notes] == [
        (2_000, "Goodwill", False)]
    assert view.client_credit_cents == 500
    assert view.due_date == dt.date(2026, 4, 1) and view.days_overdue == 10
    assert view.notes == "Gate code 1234"


def test_a_draft_is_labelled_by_its_id_and_a_missing_invoice_is_not_found(db):
    cid = make_client(db)
    iid = _draft(db, cid)
    view = records.invoice_view(db, iid, today=TODAY)
    assert view.number is None and view.label == f"draft invoice #{iid}"
    assert view.days_overdue == 0 and view.payments == ()
    with pytest.raises(NotFound):
        records.invoice_view(db, iid + 100)


def _attempt(db, iid: int, action: str, payment_id: int | None) -> None:
    """Run the service behind ``action`` the way the screens do."""
    if action == "edit":
        invoices.edit_draft(db, iid, invoices.as_invoice_data(invoices.get(db, iid)))
    elif action == "delete":
        invoices.delete_draft(db, iid)
    elif action == "issue":
        invoices.issue(db, iid, ON)
    elif action == "payment":
        payments.record_payment(db, iid, 1, "cash", ON)
    elif action == "apply_credit":
        payments.apply_credit(db, iid, applied_on=ON)
    elif action == "refund":
        assert payment_id is not None
        payments.refund(db, payment_id, 1, "", ON)
    elif action == "credit_note":
        credit_notes.issue_credit_note(db, iid, 1, "Goodwill", issued_on=ON)
    elif action == "void":
        credit_notes.void(db, iid, "Cancelled", issued_on=ON)


def _make_state(db, state: str) -> tuple[int, int | None]:
    cid = make_client(db, f"Client {state}")
    if state == "empty_draft":
        return _draft(db, cid, []), None
    if state == "draft":
        return _draft(db, cid), None
    iid = _issued(db, cid)
    payment_id = None
    if state in ("partly_paid", "paid", "refunded"):
        amount = 4_000 if state == "partly_paid" else 10_000
        payment_id = payments.record_payment(db, iid, amount, "cash", ON)
    if state == "refunded":
        payments.refund(db, payment_id, 10_000, "", ON)
    if state == "void":
        credit_notes.void(db, iid, "Cancelled", issued_on=ON)
    if state == "with_credit":
        other = _issued(db, cid, 1_000)
        payments.record_payment(db, other, 3_000, "cash", ON, overpayment="credit")
    return iid, payment_id


STATES = ("empty_draft", "draft", "issued", "partly_paid", "paid", "refunded", "void",
          "with_credit")


@pytest.mark.parametrize("state", STATES)
def test_refusals_say_exactly_what_the_services_say(db, state):
    """For every state and action: refused here if and only if the service refuses, and with
    the same words (so the key says why before a dialog asks for anything)."""
    iid, payment_id = _make_state(db, state)
    for action in records.INVOICE_ACTIONS:
        view = records.invoice_view(db, iid, today=TODAY)
        refusal = records.invoice_refusal(view, action)
        if action == "refund" and not view.refundable_payments:
            assert refusal == f"There is no payment on {view.label} left to refund."
            continue  # the screen has no payment to offer, so there is no service call
        try:
            _attempt(db, iid, action, view.refundable_payments[0].id if action == "refund"
                     else payment_id)
        except (TransitionError, ValidationError) as exc:
            shown = (f"{exc.field[:1].upper()}{exc.field[1:]}: {exc.message}"
                     if isinstance(exc, ValidationError) else str(exc))
            assert refusal == shown, f"{state}/{action}"
        else:
            assert refusal is None, f"{state}/{action}: predicted '{refusal}' but it worked"
            # the action changed the invoice: start again from the state for the next one
            iid, payment_id = _make_state(db, state)


def test_an_unknown_action_is_a_programming_error(db):
    view = records.invoice_view(db, _draft(db, make_client(db)), today=TODAY)
    with pytest.raises(ValueError):
        records.invoice_refusal(view, "launch")


def test_linked_records_label_every_kind_and_say_when_one_is_gone(db):
    cid = make_client(db, "Brook Farm")
    pid = make_proposal(db, cid, title="Hedges")
    job = make_scheduled_job(db, cid, title="Gutters")
    visit = visit_ids(db, job)[0]
    iid = _draft(db, cid)
    issued = _issued(db, cid)
    number = invoices.get(db, issued).number
    refs = [("client", cid), ("proposal", pid), ("job", job), ("visit", visit),
            ("invoice", iid), ("invoice", issued), ("job", 9999)]

    found = records.linked_records(db, refs)

    assert found["client", cid].label == "Client Brook Farm"
    assert found["proposal", pid].label == "Proposal draft Hedges"
    assert found["job", job].label.startswith("Job JOB-") and found["job", job].label.endswith("Gutters")
    assert found["visit", visit].job_id == job and found["visit", visit].day is not None
    assert found["visit", visit].label == "Visit JOB-0001 10 Mar 09:00"
    assert found["invoice", iid].label == f"Draft invoice #{iid}"
    assert found["invoice", issued].label == f"Invoice {number}"
    assert all(found[r].client_id == cid for r in refs[:-1])
    assert found["job", 9999] == records.LinkedRecord("job", 9999, "(deleted job)", False, None)


def test_task_view_reads_what_the_edit_form_needs(db):
    cid = make_client(db)
    tid = make_task(db, "Order mulch", notes="Cedar, 10 bags", due_date="2026-03-21",
                    priority="high", linked_type="client", linked_id=cid)
    view = records.task_view(db, tid)
    assert (view.title, view.notes, view.due_date, view.priority, view.status) == (
        "Order mulch", "Cedar, 10 bags", dt.date(2026, 3, 21), "high", "open")
    assert (view.linked_type, view.linked_id, view.version) == ("client", cid, 1)
    tasks.complete_task(db, tid)
    assert records.task_view(db, tid).version == 2
    with pytest.raises(NotFound):
        records.task_view(db, tid + 1)


def test_visit_view_and_move_refusals_match_the_service(db):
    job = make_job(db, title="Patio", schedule=jobs.ScheduleData(
        start_date="2026-03-10", start_time="09:00", duration_minutes=90))
    visit = visit_ids(db, job)[0]
    view = records.visit_view(db, visit)
    assert (view.starts_at, view.duration_minutes, view.status) == (
        dt.datetime(2026, 3, 10, 9, 0), 90, "scheduled")
    assert view.job_title == "Patio" and records.visit_move_refusal(view) is None

    jobs.start_visit(db, visit)
    for finish in (None, "complete"):
        if finish:
            jobs.complete_visit(db, visit, jobs.ServiceLogData(minutes_spent=30),
                                today=dt.date(2026, 3, 10))
        view = records.visit_view(db, visit)
        refusal = records.visit_move_refusal(view)
        with pytest.raises(DomainError) as refused:
            jobs.move_visit(db, visit, jobs.VisitData(dt.datetime(2026, 3, 11, 9, 0)))
        assert refusal == str(refused.value)
    with pytest.raises(NotFound):
        records.visit_view(db, visit + 100)
