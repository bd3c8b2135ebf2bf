"""Turning stored data into things the screen shows, never as markup.

Every value a user typed goes through :func:`plain` (a one-line ``rich.text.Text``) or
:func:`content` / :func:`paragraph` (a Textual ``Content``), which strip control characters
again on display: data written by another tool (an import, a shared PostgreSQL) may not
have been cleaned on the way in. Labels are literal; ``[bold]`` stays ``[bold]``.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.content import Content

from core.money import format_money
from core.text import clean_line, clean_text

STATUS_LABELS = {
    "lead": "Lead",
    "active": "Active",
    "archived": "Archived",
    "draft": "Draft",
    "sent": "Sent",
    "approved": "Approved",
    "declined": "Declined",
    "unscheduled": "Unscheduled",
    "scheduled": "Scheduled",
    "in_progress": "In progress",
    "completed": "Completed",
    "invoiced": "Invoiced",
    "cancelled": "Cancelled",
    "on_hold": "On hold",
    "issued": "Issued",
    "partially_paid": "Part paid",
    "paid": "Paid",
    "void": "Void",
}


def one_line(value: object) -> str:
    return clean_line("" if value is None else str(value))


def plain(value: object, *, style: str = "", justify: str | None = None) -> Text:
    """A table cell: one line, literal, cut with an ellipsis when the column is narrow."""
    return Text(
        one_line(value),
        style=style,
        no_wrap=True,
        overflow="ellipsis",
        justify=justify,  # type: ignore[arg-type]
        end="",
    )


def content(value: object) -> Content:
    """A label's text: one line, literal."""
    return Content(one_line(value))


def paragraph(value: object) -> Content:
    """Multi-line text (notes): literal, newlines kept, other control characters removed."""
    return Content(clean_text("" if value is None else str(value)))


def money(cents: int, currency: str = "USD") -> Text:
    return plain(format_money(cents, currency), justify="right")


def status(value: str) -> str:
    return STATUS_LABELS.get(value, value.replace("_", " ").capitalize())


# a North American number (NANP: area code and exchange start 2-9) in E.164
_NANP = re.compile(r"\+1([2-9]\d\d)([2-9]\d\d)(\d{4})")


def phone(e164: str) -> str:
    """``+14155550100`` as ``(415) 555-0100`` for North America, international otherwise."""
    if not e164:
        return ""
    nanp = _NANP.fullmatch(e164)
    if nanp:  # phonenumbers' national format for these, without its 140 ms import
        return "({}) {}-{}".format(*nanp.groups())
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return one_line(e164)
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 1
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)


def error_text(error: Exception) -> str:
    """A domain error as the person at the keyboard should read it (field first)."""
    field = getattr(error, "field", None)
    message = getattr(error, "message", None)
    if field and message:
        return one_line(f"{field[:1].upper()}{field[1:]}: {message}")
    return one_line(str(error))


def hit_detail(terms: str) -> str:
    """A search hit's indexed terms, shown without the national copy of a phone number
    (the index holds ``+14155550100`` and ``4155550100`` so either can be found)."""
    words = one_line(terms).split()
    return " ".join(
        w for w in words
        if not (len(w) >= 7 and w.isdigit() and any(o != w and o.endswith(w) for o in words))
    )
