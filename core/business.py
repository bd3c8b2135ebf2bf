"""Business settings stored in the database: profile, numbering patterns, defaults.

Kept in the ``settings`` table (one JSON value per key) so that every user of a shared
PostgreSQL database sees the same business. Defaults apply until the owner changes them.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy.orm import Session

from core import audit, numbering, validate
from core.db import Database
from core.errors import ValidationError
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


def get(session: Session, key: str) -> dict[str, Any]:
    value = copy.deepcopy(DEFAULTS[key])
    row = session.get(Setting, key)
    if row is not None:
        value.update(row.value)
    return value


def load(db: Database, key: str) -> dict[str, Any]:
    with db.read() as s:
        return get(s, key)


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


def update(db: Database, key: str, changes: dict[str, Any], *, actor: str = "owner") -> dict[str, Any]:
    with db.write() as s:
        current = get(s, key)
        merged = {**current, **changes}
        value = _validated(key, merged)
        row = s.get(Setting, key)
        if row is None:
            s.add(Setting(key=key, value=value))
        else:
            row.value = value
        before, after = audit.changes(current, value)
        audit.record(s, actor, "settings.update", "setting", None, f"Updated {key} settings",
                     before=before, after=after)
        return value


def update_several(db: Database, changes: dict[str, dict[str, Any]], *,
                   actor: str = "owner") -> dict[str, dict[str, Any]]:
    """Change several settings keys (say the profile and the payment terms that Settings edits
    on one page) in one transaction: all are saved, or none when any is invalid."""
    out: dict[str, dict[str, Any]] = {}
    with db.write() as s:
        for key, key_changes in changes.items():
            current = get(s, key)
            value = _validated(key, {**current, **key_changes})
            row = s.get(Setting, key)
            if row is None:
                s.add(Setting(key=key, value=value))
            else:
                row.value = value
            before, after = audit.changes(current, value)
            audit.record(s, actor, "settings.update", "setting", None, f"Updated {key} settings",
                         before=before, after=after)
            out[key] = value
    return out
