"""Field validation shared by the services. Every failure names the field."""

from __future__ import annotations

import datetime as dt
import re

from core.errors import ValidationError
from core.text import clean_line, clean_text

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def required_line(value: str | None, field: str, max_len: int = 300) -> str:
    text = clean_line(value or "")
    if not text:
        raise ValidationError(field, "is required")
    if len(text) > max_len:
        raise ValidationError(field, f"is too long (at most {max_len} characters)")
    return text


def optional_line(value: str | None, field: str, max_len: int = 300) -> str:
    text = clean_line(value or "")
    if len(text) > max_len:
        raise ValidationError(field, f"is too long (at most {max_len} characters)")
    return text


def note(value: str | None, field: str = "notes", max_len: int = 100_000) -> str:
    text = clean_text(value or "")
    if len(text) > max_len:
        raise ValidationError(field, f"is too long (at most {max_len} characters)")
    return text


def email(value: str | None, field: str = "email") -> str:
    text = clean_line(value or "")
    if not text:
        return ""
    if len(text) > 320 or not _EMAIL_RE.match(text):
        raise ValidationError(field, f"'{text[:60]}' is not an email address like name@example.com")
    return text


def phone(value: str | None, field: str = "phone", region: str = "US") -> tuple[str, str]:
    """Return (E.164, national digits) or raise. Empty input gives ("", "")."""
    text = clean_line(value or "")
    if not text:
        return "", ""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(field, f"'{text[:40]}' is not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(field, f"'{text[:40]}' is not a valid phone number")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return e164, str(parsed.national_number)


def choice(value: str, field: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValidationError(field, f"must be one of: {', '.join(allowed)}")
    return value


def parse_date(value: str | dt.date | None, field: str, *, required: bool = False) -> dt.date | None:
    if value is None or value == "":
        if required:
            raise ValidationError(field, "is required")
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(clean_line(value))
    except ValueError:
        raise ValidationError(field, f"'{str(value)[:30]}' is not a date like 2026-03-31") from None


def positive_int(value: int | str, field: str, *, minimum: int = 1, maximum: int = 10_000) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError(field, f"'{str(value)[:20]}' is not a whole number") from None
    if not minimum <= number <= maximum:
        raise ValidationError(field, f"must be between {minimum} and {maximum}")
    return number
