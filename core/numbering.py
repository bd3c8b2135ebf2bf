"""Gapless document numbers.

Each document type has a pattern (``INV-{seq:04}``, ``PRO-{year}-{seq:04}``) from settings.
The counter lives in ``number_sequences`` and is advanced inside the caller's transaction:
on SQLite the write transaction already holds the database lock (``BEGIN IMMEDIATE``), on
PostgreSQL the row is locked with ``SELECT ... FOR UPDATE``. So a number is used if and only
if the transaction that took it commits: no gaps, no duplicates, even with two writers.
A pattern with ``{year}`` counts from 1 again each year.
"""

from __future__ import annotations

import datetime as dt
import string

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.errors import ValidationError
from core.models import NumberSequence

DOC_TYPES = ("invoice", "proposal", "job", "credit_note")
DEFAULT_PATTERNS = {
    "invoice": "INV-{seq:04}",
    "proposal": "PRO-{year}-{seq:04}",
    "job": "JOB-{seq:04}",
    "credit_note": "CN-{seq:04}",
}
_ALLOWED_FIELDS = {"seq", "year", "month"}


def validate_pattern(pattern: str, field: str = "pattern") -> str:
    if not pattern or len(pattern) > 30:
        raise ValidationError(field, "must be 1–30 characters and contain {seq}")
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None}
    except ValueError as exc:
        raise ValidationError(field, f"is not a valid pattern ({exc})") from None
    if "seq" not in names:
        raise ValidationError(field, "must contain {seq}, e.g. INV-{seq:04}")
    unknown = names - _ALLOWED_FIELDS
    if unknown:
        raise ValidationError(field, f"unknown placeholder {{{sorted(unknown)[0]}}} (use seq, year, month)")
    try:
        render(pattern, 1, dt.date(2026, 1, 1))
    except (ValueError, KeyError, IndexError) as exc:
        raise ValidationError(field, f"is not a valid pattern ({exc})") from None
    return pattern


def render(pattern: str, seq: int, on: dt.date) -> str:
    return pattern.format(seq=seq, year=on.year, month=f"{on.month:02d}")


def scope_for(pattern: str, on: dt.date) -> str:
    if "{year" in pattern and "{month" in pattern:
        return f"{on.year}-{on.month:02d}"
    if "{year" in pattern:
        return str(on.year)
    return ""


def next_number(session: Session, doc_type: str, pattern: str, on: dt.date | None = None) -> str:
    """Take the next number for ``doc_type`` inside the caller's write transaction."""
    if doc_type not in DOC_TYPES:
        raise ValueError(doc_type)
    on = on or dt.date.today()
    scope = scope_for(pattern, on)
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # Two first-ever issuers must not both create the counter: insert-or-ignore, then lock.
    session.execute(
        insert(NumberSequence)
        .values(doc_type=doc_type, scope=scope, next_value=1)
        .on_conflict_do_nothing()
    )
    stmt = select(NumberSequence).where(
        NumberSequence.doc_type == doc_type, NumberSequence.scope == scope
    )
    if dialect == "postgresql":
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).one()
    seq = row.next_value
    row.next_value = seq + 1
    session.flush()
    return render(pattern, seq, on)


def preview(pattern: str, on: dt.date | None = None, seq: int = 1) -> str:
    """What the next number would look like, for the settings screen."""
    return render(validate_pattern(pattern), seq, on or dt.date.today())
