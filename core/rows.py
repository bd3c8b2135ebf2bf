"""Row types of the list queries that the first screen shows before SQLAlchemy is loaded
(:mod:`core.first_look`); :mod:`core.lists` returns the same types."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class ClientRow:
    id: int
    name: str
    company_name: str
    kind: str
    status: str
    email: str
    phone: str
    balance_cents: int
