"""Business settings stored in the database: profile, numbering patterns, defaults.

Kept in the ``settings`` table (one JSON value per key) so that every user of a shared
PostgreSQL database sees the same business. Defaults apply until the owner changes them.

Each key's row carries a version (optimistic concurrency, like the editable records): a form
reads it with :func:`load_versioned` and passes it back on save; a save made from an older
version raises :class:`~core.errors.StaleRecord` and writes nothing, instead of silently
overwriting what another user saved in between. A key never saved has version 0. Callers
without a version (the CLI, the demo, the first-run screen) merge onto the current value.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core import audit, numbering, validate
from core.db import Database
from core.errors import StaleRecord, ValidationError
from core.models import Setting

DEFAULTS: dict[str, dict[str, Any]] = {
    "business": {
        "name": "",
        "address": "",
        "phone": "",
        "email": "",
        "tax_id": "",
        "currency": "USD",
        "country": "US",
    },
    "numbering": dict(numbering.DEFAULT_PATTERNS),
    "defaults": {
        "payment_terms_days": 30,
        "proposal_valid_days": 30,
        "invoice_terms": "Payment due within 30 days.",
        "proposal_terms": "",
        "tax_rate_id": None,
    },
    # text messages (core.messaging validates it): quiet hours in the business's time zone
    # ("" = this computer's), and the owner's edits of the built-in SMS templates
    "messaging": {
        "quiet_hours_start": "21:00",
        "quiet_hours_end": "08:00",
        "timezone": "",
        "templates": {},
    },
}

CURRENCIES = ("USD", "CAD", "EUR", "GBP", "AUD", "NZD")

# what a stale save names ("This business profile was changed elsewhere after you opened it")
STALE_NAMES = {
    "business": "business profile",
    "numbering": "numbering setup",
    "defaults": "set of document defaults",
    "messaging": "text message setup",
}


@dataclass(frozen=True)
class Saved:
    """What a save stored: the cleaned values and the new versions, per settings key."""

    values: dict[str, dict[str, Any]]
    versions: dict[str, int]


def get(session: Session, key: str) -> dict[str, Any]:
    value = copy.deepcopy(DEFAULTS[key])
    row = session.get(Setting, key)
    if row is not None:
        value.update(row.value)
    return value


def load(db: Database, key: str) -> dict[str, Any]:
    with db.read() as s:
        return get(s, key)


def version(session: Session, key: str) -> int:
    """The stored version of ``key``: 0 while it has never been saved."""
    row = session.get(Setting, key)
    return row.version if row is not None else 0


def load_versioned(db: Database, keys: list[str]) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """The values of ``keys`` and their versions, read together (one transaction)."""
    with db.read() as s:
        return {k: get(s, k) for k in keys}, {k: version(s, k) for k in keys}


def is_set_up(db: Database) -> bool:
    """True once the first-run screen has stored a business name."""
    return bool(load(db, "business")["name"])


def _validated(key: str, value: dict[str, Any]) -> dict[str, Any]:
    if key == "business":
        out = {
            "name": validate.required_line(value.get("name"), "business name", 200),
            "address": validate.note(value.get("address"), "business address", 1000),
            "phone": validate.optional_line(value.get("phone"), "business phone", 40),
            "email": validate.email(value.get("email"), "business email"),
            "tax_id": validate.optional_line(value.get("tax_id"), "tax id", 60),
            "currency": validate.choice(value.get("currency", "USD"), "currency", CURRENCIES),
            "country": validate.optional_line(value.get("country", "US"), "country", 2).upper()
            or "US",
        }
        return out
    if key == "numbering":
        return {
            doc: numbering.validate_pattern(str(value.get(doc, "")), f"{doc} number pattern")
            for doc in numbering.DOC_TYPES
        }
    if key == "defaults":
        tax_rate_id = value.get("tax_rate_id")
        return {
            "payment_terms_days": validate.positive_int(
                value.get("payment_terms_days", 30), "payment terms (days)", minimum=0, maximum=365
            ),
            "proposal_valid_days": validate.positive_int(
                value.get("proposal_valid_days", 30), "proposal valid (days)", minimum=1, maximum=365
            ),
            "invoice_terms": validate.note(value.get("invoice_terms"), "invoice terms", 5000),
            "proposal_terms": validate.note(value.get("proposal_terms"), "proposal terms", 5000),
            "tax_rate_id": int(tax_rate_id) if tax_rate_id not in (None, "") else None,
        }
    if key == "messaging":
        from core import messaging  # lazily: core.messaging reads these settings

        return messaging.validate_settings(value)
    raise ValidationError("setting", f"unknown setting '{key}'")


def _write(s: Session, key: str, changes: dict[str, Any], expected: int | None,
           actor: str) -> tuple[dict[str, Any], int]:
    row = s.get(Setting, key)
    stale = StaleRecord(STALE_NAMES.get(key, f"{key} setting"))
    if expected is not None and (row.version if row is not None else 0) != expected:
        raise stale
    current = get(s, key)
    value = _validated(key, {**current, **changes})
    if row is None:
        row = Setting(key=key, value=value)
        s.add(row)
    else:
        row.value = value
    try:
        s.flush()
    # another writer saved it after it was read above (PostgreSQL), or first, at the same moment
    except (StaleDataError, IntegrityError):
        raise stale from None
    before, after = audit.changes(current, value)
    audit.record(s, actor, "settings.update", "setting", None, f"Updated {key} settings",
                 before=before, after=after)
    return value, row.version


def update(db: Database, key: str, changes: dict[str, Any], *, actor: str = "owner",
           expected_version: int | None = None) -> dict[str, Any]:
    """Merge ``changes`` onto setting ``key``. With ``expected_version`` (what
    :func:`load_versioned` said when the edit started) a newer save is never overwritten."""
    versions = None if expected_version is None else {key: expected_version}
    return save_several(db, {key: changes}, actor=actor, expected_versions=versions).values[key]


def update_several(db: Database, changes: dict[str, dict[str, Any]], *, actor: str = "owner",
                   expected_versions: dict[str, int] | None = None) -> dict[str, dict[str, Any]]:
    """Change several settings keys (say the profile and the payment terms that Settings edits
    on one page) in one transaction: all are saved, or none when any is invalid or stale."""
    return save_several(db, changes, actor=actor, expected_versions=expected_versions).values


def save_several(db: Database, changes: dict[str, dict[str, Any]], *, actor: str = "owner",
                 expected_versions: dict[str, int] | None = None) -> Saved:
    """:func:`update_several`, also returning the new versions (for the next save of a form
    that stays open). A key missing from ``expected_versions`` is not checked."""
    expected = expected_versions or {}
    values: dict[str, dict[str, Any]] = {}
    versions: dict[str, int] = {}
    with db.write() as s:  # an invalid or stale key raises: the transaction writes nothing
        for key, key_changes in changes.items():
            values[key], versions[key] = _write(s, key, key_changes, expected.get(key), actor)
    return Saved(values, versions)
