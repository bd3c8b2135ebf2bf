"""Business settings: defaults, validation naming the field, numbering pattern previews."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core import business, numbering
from core.errors import StaleRecord, ValidationError
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


def _audit_count(db) -> int:
    with db.read() as s:
        return len(s.scalars(select(AuditEvent)).all())


def test_a_save_from_an_older_version_is_refused_and_writes_nothing(db):
    """Two people edit the business settings: the later save, started from the version
    before the first one's, is refused instead of silently overwriting it."""
    values, versions = business.load_versioned(db, ["business", "defaults"])
    assert versions == {"business": 0, "defaults": 0}  # never saved: the defaults apply
    assert values["business"]["name"] == ""
    saved = business.save_several(
        db, {"business": {"name": "Green Thumb"}, "defaults": {"payment_terms_days": 14}},
        expected_versions=versions)
    assert saved.versions == {"business": 1, "defaults": 1}
    # another user, who opened Settings at the same time, saves over it
    with pytest.raises(StaleRecord) as err:
        business.update_several(
            db, {"business": {"name": "Blue Sky"}, "defaults": {"payment_terms_days": 60}},
            expected_versions=versions)
    assert "business profile was changed elsewhere" in str(err.value)
    assert "Nothing was saved" in str(err.value)
    assert business.load(db, "business")["name"] == "Green Thumb"
    assert business.load(db, "defaults")["payment_terms_days"] == 14
    events = _audit_count(db)
    # one key stale, the other current: still nothing at all is written
    with pytest.raises(StaleRecord):
        business.update_several(
            db, {"defaults": {"payment_terms_days": 45}, "business": {"name": "Blue Sky"}},
            expected_versions={"defaults": 1, "business": 0})
    assert business.load(db, "defaults")["payment_terms_days"] == 14
    assert _audit_count(db) == events
    # a save from the current version goes through and moves the version on
    assert business.update(db, "numbering", {"invoice": "B-{seq}"}, expected_version=0)
    with pytest.raises(StaleRecord, match="numbering setup"):
        business.update(db, "numbering", {"invoice": "C-{seq}"}, expected_version=0)
    assert business.update(db, "business", {"name": "Blue Sky"}, expected_version=1)["name"] \
        == "Blue Sky"
    assert business.load_versioned(db, ["business", "numbering"])[1] == {
        "business": 2, "numbering": 1}
    # callers without a version (the CLI, the demo) merge onto the current value as before
    business.update(db, "business", {"phone": "555-0100"})
    assert business.load(db, "business")["name"] == "Blue Sky"


def test_two_writers_at_once_cannot_both_save_from_one_version(db):
    """PostgreSQL lets two transactions run at once: one that read version 1 just before
    another committed version 2 is refused by the UPDATE itself (it matches no row)."""
    if db.is_sqlite:
        pytest.skip("SQLite runs one write transaction at a time (BEGIN IMMEDIATE)")
    from core.models import Setting

    business.update(db, "business", {"name": "Green Thumb"})
    with pytest.raises(StaleRecord, match="business profile"), db.write() as s:
        assert s.get(Setting, "business").version == 1  # read in this transaction...
        business.update(db, "business", {"name": "Other"}, expected_version=1)  # ...saved there
        business._write(s, "business", {"name": "Mine"}, 1, "owner")
    values, versions = business.load_versioned(db, ["business"])
    assert values["business"]["name"] == "Other" and versions == {"business": 2}
