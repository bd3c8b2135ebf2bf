"""Where stored addresses stand with USPS validation: their fields and version as stored, and
when they were validated (``None``: not yet). The client form marks each address block with
it, and refreshes a block after "Validate" changed the stored address under it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from core.db import Database
from core.models import Address
from core.overview import AddressRow


@dataclass(frozen=True)
class AddressStatus:
    row: AddressRow
    validated_at: dt.datetime | None  # naive UTC, as stored


def address_statuses(db: Database, address_ids: Iterable[int]) -> dict[int, AddressStatus]:
    """The stored state of these addresses, by id; ids that do not exist are left out."""
    ids = sorted({int(i) for i in address_ids})
    if not ids:
        return {}
    with db.read() as s:
        found = s.scalars(select(Address).where(Address.id.in_(ids)))
        return {
            a.id: AddressStatus(
                AddressRow(a.id, a.version, a.kind, a.label, a.line1, a.line2, a.city, a.region,
                           a.postal_code, a.country, a.validated_at is not None),
                a.validated_at)
            for a in found
        }
