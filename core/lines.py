"""Line items shared by proposals, jobs and invoices: validated input and stored totals.

A service turns what the form sent (:class:`LineData`) into line rows with
:func:`replace_lines`, which also recomputes and stores the document's totals with
:func:`core.money.compute_totals`. The tax rate's percentage is copied onto the line
(``tax_rate``) so a later change of the rate never alters an existing document.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from core import money, validate
from core.errors import ValidationError
from core.models import PriceBookItem, TaxRate


@dataclass
class LineData:
    description: str
    quantity: Decimal | str | int = Decimal(1)
    unit_price_cents: int = 0
    tax_rate_id: int | None = None
    discount_kind: str = "none"
    discount_value: Decimal | str | int = Decimal(0)
    price_book_item_id: int | None = None


@dataclass(frozen=True)
class CleanLine:
    description: str
    quantity: Decimal
    unit_price_cents: int
    tax_rate_id: int | None
    tax_rate: Decimal
    discount_kind: str
    discount_value: Decimal
    price_book_item_id: int | None


def clean_lines(s: Session, lines: list[LineData], *, allow_negative: bool = False) -> list[CleanLine]:
    out = []
    for i, line in enumerate(lines):
        n = f"line {i + 1}"
        desc = validate.note(line.description, f"{n} description", 5000).strip()
        if not desc:
            raise ValidationError(f"{n} description", "is required")
        qty = money.parse_quantity(line.quantity, f"{n} quantity")
        if isinstance(line.unit_price_cents, bool) or not isinstance(line.unit_price_cents, int):
            raise ValidationError(f"{n} unit price", "must be a whole number of cents")
        if line.unit_price_cents < 0 and not allow_negative:
            raise ValidationError(f"{n} unit price", "must not be negative")
        if abs(line.unit_price_cents) >= money.MAX_CENTS:
            raise ValidationError(f"{n} unit price", "is too large")
        rate = Decimal(0)
        if line.tax_rate_id is not None:
            tax = s.get(TaxRate, line.tax_rate_id)
            if tax is None:
                raise ValidationError(f"{n} tax rate", f"tax rate {line.tax_rate_id} does not exist")
            rate = tax.rate
        if line.price_book_item_id is not None and s.get(PriceBookItem, line.price_book_item_id) is None:
            raise ValidationError(f"{n} item", f"price book item {line.price_book_item_id} does not exist")
        kind = validate.choice(line.discount_kind, f"{n} discount kind", money.DISCOUNT_KINDS)
        dval = money.parse_decimal(line.discount_value, f"{n} discount", max_places=4)
        out.append(CleanLine(desc, qty, line.unit_price_cents, line.tax_rate_id, rate, kind, dval,
                             line.price_book_item_id))
    return out


def replace_lines(doc: Any, line_model: type, lines: list[CleanLine]) -> money.DocumentTotals:
    """Replace ``doc.lines`` with rows built from ``lines`` and store all totals on ``doc``.

    ``doc`` has the document discount (``discount_kind``/``discount_value``) when it is an
    invoice or a proposal; jobs have no document discount.
    """
    totals = money.compute_totals(
        [money.LineInput(c.quantity, c.unit_price_cents, c.tax_rate, c.discount_kind, c.discount_value)
         for c in lines],
        getattr(doc, "discount_kind", "none"),
        getattr(doc, "discount_value", Decimal(0)),
        getattr(doc, "rounding_rule", money.ROUNDING_RULE),
    )
    rows = []
    for pos, (c, t) in enumerate(zip(lines, totals.lines, strict=True)):
        rows.append(line_model(
            position=pos, description=c.description, quantity=c.quantity,
            unit_price_cents=c.unit_price_cents, tax_rate_id=c.tax_rate_id, tax_rate=c.tax_rate,
            discount_kind=c.discount_kind, discount_value=c.discount_value,
            price_book_item_id=c.price_book_item_id, subtotal_cents=t.subtotal_cents,
            discount_cents=t.discount_cents, tax_cents=t.tax_cents, total_cents=t.total_cents,
        ))
    doc.lines = rows
    store_totals(doc, totals)
    return totals


def store_totals(doc: Any, totals: money.DocumentTotals) -> None:
    for attr in ("subtotal_cents", "discount_cents", "tax_cents", "total_cents"):
        if hasattr(doc, attr):
            setattr(doc, attr, getattr(totals, attr))


def as_line_data(row: Any) -> LineData:
    """A stored line as input for another document (proposal → job → invoice)."""
    return LineData(
        description=row.description, quantity=row.quantity, unit_price_cents=row.unit_price_cents,
        tax_rate_id=row.tax_rate_id, discount_kind=row.discount_kind,
        discount_value=row.discount_value, price_book_item_id=row.price_book_item_id,
    )
