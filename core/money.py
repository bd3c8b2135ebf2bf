"""Money: integer minor units (cents), Decimal arithmetic, one rounding rule.

The rule (``half_up_per_line``) is stored on every document, so a document's totals never
change when a later version changes the default. Per line: gross = quantity × unit price,
rounded half-up to the cent; a line discount (percent or fixed) comes off the gross; a
document discount is spread over the lines in proportion to their net (largest remainder,
so the shares add up to the cent); tax is the line's taxable amount × its rate, rounded
half-up. Document totals are sums of line figures, so lines always add up to the total.
No float is ever used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.errors import ValidationError

ROUNDING_RULE = "half_up_per_line"
DISCOUNT_KINDS = ("none", "percent", "fixed")
MAX_CENTS = 10**13  # $100 billion: beyond any invoice a small business writes

CURRENCY_SYMBOLS = {"USD": "$", "CAD": "$", "AUD": "$", "NZD": "$", "EUR": "€", "GBP": "£"}


def round_half_up(value: Decimal) -> int:
    """Round a Decimal amount of cents to a whole cent, halves away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def cents_to_decimal(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def format_money(cents: int, currency: str = "USD") -> str:
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    symbol = CURRENCY_SYMBOLS.get(currency, "")
    text = f"{sign}{symbol}{whole:,}.{frac:02d}"
    return text if symbol else f"{text} {currency}"


_MONEY_RE = re.compile(r"^[+-]?\d+(\.\d{1,2})?$")


def parse_money(text: str | int | Decimal, field: str = "amount", *, allow_negative: bool = False,
                allow_zero: bool = True) -> int:
    """Parse what a person types (``1,234.5``, ``$20``) into cents, or raise naming the field."""
    if isinstance(text, bool) or isinstance(text, float):
        raise ValidationError(field, "is not an amount (give text or a Decimal, never a float)")
    if isinstance(text, int):
        cents = text * 100
    elif isinstance(text, Decimal):
        if not text.is_finite():
            raise ValidationError(field, "must be a finite amount")
        if text != text.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP):
            raise ValidationError(field, "has more than two decimal places")
        cents = int(text * 100)
    else:
        raw = str(text).strip().replace(",", "").replace("$", "").replace("€", "").replace("£", "")
        raw = raw.replace(" ", "")
        if not raw:
            raise ValidationError(field, "is required")
        if not _MONEY_RE.match(raw):
            raise ValidationError(field, f"'{str(text)[:40]}' is not an amount like 1234.56")
        cents = int(Decimal(raw) * 100)
    if cents < 0 and not allow_negative:
        raise ValidationError(field, "must not be negative")
    if cents == 0 and not allow_zero:
        raise ValidationError(field, "must be more than zero")
    if abs(cents) >= MAX_CENTS:
        raise ValidationError(field, "is too large")
    return cents


