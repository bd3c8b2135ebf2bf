"""USPS address validation, the domain side: what USPS answered, in plain words, set next to
what was typed, and how an accepted answer becomes the stored address (flagged validated,
with the date, through :func:`core.clients.mark_address_validated`).

Decisions where the brief is silent:

* Only US addresses are sent (USPS knows no others); the rest are skipped with a reason.
* "Keep mine" marks the address validated as typed, but only when USPS confirmed a
  deliverable address (DPV ``Y``): a person who knows better may keep their spelling, but an
  address USPS could not confirm is not called validated.
* Bulk validation accepts, without asking, only answers that confirm the address *as typed*
  (same street, city, state and ZIP, ignoring case, spacing and punctuation; the ZIP+4 is
  added). Every other answer waits in the review list for the person to accept or keep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select

from core import clients
from core.clients import AddressData
from core.db import Database
from core.errors import DomainError, NotFound, StaleRecord
from core.models import Address

DPV_WORDS = {
    "Y": "USPS confirms this address is deliverable.",
    "D": "USPS found the building, but the address needs an apartment, suite or unit number.",
    "S": "USPS found the building, but not the apartment, suite or unit number given.",
    "N": "USPS could not confirm this address as deliverable.",
}
CORRECTION_WORDS = {
    "32": "More information is needed (an apartment, suite or box number) to match one address.",
    "22": "More than one address matches; add detail such as the ZIP code, a direction (N, S) "
          "or the street type (St, Ave).",
}


@dataclass(frozen=True)
class AddressQuery:
    """What is sent to USPS, from a stored address."""

    address_id: int
    street: str
    secondary: str
    city: str
    state: str
    zip5: str


@dataclass(frozen=True)
class Notice:
    code: str
    text: str


@dataclass(frozen=True)
class UspsResult:
    """USPS's standardised address and what it said about it."""

    street: str
    secondary: str = ""
    city: str = ""
    state: str = ""
    zip5: str = ""
    zip4: str = ""
    firm: str = ""
    dpv: str = ""  # Y deliverable, D secondary missing, S secondary not confirmed, N not
    corrections: tuple[Notice, ...] = ()
    matches: tuple[Notice, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def postal_code(self) -> str:
        return f"{self.zip5}-{self.zip4}" if self.zip5 and self.zip4 else self.zip5

    @property
    def confirmed(self) -> bool:
        return self.dpv == "Y"

    def explain(self) -> list[str]:
        """Sentences for the person: deliverability first, then USPS's own notes."""
        out = [DPV_WORDS.get(self.dpv, "USPS did not say whether this address is deliverable.")]
        for notice in self.corrections:
            out.append(CORRECTION_WORDS.get(notice.code) or notice.text)
        out.extend(w for w in self.warnings if w)
        return [s for s in dict.fromkeys(out) if s]


@dataclass(frozen=True)
class Comparison:
    """What the address form shows after "Validate": typed vs standardised, in words."""

    address_id: int
    version: int
    typed: AddressData
    standardised: AddressData
    result: UspsResult
    differences: tuple[str, ...]

    @property
    def same(self) -> bool:
        return not self.differences

    @property
    def sentences(self) -> list[str]:
        return self.result.explain()

    @property
    def can_keep(self) -> bool:
        return self.result.confirmed


def _typed(a: Address) -> AddressData:
    return AddressData(line1=a.line1, kind=a.kind, label=a.label, line2=a.line2, city=a.city,
                       region=a.region, postal_code=a.postal_code, country=a.country, id=a.id,
                       version=a.version)


def query_for(db: Database, address_id: int) -> AddressQuery:
    """The USPS query for a stored address; refuses what USPS cannot check."""
    with db.read() as s:
        a = s.get(Address, address_id)
        if a is None:
            raise NotFound("Address", address_id)
        if a.country != "US":
            raise DomainError(f"USPS validates US addresses only; this one is in {a.country}.")
        zip5 = re.sub(r"\D", "", a.postal_code)[:5]
        if not (a.city and a.region) and len(zip5) != 5:
            raise DomainError("USPS needs the city and state, or the ZIP code, to find an "
                              "address; add them first.")
        return AddressQuery(address_id=a.id, street=a.line1, secondary=a.line2, city=a.city,
                            state=a.region, zip5=zip5)


def standardised(typed: AddressData, result: UspsResult) -> AddressData:
    """The stored address as USPS writes it (kind and label kept)."""
    return AddressData(line1=result.street or typed.line1, kind=typed.kind, label=typed.label,
                       line2=result.secondary, city=result.city or typed.city,
                       region=result.state or typed.region,
                       postal_code=result.postal_code or typed.postal_code, country="US",
                       id=typed.id, version=typed.version)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def _differences(typed: AddressData, std: AddressData) -> tuple[str, ...]:
    out = []
    for label, a, b in (("street", typed.line1, std.line1), ("line 2", typed.line2, std.line2),
                        ("city", typed.city, std.city), ("state", typed.region, std.region)):
        if _norm(a) != _norm(b):
            out.append(label)
    if typed.postal_code.replace(" ", "")[:5] != std.postal_code[:5]:
        out.append("ZIP")
    return tuple(out)


def compare(db: Database, address_id: int, result: UspsResult) -> Comparison:
    with db.read() as s:
        a = s.get(Address, address_id)
        if a is None:
            raise NotFound("Address", address_id)
        typed = _typed(a)
    std = standardised(typed, result)
    return Comparison(address_id=address_id, version=typed.version or 0, typed=typed,
                      standardised=std, result=result, differences=_differences(typed, std))


def _check_version(db: Database, comparison: Comparison) -> None:
    with db.read() as s:
        a = s.get(Address, comparison.address_id)
        if a is None:
            raise NotFound("Address", comparison.address_id)
        if a.version != comparison.version:
            raise StaleRecord("address")


def accept(db: Database, comparison: Comparison, *, actor: str = "owner") -> None:
    """Store USPS's standardised address (with ZIP+4) and flag it validated today."""
    if not comparison.result.street:
        raise DomainError("USPS returned no address to accept.")
    _check_version(db, comparison)
    clients.mark_address_validated(db, comparison.address_id, comparison.standardised,
                                   actor=actor)


def keep(db: Database, comparison: Comparison, *, actor: str = "owner") -> None:
    """Keep the address as typed and flag it validated (only for a confirmed address)."""
    if not comparison.can_keep:
        raise DomainError("USPS did not confirm this address, so it cannot be marked "
                          "validated; correct it, or leave it unvalidated.")
    _check_version(db, comparison)
    clients.mark_address_validated(db, comparison.address_id, None, actor=actor)


def unvalidated(db: Database, *, limit: int = 50, after_id: int = 0) -> list[int]:
    """Ids of US addresses not validated yet, in id order (bulk validation pages on id)."""
    with db.read() as s:
        return list(s.scalars(select(Address.id).where(
            Address.validated_at.is_(None), Address.country == "US", Address.id > after_id)
            .order_by(Address.id).limit(max(1, limit))))
