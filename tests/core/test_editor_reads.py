"""Reads the TUI editors use, on both backends: the price book lookup as you type
(core.catalog.search_items), a proposal with its lines as the editor's input
(core.proposals.get / as_proposal_data) and a job with its lines and visits (core.jobs.get)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import catalog, jobs, proposals
from core.errors import NotFound
from core.recurrence import Rule
from core.text import clean_line
from tests.core.factories import (
    TODAY,
    line,
    make_client_with_address,
    make_item,
    make_job,
    make_proposal,
    make_tax_rate,
    schedule,
)


def _names(rows) -> list[str]:
    return [r.name for r in rows]


def test_matches_ignore_case_and_names_starting_with_the_text_come_first(db):
    rate = make_tax_rate(db, "State", "6.25")
    make_item(db, "Window cleaning", 4500, tax_rate_id=rate)
    make_item(db, "Gutter cleaning", 9000)
    make_item(db, "Cleaning supplies", 1200)
    make_item(db, "Lawn mowing", 3000)
    rows = catalog.search_items(db, "CLEAN")
    assert _names(rows) == ["Cleaning supplies", "Gutter cleaning", "Window cleaning"]
    window = rows[2]
    assert (window.unit_price_cents, window.tax_rate_id, window.tax_rate) == (
        4500, rate, Decimal("6.25"))


def test_inactive_items_and_empty_text_find_nothing(db):
    old = make_item(db, "Old service", 100)
    catalog.deactivate_item(db, old)
    assert catalog.search_items(db, "old") == []
    assert catalog.search_items(db, "   ") == []


def test_limit_caps_the_matches(db):
    for n in range(5):
        make_item(db, f"Visit {n}", 100 * (n + 1))
    assert _names(catalog.search_items(db, "visit", limit=3)) == ["Visit 0", "Visit 1", "Visit 2"]


def test_like_wildcards_typed_by_the_user_are_literal(db):
    make_item(db, "50% off sticker", 10)
    make_item(db, "Fifty off", 10)
    make_item(db, "snake_case", 10)
    make_item(db, "snakeXcase", 10)
    assert _names(catalog.search_items(db, "%")) == ["50% off sticker"]
    assert _names(catalog.search_items(db, "e_c")) == ["snake_case"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(typed=st.text(min_size=1, max_size=12))
def test_any_typed_text_is_safe_and_every_match_contains_it(db, typed):
    if not catalog.search_items(db, "deep clean"):  # the db fixture is shared by the examples
        make_item(db, "Deep clean", 100)
    wanted = clean_line(typed).lower()
    for row in catalog.search_items(db, typed):
        assert wanted in row.name.lower()


def test_a_proposal_reads_back_as_the_input_that_saves_it_unchanged(db):
    rate = make_tax_rate(db, "State", "6.25")
    client, address = make_client_with_address(db)
    item = make_item(db, "Window cleaning", 4500)
    pid = make_proposal(db, client, address_id=address, title="Quarterly",
                        lines=[line("Windows\nall floors", "2.5", 4500, rate, price_book_item_id=item),
                               line("Gutters", 1, 9000, discount_kind="percent",
                                    discount_value="10")],
                        discount_kind="fixed", discount_value="500", deposit_kind="percent",
                        deposit_value="25", terms="Net 7", notes="Dog in yard")
    p = proposals.get(db, pid)
    assert [ln.description for ln in p.lines] == ["Windows\nall floors", "Gutters"]
    data = proposals.as_proposal_data(p)
    assert (data.client_id, data.address_id, data.title, data.terms, data.notes) == (
        client, address, "Quarterly", "Net 7", "Dog in yard")
    assert (data.deposit_kind, data.deposit_value, data.discount_kind, data.discount_value) == (
        "percent", Decimal(25), "fixed", Decimal(500))
    proposals.edit_proposal(db, pid, data, expected_version=p.version, today=TODAY)
    again = proposals.get(db, pid)
    assert again.version == p.version + 1
    assert [(ln.description, ln.quantity, ln.unit_price_cents, ln.tax_rate_id,
             ln.discount_kind, ln.discount_value, ln.price_book_item_id, ln.total_cents)
            for ln in again.lines] == [
        (ln.description, ln.quantity, ln.unit_price_cents, ln.tax_rate_id, ln.discount_kind,
         ln.discount_value, ln.price_book_item_id, ln.total_cents) for ln in p.lines]
    assert (again.total_cents, again.valid_until, again.notes) == (
        p.total_cents, p.valid_until, p.notes)


def test_a_job_reads_with_its_lines_and_visits_in_start_order(db):
    job_id = make_job(db, lines=[line("Mow", 1, 4500), line("Edge", 1, 1500)],
                      schedule=schedule(TODAY, "08:30", rule=Rule("weekly", count=3)))
    job = jobs.get(db, job_id)
    assert [ln.description for ln in job.lines] == ["Mow", "Edge"]
    assert [v.starts_at.date() for v in job.visits] == [
        TODAY, TODAY + dt.timedelta(weeks=1), TODAY + dt.timedelta(weeks=2)]
    assert job.status == "scheduled" and job.number == "JOB-0001"


def test_reading_a_missing_record_says_so(db):
    with pytest.raises(NotFound):
        proposals.get(db, 999)
    with pytest.raises(NotFound):
        jobs.get(db, 999)
