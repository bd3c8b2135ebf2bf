"""Business settings: defaults, validation naming the field, numbering pattern previews."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core import business, numbering
from core.errors import ValidationError
from core.models import AuditEvent


def test_defaults_until_set_then_stored_for_every_user(db):
    assert not business.is_set_up(db)
    assert business.load(db, "numbering")["invoice"] == "INV-{seq:04}"
    business.update(db, "business", {"name": "Green Thumb Lawn Care", "email": "hi@green.example"})
    assert business.is_set_up(db)
    profile = business.load(db, "business")
    assert profile["name"] == "Green Thumb Lawn Care" and profile["currency"] == "USD"
    with db.read() as s:
        event = s.scalars(select(AuditEvent)).one()
    assert event.action == "settings.update" and event.after["name"] == "Green Thumb Lawn Care"


@pytest.mark.parametrize(
    ("key", "changes", "field"),
    [
        ("business", {"name": ""}, "business name"),
        ("business", {"name": "X", "email": "nope"}, "business email"),
        ("business", {"name": "X", "currency": "XXX"}, "currency"),
        ("numbering", {"invoice": "INV-"}, "invoice number pattern"),
        ("numbering", {"proposal": "P-{seq}-{day}"}, "proposal number pattern"),
        ("defaults", {"payment_terms_days": "thirty"}, "payment terms (days)"),
        ("defaults", {"payment_terms_days": 400}, "payment terms (days)"),
    ],
)
def test_bad_settings_name_the_field_and_change_nothing(db, key, changes, field):
    before = business.load(db, key)
    with pytest.raises(ValidationError) as err:
        business.update(db, key, changes)
    assert err.value.field == field
    assert business.load(db, key) == before


def test_pattern_preview_and_year_scope():
    assert numbering.preview("INV-{seq:04}", seq=7) == "INV-0007"
    assert numbering.preview("PRO-{year}-{seq:03}", dt.date(2027, 1, 2)) == "PRO-2027-001"
    assert numbering.scope_for("PRO-{year}-{seq}", dt.date(2027, 5, 1)) == "2027"
    assert numbering.scope_for("INV-{seq}", dt.date(2027, 5, 1)) == ""


def test_year_patterns_restart_each_year(db):
    with db.write() as s:
        a = numbering.next_number(s, "proposal", "PRO-{year}-{seq:04}", dt.date(2026, 12, 31))
        b = numbering.next_number(s, "proposal", "PRO-{year}-{seq:04}", dt.date(2026, 12, 31))
        c = numbering.next_number(s, "proposal", "PRO-{year}-{seq:04}", dt.date(2027, 1, 1))
    assert (a, b, c) == ("PRO-2026-0001", "PRO-2026-0002", "PRO-2027-0001")


def test_a_rolled_back_number_is_reused_so_there_is_no_gap(db):
    with pytest.raises(RuntimeError), db.write() as s:
        numbering.next_number(s, "invoice", "INV-{seq:04}")
        raise RuntimeError("the issuing transaction failed")
    with db.write() as s:
        assert numbering.next_number(s, "invoice", "INV-{seq:04}") == "INV-0001"
