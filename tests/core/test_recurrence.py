"""Visit dates from a schedule rule: the dates a business owner sees in the preview."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ValidationError
from core.recurrence import MAX_VISITS, Rule, dates, visit_starts

D = dt.date


def test_one_off_is_a_single_visit_at_the_given_time():
    assert visit_starts(D(2026, 3, 10), dt.time(8, 30), Rule()) == [dt.datetime(2026, 3, 10, 8, 30)]


def test_weekly_by_count():
    assert dates(D(2026, 3, 10), Rule("weekly", count=3)) == [
        D(2026, 3, 10), D(2026, 3, 17), D(2026, 3, 24)]


def test_every_two_weeks_until_is_inclusive():
    assert dates(D(2026, 1, 1), Rule("every_n_weeks", 2, until=D(2026, 1, 29))) == [
        D(2026, 1, 1), D(2026, 1, 15), D(2026, 1, 29)]


def test_until_the_start_day_gives_one_visit():
    assert dates(D(2026, 5, 5), Rule("weekly", until=D(2026, 5, 5))) == [D(2026, 5, 5)]


def test_monthly_from_jan_31_uses_the_last_day_without_drifting():
    assert dates(D(2026, 1, 31), Rule("monthly", count=6)) == [
        D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30), D(2026, 5, 31),
        D(2026, 6, 30)]


def test_monthly_on_the_29th_through_a_leap_february():
    assert dates(D(2027, 12, 29), Rule("monthly", count=4)) == [
        D(2027, 12, 29), D(2028, 1, 29), D(2028, 2, 29), D(2028, 3, 29)]
    assert dates(D(2026, 1, 30), Rule("monthly", count=3)) == [
        D(2026, 1, 30), D(2026, 2, 28), D(2026, 3, 30)]


def test_weekly_from_leap_day_crosses_into_march():
    assert dates(D(2028, 2, 29), Rule("weekly", count=2)) == [D(2028, 2, 29), D(2028, 3, 7)]


def test_every_three_months_keeps_the_day():
    assert dates(D(2026, 11, 30), Rule("monthly", 3, count=3)) == [
        D(2026, 11, 30), D(2027, 2, 28), D(2027, 5, 30)]


def test_exactly_the_cap_is_allowed():
    assert len(dates(D(2026, 1, 1), Rule("weekly", count=MAX_VISITS))) == MAX_VISITS
    assert len(dates(D(2026, 1, 1), Rule("weekly", until=D(2026, 1, 1) + dt.timedelta(weeks=499)))) == 500


@pytest.mark.parametrize(
    ("rule", "field", "message"),
    [
        (Rule("weekly", count=MAX_VISITS + 1), "count", "at most 500 visits"),
        (Rule("weekly", until=D(2040, 1, 1)), "until", "more than 500 visits"),
        (Rule("weekly"), "ends", "either an end date or a number of visits"),
        (Rule("weekly", until=D(2026, 6, 1), count=3), "ends", "either an end date"),
        (Rule("weekly", count=0), "count", "at least 1"),
        (Rule("weekly", until=D(2025, 12, 31)), "until", "before the first visit"),
        (Rule("weekly", 2, count=3), "interval", "every N weeks"),
        (Rule("every_n_weeks", 0, count=3), "interval", "between 1 and 52"),
        (Rule("every_n_weeks", 53, count=3), "interval", "between 1 and 52"),
        (Rule("monthly", 13, count=3), "interval", "between 1 and 12"),
        (Rule("daily", count=3), "repeat", "must be one of"),
        (Rule("once", count=2), "repeat", "no end date"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(rule, field, message):
    with pytest.raises(ValidationError, match=message) as err:
        dates(D(2026, 1, 1), rule)
    assert err.value.field == field


starts = st.dates(min_value=D(2000, 1, 1), max_value=D(2090, 12, 31))


@given(start=starts, interval=st.integers(1, 12), count=st.integers(1, 60))
def test_monthly_never_drifts(start, interval, count):
    got = dates(start, Rule("monthly", interval, count=count))
    assert len(got) == count
    for n, day in enumerate(got):
        months = start.month - 1 + n * interval
        year, month = start.year + months // 12, months % 12 + 1
        assert (day.year, day.month) == (year, month)
        assert day.day == min(start.day, calendar.monthrange(year, month)[1])


@given(start=starts, interval=st.integers(1, 52), count=st.integers(1, 80))
def test_weekly_visits_are_evenly_spaced_on_the_same_weekday(start, interval, count):
    got = dates(start, Rule("every_n_weeks", interval, count=count))
    assert got[0] == start and len(got) == count
    assert all(b - a == dt.timedelta(weeks=interval) for a, b in zip(got, got[1:], strict=False))


@given(start=starts, kind=st.sampled_from(["weekly", "every_n_weeks", "monthly"]),
       interval=st.integers(1, 4), days=st.integers(0, 3 * 366))
def test_until_includes_every_date_up_to_it_and_none_after(start, kind, interval, days):
    interval = 1 if kind == "weekly" else interval
    until = start + dt.timedelta(days=days)
    got = dates(start, Rule(kind, interval, until=until))
    assert got[0] == start and got[-1] <= until
    # the next date of the same rule would fall after `until`
    longer = dates(start, Rule(kind, interval, count=len(got) + 1))
    assert longer[:-1] == got and longer[-1] > until


@given(start=starts, count=st.integers(1, 30), at=st.times())
def test_visit_starts_keep_the_time_of_day(start, count, at):
    got = visit_starts(start, at, Rule("weekly", count=count))
    assert [g.date() for g in got] == dates(start, Rule("weekly", count=count))
    assert {g.time() for g in got} == {at}
