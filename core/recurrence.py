"""Visit dates for a schedule rule: one-off, weekly, every N weeks, monthly (pure, no database).

The TUI previews these dates and :func:`core.jobs.schedule_visits` stores them. Decisions
where the brief is silent: ``until`` is inclusive; a monthly rule on the 29th–31st falls on
the month's last day in shorter months and is always computed from the first date, so it
never drifts (Jan 31 → Feb 28 → Mar 31); monthly also accepts an interval (every N months).
A rule that would make more than :data:`MAX_VISITS` visits is refused with a message rather
than silently cut short, so nobody discovers months later that the visits stopped.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from core.errors import ValidationError

KINDS = ("once", "weekly", "every_n_weeks", "monthly")
RECURRING_KINDS = ("weekly", "every_n_weeks", "monthly")
MAX_VISITS = 500
MAX_WEEK_INTERVAL = 52
MAX_MONTH_INTERVAL = 12


@dataclass(frozen=True)
class Rule:
    """How often visits repeat. Recurring rules end at ``until`` OR after ``count`` visits."""

    kind: str = "once"
    interval: int = 1  # weeks for weekly/every_n_weeks, months for monthly
    until: dt.date | None = None
    count: int | None = None

    @property
    def is_recurring(self) -> bool:
        return self.kind in RECURRING_KINDS


def validate_rule(rule: Rule, start: dt.date) -> Rule:
    """Check a rule against its first date; raise :class:`ValidationError` naming the field."""
    if rule.kind not in KINDS:
        raise ValidationError("repeat", f"must be one of: {', '.join(KINDS)}")
    if rule.kind == "once":
        if rule.until is not None or rule.count is not None:
            raise ValidationError("repeat", "a one-off visit has no end date or number of visits")
        return Rule("once")
    interval = rule.interval
    if isinstance(interval, bool) or not isinstance(interval, int):
        raise ValidationError("interval", "must be a whole number")
    if rule.kind == "weekly" and interval != 1:
        raise ValidationError("interval", "weekly means every 1 week; use every N weeks")
    top = MAX_MONTH_INTERVAL if rule.kind == "monthly" else MAX_WEEK_INTERVAL
    if not 1 <= interval <= top:
        unit = "months" if rule.kind == "monthly" else "weeks"
        raise ValidationError("interval", f"must be between 1 and {top} {unit}")
    if (rule.until is None) == (rule.count is None):
        raise ValidationError(
            "ends", "choose either an end date or a number of visits for a repeating schedule"
        )
    if rule.count is not None:
        if isinstance(rule.count, bool) or not isinstance(rule.count, int) or rule.count < 1:
            raise ValidationError("count", "must be a whole number of visits, at least 1")
        if rule.count > MAX_VISITS:
            raise ValidationError("count", f"at most {MAX_VISITS} visits can be scheduled at once")
    if rule.until is not None and rule.until < start:
        raise ValidationError("until", f"the end date {rule.until} is before the first visit {start}")
    return Rule(rule.kind, interval, rule.until, rule.count)


def _add_months(start: dt.date, months: int) -> dt.date:
    """``start`` moved by ``months``, clamped to the month's last day (computed from start)."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(start.day, last))


def _nth(start: dt.date, rule: Rule, n: int) -> dt.date:
    if rule.kind == "monthly":
        return _add_months(start, n * rule.interval)
    return start + dt.timedelta(weeks=n * rule.interval)


def dates(start: dt.date, rule: Rule) -> list[dt.date]:
    """Every visit date of ``rule`` starting on ``start`` (which is always the first)."""
    rule = validate_rule(rule, start)
    if rule.kind == "once":
        return [start]
    out: list[dt.date] = []
    n = 0
    while True:
        try:
            day = _nth(start, rule, n)
        except (OverflowError, ValueError):  # past year 9999: nothing more to schedule
            break
        if rule.count is not None and n >= rule.count:
            break
        if rule.until is not None and day > rule.until:
            break
        if len(out) == MAX_VISITS:
            raise ValidationError(
                "until",
                f"this schedule would create more than {MAX_VISITS} visits; "
                "choose an earlier end date",
            )
        out.append(day)
        n += 1
    return out


def visit_starts(start_date: dt.date, start_time: dt.time, rule: Rule) -> list[dt.datetime]:
    """The start of every visit: each date of the rule at ``start_time`` (local wall-clock)."""
    return [dt.datetime.combine(day, start_time) for day in dates(start_date, rule)]
