"""Catalogue use cases: tax rates and price book items (create, edit, deactivate, reactivate).

Rates are exact percentages (``8.875``) parsed with :func:`core.money.parse_rate`. Decisions
where the brief is silent: tax rate names are unique ignoring case (``VAT`` and ``vat`` would
confuse anyone picking from a list); the rate set as the business default cannot be
deactivated until another default is chosen; deactivating only hides a rate or item from new
lines, because documents copy the percentage and price onto their lines. An item's default
tax rate must be active when it is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from core import audit, business, money, validate
from core.db import Database
from core.errors import DomainError, NotFound, StaleRecord, TransitionError, ValidationError
from core.lines import LineData
from core.lists import PriceBookItemRow
from core.models import PriceBookItem, TaxRate, utcnow
from core.text import clean_line


@dataclass
class TaxRateData:
    name: str
    rate: Decimal | str | int  # percent, e.g. "8.875"


@dataclass
class PriceBookItemData:
    name: str
    unit_price_cents: int
    description: str = ""
    unit: str = "each"
    tax_rate_id: int | None = None


def _touch(row: TaxRate | PriceBookItem) -> None:
    # bump the version even when only an unchanged-looking value was saved
    row.updated_at = utcnow()
    flag_modified(row, "updated_at")


def _check_version(row: TaxRate | PriceBookItem, expected: int | None, what: str) -> None:
    if expected is not None and row.version != expected:
        raise StaleRecord(what)


# --------------------------------------------------------------------------- tax rates


def _get_rate(s: Session, tax_rate_id: int) -> TaxRate:
    row = s.get(TaxRate, tax_rate_id)
    if row is None:
        raise NotFound("Tax rate", tax_rate_id)
    return row


def _clean_rate(data: TaxRateData) -> tuple[str, Decimal]:
    rate = money.parse_rate(data.rate, "rate")
    # normalize() turns 10 into 1E+1; store and show it as 10
    rate = rate.quantize(Decimal(1)) if rate == rate.to_integral_value() else rate
    return validate.required_line(data.name, "name", 100), rate


def _refuse_duplicate_name(s: Session, name: str, own_id: int | None) -> None:
    # compared in Python: a business has a handful of rates, and SQLite's lower() is ASCII-only
    wanted = name.casefold()
    for other_id, other_name in s.execute(select(TaxRate.id, TaxRate.name)):
        if other_id != own_id and other_name.casefold() == wanted:
            raise _duplicate_name(name)


def _duplicate_name(name: str) -> ValidationError:
    return ValidationError("name", f"a tax rate named '{name}' already exists")


def create_tax_rate(db: Database, data: TaxRateData, *, actor: str = "owner") -> int:
    name, rate = _clean_rate(data)
    try:
        with db.write() as s:
            _refuse_duplicate_name(s, name, None)
            row = TaxRate(name=name, rate=rate, active=True)
            s.add(row)
            s.flush()
            audit.record(s, actor, "tax_rate.create", "tax_rate", row.id,
                         f"Created tax rate {name} ({rate}%)", after={"name": name, "rate": str(rate)})
            return row.id
    except IntegrityError:
        # two writers on PostgreSQL can both pass the check; the unique index decides
        raise _duplicate_name(name) from None


def edit_tax_rate(db: Database, tax_rate_id: int, data: TaxRateData, *,
                  expected_version: int | None = None, actor: str = "owner") -> None:
    """Rename or change the percentage. Existing documents keep the rate copied onto their lines."""
    name, rate = _clean_rate(data)
    try:
        with db.write() as s:
            row = _get_rate(s, tax_rate_id)
            _check_version(row, expected_version, "tax rate")
            _refuse_duplicate_name(s, name, row.id)
            before = {"name": row.name, "rate": row.rate}
            row.name, row.rate = name, rate
            _touch(row)
            old, new = audit.changes(before, {"name": name, "rate": rate})
            audit.record(s, actor, "tax_rate.update", "tax_rate", row.id,
                         f"Edited tax rate {name}", before=old, after=new)
    except IntegrityError:
        # two writers on PostgreSQL can both pass the check; the unique index decides
        raise _duplicate_name(name) from None


def deactivate_tax_rate(db: Database, tax_rate_id: int, *, expected_version: int | None = None,
                        actor: str = "owner") -> None:
    with db.write() as s:
        row = _get_rate(s, tax_rate_id)
        _check_version(row, expected_version, "tax rate")
        if not row.active:
            raise TransitionError(f"The tax rate {row.name} is already inactive.")
        if business.get(s, "defaults").get("tax_rate_id") == row.id:
            raise DomainError(
                f"{row.name} is the default tax rate for new lines; choose another default "
                "in Settings before deactivating it."
            )
        row.active = False
        audit.record(s, actor, "tax_rate.deactivate", "tax_rate", row.id,
                     f"Deactivated tax rate {row.name}", before={"active": True},
                     after={"active": False})


def reactivate_tax_rate(db: Database, tax_rate_id: int, *, expected_version: int | None = None,
                        actor: str = "owner") -> None:
    with db.write() as s:
        row = _get_rate(s, tax_rate_id)
        _check_version(row, expected_version, "tax rate")
        if row.active:
            raise TransitionError(f"The tax rate {row.name} is already active.")
        row.active = True
        audit.record(s, actor, "tax_rate.activate", "tax_rate", row.id,
                     f"Reactivated tax rate {row.name}", before={"active": False},
                     after={"active": True})


@dataclass(frozen=True)
class TaxRateRow:
    id: int
    name: str
    rate: Decimal
    active: bool
    version: int


def list_tax_rates(db: Database, *, include_inactive: bool = False) -> list[TaxRateRow]:
    """All tax rates by name (a business has a handful, so no paging)."""
    stmt = select(TaxRate).order_by(func.lower(TaxRate.name), TaxRate.id)
    if not include_inactive:
        stmt = stmt.where(TaxRate.active.is_(True))
    with db.read() as s:
        return [TaxRateRow(r.id, r.name, r.rate, r.active, r.version) for r in s.scalars(stmt)]


# --------------------------------------------------------------------------- price book


def _get_item(s: Session, item_id: int) -> PriceBookItem:
    row = s.get(PriceBookItem, item_id)
    if row is None:
        raise NotFound("Price book item", item_id)
    return row


@dataclass(frozen=True)
class _CleanItem:
    name: str
    description: str
    unit: str
    unit_price_cents: int
    tax_rate_id: int | None


def _clean_item(data: PriceBookItemData) -> _CleanItem:
    price = data.unit_price_cents
    if isinstance(price, bool) or not isinstance(price, int):
        raise ValidationError("unit price", "must be a whole number of cents")
    if price < 0:
        raise ValidationError("unit price", "must not be negative")
    if price >= money.MAX_CENTS:
        raise ValidationError("unit price", "is too large")
    return _CleanItem(
        name=validate.required_line(data.name, "name", 200),
        description=validate.note(data.description, "description", 5000),
        unit=validate.optional_line(data.unit, "unit", 30) or "each",
        unit_price_cents=price,
        tax_rate_id=data.tax_rate_id,
    )


def _check_item_rate(s: Session, tax_rate_id: int | None, current: int | None) -> None:
    if tax_rate_id is None:
        return
    rate = s.get(TaxRate, tax_rate_id)
    if rate is None:
        raise ValidationError("tax rate", f"tax rate {tax_rate_id} does not exist")
    if not rate.active and tax_rate_id != current:
        raise ValidationError("tax rate", f"the tax rate {rate.name} is inactive")


def _item_snapshot(row: PriceBookItem) -> dict[str, object]:
    return {"name": row.name, "description": row.description, "unit": row.unit,
            "unit_price_cents": row.unit_price_cents, "tax_rate_id": row.tax_rate_id}


def create_item(db: Database, data: PriceBookItemData, *, actor: str = "owner") -> int:
    clean = _clean_item(data)
    with db.write() as s:
        _check_item_rate(s, clean.tax_rate_id, None)
        row = PriceBookItem(name=clean.name, description=clean.description, unit=clean.unit,
                            unit_price_cents=clean.unit_price_cents, tax_rate_id=clean.tax_rate_id,
                            active=True)
        s.add(row)
        s.flush()
        audit.record(s, actor, "price_book_item.create", "price_book_item", row.id,
                     f"Created price book item {row.name}", after=_item_snapshot(row))
        return row.id


def edit_item(db: Database, item_id: int, data: PriceBookItemData, *,
              expected_version: int | None = None, actor: str = "owner") -> None:
    clean = _clean_item(data)
    with db.write() as s:
        row = _get_item(s, item_id)
        _check_version(row, expected_version, "price book item")
        _check_item_rate(s, clean.tax_rate_id, row.tax_rate_id)
        before = _item_snapshot(row)
        row.name, row.description, row.unit = clean.name, clean.description, clean.unit
        row.unit_price_cents, row.tax_rate_id = clean.unit_price_cents, clean.tax_rate_id
        _touch(row)
        old, new = audit.changes(before, _item_snapshot(row))
        audit.record(s, actor, "price_book_item.update", "price_book_item", row.id,
                     f"Edited price book item {row.name}", before=old, after=new)


def _set_item_active(db: Database, item_id: int, active: bool, expected_version: int | None,
                     actor: str) -> None:
    with db.write() as s:
        row = _get_item(s, item_id)
        _check_version(row, expected_version, "price book item")
        if row.active == active:
            state = "active" if active else "inactive"
            raise TransitionError(f"The price book item {row.name} is already {state}.")
        row.active = active
        verb = "Reactivated" if active else "Deactivated"
        audit.record(s, actor, f"price_book_item.{'activate' if active else 'deactivate'}",
                     "price_book_item", row.id, f"{verb} price book item {row.name}",
                     before={"active": not active}, after={"active": active})


def deactivate_item(db: Database, item_id: int, *, expected_version: int | None = None,
                    actor: str = "owner") -> None:
    _set_item_active(db, item_id, False, expected_version, actor)


def reactivate_item(db: Database, item_id: int, *, expected_version: int | None = None,
                    actor: str = "owner") -> None:
    _set_item_active(db, item_id, True, expected_version, actor)


def line_for_item(db: Database, item_id: int, quantity: Decimal | str | int = Decimal(1),
                  ) -> LineData:
    """A line pre-filled from a price book item (the form may still change it)."""
    with db.read() as s:
        row = _get_item(s, item_id)
        if not row.active:
            raise ValidationError("item", f"the price book item {row.name} is inactive")
        description = row.name if not row.description else f"{row.name}\n{row.description}"
        return LineData(description=description, quantity=quantity,
                        unit_price_cents=row.unit_price_cents, tax_rate_id=row.tax_rate_id,
                        price_book_item_id=row.id)



PRICE_BOOK_MATCH_LIMIT = 8


def search_items(db: Database, text: str, *, limit: int = PRICE_BOOK_MATCH_LIMIT,
                 ) -> list[PriceBookItemRow]:
    """Active price book items whose name contains ``text`` (ignoring case), names that
    start with it first, for the line editor's lookup as you type. Empty text: nothing.

    Matched in SQL with ``lower(name) LIKE`` (``%`` and ``_`` typed by the user are literal).
    A price book holds hundreds of items, not millions, so no index is needed. SQLite's
    ``lower()`` folds ASCII only; a name with accents still matches when typed as stored.
    """
    wanted = clean_line(text or "").lower()[:200]
    if not wanted or limit < 1:
        return []
    name = func.lower(PriceBookItem.name)
    starts = case((name.startswith(wanted, autoescape=True), 0), else_=1)
    stmt = (
        select(PriceBookItem.id, PriceBookItem.name, PriceBookItem.description,
               PriceBookItem.unit, PriceBookItem.unit_price_cents, PriceBookItem.tax_rate_id,
               TaxRate.name, TaxRate.rate, PriceBookItem.active)
        .outerjoin(TaxRate, TaxRate.id == PriceBookItem.tax_rate_id)
        .where(PriceBookItem.active.is_(True), name.contains(wanted, autoescape=True))
        .order_by(starts, name, PriceBookItem.id)
        .limit(min(limit, 100))
    )
    with db.read() as s:
        return [PriceBookItemRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6] or "", r[7], bool(r[8]))
                for r in s.execute(stmt)]