def parse_decimal(text: str | int | Decimal, field: str, *, max_places: int = 4,
                  minimum: Decimal | None = Decimal(0), maximum: Decimal | None = None) -> Decimal:
    """Parse a quantity or a rate typed by a person; never via float."""
    if isinstance(text, bool) or isinstance(text, float):
        raise ValidationError(field, "must be given as text or a Decimal, not a float")
    try:
        value = Decimal(str(text).strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationError(field, f"'{str(text)[:40]}' is not a number") from None
    if not value.is_finite():
        raise ValidationError(field, "must be a finite number")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > max_places:
        raise ValidationError(field, f"allows at most {max_places} decimal places")
    if minimum is not None and value < minimum:
        raise ValidationError(field, f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise ValidationError(field, f"must be at most {maximum}")
    if abs(value) >= Decimal(10**9):
        raise ValidationError(field, "is too large")
    if value == 0:
        return Decimal(0)
    value = value.normalize()
    # normalize() writes 10 as 1E+1; keep plain digits for storage and display
    exponent = value.as_tuple().exponent
    return value.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else value


def parse_quantity(text: str | int | Decimal, field: str = "quantity") -> Decimal:
    value = parse_decimal(text, field, max_places=4, minimum=Decimal(0))
    return value


def parse_rate(text: str | int | Decimal, field: str = "rate") -> Decimal:
    """A percentage such as ``8.875`` (exact, up to 4 decimal places, 0–100)."""
    return parse_decimal(text, field, max_places=4, minimum=Decimal(0), maximum=Decimal(100))


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price_cents: int
    tax_rate: Decimal = Decimal(0)  # percent
    discount_kind: str = "none"
    discount_value: Decimal = Decimal(0)  # percent, or cents for "fixed"


@dataclass(frozen=True)
class LineTotals:
    subtotal_cents: int  # quantity × unit price
    discount_cents: int  # line discount + share of the document discount
    taxable_cents: int
    tax_cents: int
    total_cents: int
    tax_rate: Decimal


@dataclass(frozen=True)
class DocumentTotals:
    lines: list[LineTotals]
    subtotal_cents: int
    discount_cents: int
    tax_cents: int
    total_cents: int
    tax_by_rate: dict[Decimal, int] = field(default_factory=dict)
    rounding_rule: str = ROUNDING_RULE


def _discount(base: int, kind: str, value: Decimal, field: str) -> int:
    if kind == "none":
        return 0
    if kind == "percent":
        if value < 0 or value > 100:
            raise ValidationError(field, "percent must be between 0 and 100")
        return round_half_up(Decimal(base) * value / 100)
    if kind == "fixed":
        cents = int(value)
        if cents != value or cents < 0:
            raise ValidationError(field, "fixed discount must be a whole, non-negative number of cents")
        return cents
    raise ValidationError(field, f"unknown discount kind '{kind}' (none, percent, fixed)")


def _allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` cents over ``weights`` proportionally; shares sum exactly to ``total``."""
    wsum = sum(weights)
    if wsum <= 0 or total == 0:
        return [0] * len(weights)
    shares = [total * w // wsum for w in weights]
    remainders = [(total * w % wsum, -i) for i, w in enumerate(weights)]
    left = total - sum(shares)
    for _, neg_i in sorted(remainders, reverse=True)[:left]:
        shares[-neg_i] += 1
    return shares


def compute_totals(lines: Sequence[LineInput], discount_kind: str = "none",
                   discount_value: Decimal = Decimal(0),
                   rounding_rule: str = ROUNDING_RULE) -> DocumentTotals:
    if rounding_rule != ROUNDING_RULE:
        raise ValidationError("rounding_rule", f"unknown rounding rule '{rounding_rule}'")
    gross: list[int] = []
    nets: list[int] = []
    line_discounts: list[int] = []
    for i, line in enumerate(lines):
        g = round_half_up(line.quantity * line.unit_price_cents)
        d = _discount(g, line.discount_kind, line.discount_value, f"line {i + 1} discount")
        if d > max(g, 0):
            raise ValidationError(f"line {i + 1} discount", "is larger than the line amount")
        gross.append(g)
        line_discounts.append(d)
        nets.append(g - d)
    net_sum = sum(nets)
    doc_discount = _discount(net_sum, discount_kind, discount_value, "discount")
    if doc_discount > max(net_sum, 0):
        raise ValidationError("discount", "is larger than the document subtotal")
    shares = _allocate(doc_discount, [max(n, 0) for n in nets])
    out: list[LineTotals] = []
    tax_by_rate: dict[Decimal, int] = {}
    for line, g, d, n, share in zip(lines, gross, line_discounts, nets, shares, strict=True):
        taxable = n - share
        tax = round_half_up(Decimal(taxable) * line.tax_rate / 100)
        out.append(LineTotals(g, d + share, taxable, tax, taxable + tax, line.tax_rate))
        if line.tax_rate:
            tax_by_rate[line.tax_rate] = tax_by_rate.get(line.tax_rate, 0) + tax
    return DocumentTotals(
        lines=out,
        subtotal_cents=sum(gross),
        discount_cents=sum(t.discount_cents for t in out),
        tax_cents=sum(t.tax_cents for t in out),
        total_cents=sum(t.total_cents for t in out),
        tax_by_rate=tax_by_rate,
        rounding_rule=rounding_rule,
    )


def deposit_cents(total_cents: int, kind: str, value: Decimal) -> int:
    """The deposit a proposal asks for: a percent of its total (half-up) or a fixed amount."""
    if kind == "none":
        return 0
    if kind == "percent":
        if not Decimal(0) <= value <= Decimal(100):
            raise ValidationError("deposit", "percent must be between 0 and 100")
        return round_half_up(Decimal(total_cents) * value / 100)
    if kind == "fixed":
        cents = int(value)
        if cents != value or cents < 0:
            raise ValidationError("deposit", "must be a whole, non-negative number of cents")
        if cents > total_cents:
            raise ValidationError("deposit", "is larger than the proposal total")
        return cents
    raise ValidationError("deposit", f"unknown deposit kind '{kind}' (none, percent, fixed)")
