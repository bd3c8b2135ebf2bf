"""Errors the core raises, each with a message meant for the person at the keyboard."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the business was about to be broken (e.g. paying a draft invoice)."""


class ValidationError(DomainError):
    """Bad input. ``field`` names the field so a form can point at it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFound(DomainError):
    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"{what} {ident} does not exist (it may have been deleted)")


class StaleRecord(DomainError):
    """Someone saved this record after it was opened here; saving would overwrite their work."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"This {what} was changed elsewhere after you opened it. "
            "Nothing was saved; reopen it to see the latest version."
        )


class TransitionError(DomainError):
    """A lifecycle forbids the change (e.g. approving a declined proposal)."""
