"""Gapless numbering on both backends: patterns, scopes, rollback, and two processes issuing
invoices at the same moment on the same database."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import queue as queue_module
import time
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import clients, invoices, numbering
from core.clients import ClientData
from core.db import Database
from core.errors import ValidationError
from core.lines import LineData
from core.models import Invoice

ON = dt.date(2026, 3, 2)
PER_PROCESS = 25


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("INV-", "must contain {seq}"),
        ("", "must be 1–30 characters"),
        ("INV-{seq:04}-" + "x" * 30, "must be 1–30 characters"),
        ("INV-{seq:04}-{client}", "unknown placeholder {client}"),
        ("INV-{seq", "is not a valid pattern"),
        ("INV-{seq:zz}", "is not a valid pattern"),
    ],
)
def test_bad_patterns_are_refused_naming_the_field(pattern, message):
    with pytest.raises(ValidationError) as err:
        numbering.validate_pattern(pattern, "invoice number pattern")
    assert err.value.field == "invoice number pattern"
    assert message in err.value.message


def test_preview_shows_what_the_next_number_looks_like():
    assert numbering.preview("INV-{seq:04}", ON) == "INV-0001"
    assert numbering.preview("{year}/{month}/{seq}", ON, seq=42) == "2026/03/42"


def test_numbers_count_per_document_type_and_per_year(db):
    with db.write() as s:
        got = [
            numbering.next_number(s, "invoice", "INV-{seq:04}", ON),
            numbering.next_number(s, "invoice", "INV-{seq:04}", ON),
            numbering.next_number(s, "credit_note", "CN-{seq:04}", ON),
            numbering.next_number(s, "proposal", "PRO-{year}-{seq:04}", dt.date(2026, 12, 31)),
            numbering.next_number(s, "proposal", "PRO-{year}-{seq:04}", dt.date(2027, 1, 1)),
            numbering.next_number(s, "proposal", "PRO-{year}-{seq:04}", dt.date(2026, 6, 1)),
        ]
    assert got == ["INV-0001", "INV-0002", "CN-0001", "PRO-2026-0001", "PRO-2027-0001",
                   "PRO-2026-0002"]


def test_a_number_taken_in_a_rolled_back_transaction_is_taken_again(db):
    with pytest.raises(RuntimeError), db.write() as s:
        assert numbering.next_number(s, "invoice", "INV-{seq:04}", ON) == "INV-0001"
        raise RuntimeError("the rest of the use case failed")
    with db.write() as s:
        assert numbering.next_number(s, "invoice", "INV-{seq:04}", ON) == "INV-0001"


def test_unknown_document_types_are_a_programming_error(db):
    with pytest.raises(ValueError), db.write() as s:
        numbering.next_number(s, "receipt", "R-{seq}", ON)


# --------------------------------------------------------------------------- two processes


def _issue_in_a_separate_process(url: str, invoice_ids: list[int], barrier, results) -> None:
    """Runs in a spawned process: its own engine on the same database, then issue in a loop."""
    db = Database(url)
    numbers: list[str] = []
    errors: list[str] = []
    try:
        barrier.wait(120)  # both processes start issuing at the same moment
        for invoice_id in invoice_ids:
            try:
                numbers.append(invoices.issue(db, invoice_id, ON))
            except Exception as exc:  # report everything to the parent, never hang it
                errors.append(f"{type(exc).__name__}: {exc}")
            # SQLite's busy handler sleeps 1-100 ms between retries; without a breath the
            # process holding the lock takes it straight back and the other only gets in once
            # it has finished, so the two would not interleave (measured: 25 then 25).
            time.sleep(0.01)
    finally:
        db.dispose()
        results.put((numbers, errors))


def test_two_processes_issuing_at_once_get_gapless_unique_numbers(db):
    cid = clients.create_client(db, ClientData(name="Busy Client"))
    drafts = [invoices.create_blank(db, cid, [LineData(f"Visit {i}", Decimal(1), 1000 + i)])
              for i in range(2 * PER_PROCESS)]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    # interleaved halves, so both processes work through the same stretch of invoices
    procs = [ctx.Process(target=_issue_in_a_separate_process,
                         args=(db.url, drafts[k::2], barrier, results)) for k in range(2)]
    for p in procs:
        p.start()
    outcomes = []
    try:
        for _ in procs:
            outcomes.append(results.get(timeout=180))
    except queue_module.Empty:  # pragma: no cover - only when a process died
        pytest.fail("an issuing process did not report back")
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():  # pragma: no cover
                p.kill()
    assert [errors for _numbers, errors in outcomes] == [[], []]
    assert [len(numbers) for numbers, _errors in outcomes] == [PER_PROCESS, PER_PROCESS]
    for numbers, _errors in outcomes:
        assert numbers == sorted(numbers)  # each process saw the counter only go up
    issued = sorted(n for numbers, _errors in outcomes for n in numbers)
    assert issued == [f"INV-{i:04d}" for i in range(1, 2 * PER_PROCESS + 1)]
    with db.read() as s:
        stored = s.execute(select(Invoice.id, Invoice.number, Invoice.status)
                           .order_by(Invoice.number)).all()
    assert [r.number for r in stored] == issued
    assert {r.status for r in stored} == {"issued"}
    assert sorted(r.id for r in stored) == sorted(drafts)
