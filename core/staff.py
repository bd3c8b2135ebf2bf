"""Staff use cases: users with a role (owner, admin, office, technician); create, edit,
deactivate, reactivate.

The business must always keep at least one active owner, so deactivating or demoting the last
one is refused. Decisions where the brief is silent: email is optional (technicians often
have none) but validated when given, and stored as NULL when empty; a phone number is stored
E.164 like a contact's; deactivated users keep their history (visits, logs, tasks) and can no
longer be chosen as an assignee.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from core import audit, validate
from core.db import Database
from core.errors import DomainError, NotFound, StaleRecord, TransitionError, ValidationError
from core.models import User, utcnow

ROLES = ("owner", "admin", "office", "technician")


@dataclass
class UserData:
    name: str
    role: str = "technician"
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class UserRow:
    id: int
    name: str
    role: str
    email: str
    phone: str
    active: bool
    version: int


def _clean(data: UserData) -> UserData:
    e164, _ = validate.phone(data.phone, "phone")
    return UserData(
        name=validate.required_line(data.name, "name", 200),
        role=validate.choice(data.role, "role", ROLES),
        email=validate.email(data.email, "email"),
        phone=e164,
    )


def _get(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None:
        raise NotFound("User", user_id)
    return user


def _check_version(user: User, expected: int | None) -> None:
    if expected is not None and user.version != expected:
        raise StaleRecord("staff member")


def _snapshot(u: User) -> dict[str, object]:
    return {"name": u.name, "role": u.role, "email": u.email or "", "phone": u.phone or "",
            "active": u.active}


def _other_active_owners(s: Session, user_id: int) -> int:
    stmt = select(func.count()).select_from(User).where(
        User.role == "owner", User.active.is_(True), User.id != user_id
    )
    return int(s.scalar(stmt) or 0)


def _refuse_losing_last_owner(s: Session, user: User, doing: str) -> None:
    if user.role == "owner" and user.active and _other_active_owners(s, user.id) == 0:
        raise DomainError(
            f"{user.name} is the only active owner; make someone else an owner before "
            f"{doing}."
        )


def create_user(db: Database, data: UserData, *, actor: str = "owner") -> int:
    clean = _clean(data)
    with db.write() as s:
        user = User(name=clean.name, role=clean.role, email=clean.email or None,
                    phone=clean.phone or None, active=True)
        s.add(user)
        s.flush()
        audit.record(s, actor, "user.create", "user", user.id,
                     f"Added {clean.role} {clean.name}", after=_snapshot(user))
        return user.id


def edit_user(db: Database, user_id: int, data: UserData, *, expected_version: int | None = None,
              actor: str = "owner") -> None:
    clean = _clean(data)
    with db.write() as s:
        user = _get(s, user_id)
        _check_version(user, expected_version)
        if clean.role != "owner":
            _refuse_losing_last_owner(s, user, "changing their role")
        before = _snapshot(user)
        user.name, user.role = clean.name, clean.role
        user.email, user.phone = clean.email or None, clean.phone or None
        user.updated_at = utcnow()
        flag_modified(user, "updated_at")  # a save always bumps the version
        old, new = audit.changes(before, _snapshot(user))
        audit.record(s, actor, "user.update", "user", user.id, f"Edited staff member {user.name}",
                     before=old, after=new)


def deactivate_user(db: Database, user_id: int, *, expected_version: int | None = None,
                    actor: str = "owner") -> None:
    with db.write() as s:
        user = _get(s, user_id)
        _check_version(user, expected_version)
        if not user.active:
            raise TransitionError(f"{user.name} is already deactivated.")
        _refuse_losing_last_owner(s, user, "deactivating them")
        user.active = False
        audit.record(s, actor, "user.deactivate", "user", user.id,
                     f"Deactivated staff member {user.name}", before={"active": True},
                     after={"active": False})


def reactivate_user(db: Database, user_id: int, *, expected_version: int | None = None,
                    actor: str = "owner") -> None:
    with db.write() as s:
        user = _get(s, user_id)
        _check_version(user, expected_version)
        if user.active:
            raise TransitionError(f"{user.name} is already active.")
        user.active = True
        audit.record(s, actor, "user.activate", "user", user.id,
                     f"Reactivated staff member {user.name}", before={"active": False},
                     after={"active": True})


def list_users(db: Database, *, include_inactive: bool = False) -> list[UserRow]:
    """Staff by name (a small business has a few, so no paging)."""
    stmt = select(User).order_by(func.lower(User.name), User.id)
    if not include_inactive:
        stmt = stmt.where(User.active.is_(True))
    with db.read() as s:
        return [UserRow(u.id, u.name, u.role, u.email or "", u.phone or "", u.active, u.version)
                for u in s.scalars(stmt)]


def check_assignee(s: Session, user_id: int | None, field: str = "assignee",
                   current: int | None = None) -> None:
    """An assignee must exist and be active (keeping an already-assigned inactive one is fine)."""
    if user_id is None:
        return
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        raise ValidationError(field, "must be a staff member")
    user = s.get(User, user_id)
    if user is None:
        raise ValidationError(field, f"staff member {user_id} does not exist")
    if not user.active and user_id != current:
        raise ValidationError(field, f"{user.name} is deactivated and cannot be assigned")
