"""Staff: users with roles, and the rule that the business always keeps an active owner."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import staff
from core.errors import DomainError, StaleRecord, TransitionError, ValidationError
from core.models import AuditEvent, User
from tests.core.factories import make_user, table_dump


def _user(db, uid) -> User:
    with db.read() as s:
        return s.get(User, uid)


def test_create_user_stores_clean_fields_and_audits(db):
    uid = staff.create_user(db, staff.UserData(name=" Olive Owner ", role="owner",
                                               email="olive@example.com", phone="(415) 555-2671"),
                            actor="setup")
    u = _user(db, uid)
    assert (u.name, u.role, u.email, u.phone, u.active) == (
        "Olive Owner", "owner", "olive@example.com", "+14155552671", True)
    with db.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "user")).one()
    assert (event.action, event.actor, event.entity_id) == ("user.create", "setup", uid)


def test_empty_email_and_phone_are_stored_as_null(db):
    u = _user(db, make_user(db))
    assert (u.email, u.phone) == (None, None)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (staff.UserData(name=""), "name", "is required"),
        (staff.UserData(name="A", role="boss"), "role", "must be one of"),
        (staff.UserData(name="A", email="not-an-email"), "email", "is not an email"),
        (staff.UserData(name="A", phone="12"), "phone", "phone number"),
    ],
)
def test_bad_user_input_is_refused(db, data, field, message):
    before = table_dump(db)
    with pytest.raises(ValidationError, match=message) as err:
        staff.create_user(db, data)
    assert err.value.field == field
    assert table_dump(db) == before


def test_edit_user_with_version(db):
    uid = make_user(db)
    staff.edit_user(db, uid, staff.UserData(name="Tess T.", role="office", email="t@example.com"),
                    expected_version=1)
    u = _user(db, uid)
    assert (u.name, u.role, u.email, u.version) == ("Tess T.", "office", "t@example.com", 2)
    before = table_dump(db)
    with pytest.raises(StaleRecord):
        staff.edit_user(db, uid, staff.UserData(name="Other"), expected_version=1)
    assert table_dump(db) == before


@pytest.mark.parametrize("action", ["deactivate", "demote"])
def test_the_last_active_owner_cannot_be_removed(db, action):
    owner = make_user(db, "Olive", "owner")
    make_user(db, "Ada", "admin")
    before = table_dump(db)
    with pytest.raises(DomainError, match="only active owner"):
        if action == "deactivate":
            staff.deactivate_user(db, owner)
        else:
            staff.edit_user(db, owner, staff.UserData(name="Olive", role="admin"))
    assert table_dump(db) == before


def test_an_owner_can_go_once_another_owner_is_active(db):
    first = make_user(db, "Olive", "owner")
    second = make_user(db, "Otto", "owner")
    staff.edit_user(db, first, staff.UserData(name="Olive", role="office"))
    with pytest.raises(DomainError, match="Otto is the only active owner"):
        staff.deactivate_user(db, second)
    assert _user(db, first).role == "office"


def test_an_inactive_owner_does_not_count(db):
    first = make_user(db, "Olive", "owner")
    second = make_user(db, "Otto", "owner")
    staff.deactivate_user(db, first)
    with pytest.raises(DomainError, match="only active owner"):
        staff.deactivate_user(db, second)
    # the deactivated owner may still be edited (not the last *active* one)
    staff.edit_user(db, first, staff.UserData(name="Olive", role="technician"))


def test_deactivate_and_reactivate(db):
    uid = make_user(db)
    staff.deactivate_user(db, uid)
    assert not _user(db, uid).active
    assert [u.id for u in staff.list_users(db)] == []
    assert [u.id for u in staff.list_users(db, include_inactive=True)] == [uid]
    with pytest.raises(TransitionError, match="already deactivated"):
        staff.deactivate_user(db, uid)
    staff.reactivate_user(db, uid)
    with pytest.raises(TransitionError, match="already active"):
        staff.reactivate_user(db, uid)
    with db.read() as s:
        actions = list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["user.create", "user.deactivate", "user.activate"]


def test_naughty_names_round_trip(db, naughty_strings):
    from core.text import clean_line

    sample = [x for x in naughty_strings if clean_line(x) and len(clean_line(x)) <= 200]
    sample = sample[::9] + [x for x in sample if "[" in x or "]" in x]
    ids = [make_user(db, x) for x in sample]
    got = {u.id: u.name for u in staff.list_users(db)}
    assert [got[i] for i in ids] == [clean_line(x) for x in sample]
