"""core.money to the cent: property tests of document totals (hypothesis), hand-computed
examples, deposits, and parsing/formatting what people type. No database needed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import money
from core.errors import ValidationError
from core.money import LineInput, compute_totals, round_half_up

RATES = [Decimal(r) for r in ("0", "5", "7.25", "8.875", "13", "20", "0.0001")]

quantities = st.decimals(min_value=Decimal(0), max_value=Decimal(1000), places=4,
                         allow_nan=False, allow_infinity=False)
prices = st.integers(min_value=0, max_value=5_000_000)


@st.composite
def lines_and_discount(draw):
    """Random valid lines (0–3 distinct tax rates, line discounts) and a document discount."""
    rates = draw(st.lists(st.sampled_from(RATES[1:]), min_size=0, max_size=3, unique=True))
    n = draw(st.integers(min_value=1, max_value=8))
    lines = []
    for _ in range(n):
        qty = draw(quantities)
        price = draw(prices)
        rate = draw(st.sampled_from(rates)) if rates else Decimal(0)
        gross = round_half_up(qty * price)
        kind = draw(st.sampled_from(money.DISCOUNT_KINDS))
        if kind == "percent":
            value = draw(st.decimals(min_value=0, max_value=100, places=4,
                                     allow_nan=False, allow_infinity=False))
        elif kind == "fixed":
            value = Decimal(draw(st.integers(min_value=0, max_value=gross)))
        else:
            value = Decimal(0)
        lines.append(LineInput(qty, price, rate, kind, value))
    net = compute_totals(lines)
    base = net.subtotal_cents - net.discount_cents
    doc_kind = draw(st.sampled_from(money.DISCOUNT_KINDS))
    if doc_kind == "percent":
        doc_value = draw(st.decimals(min_value=0, max_value=100, places=4,
                                     allow_nan=False, allow_infinity=False))
    elif doc_kind == "fixed":
        doc_value = Decimal(draw(st.integers(min_value=0, max_value=base)))
    else:
        doc_value = Decimal(0)
    return lines, doc_kind, doc_value


def _assert_no_float(totals: money.DocumentTotals) -> None:
    for value in (totals.subtotal_cents, totals.discount_cents, totals.tax_cents, totals.total_cents):
        assert type(value) is int
    for line in totals.lines:
        for value in (line.subtotal_cents, line.discount_cents, line.taxable_cents,
                      line.tax_cents, line.total_cents):
            assert type(value) is int
        assert type(line.tax_rate) is Decimal
    for rate, tax in totals.tax_by_rate.items():
        assert type(rate) is Decimal and type(tax) is int


@settings(max_examples=300, deadline=None)
@given(lines_and_discount())
def test_totals_add_up_to_the_cent_without_floats(case):
    lines, kind, value = case
    t = compute_totals(lines, kind, value)
    _assert_no_float(t)
    assert sum(line.total_cents for line in t.lines) == t.total_cents
    assert t.subtotal_cents - t.discount_cents + t.tax_cents == t.total_cents
    assert sum(t.tax_by_rate.values()) == t.tax_cents
    assert set(t.tax_by_rate) <= {line.tax_rate for line in lines}
    for line_in, line in zip(lines, t.lines, strict=True):
        assert line.subtotal_cents == round_half_up(line_in.quantity * line_in.unit_price_cents)
        assert line.taxable_cents == line.subtotal_cents - line.discount_cents
        assert line.tax_cents == round_half_up(Decimal(line.taxable_cents) * line_in.tax_rate / 100)
        assert 0 <= line.taxable_cents <= line.subtotal_cents
        assert line.tax_cents >= 0
    assert t.total_cents >= 0


@settings(max_examples=200, deadline=None)
@given(lines_and_discount())
def test_document_discount_shares_add_up_exactly(case):
    lines, kind, value = case
    without = compute_totals(lines)
    with_doc = compute_totals(lines, kind, value)
    base = without.subtotal_cents - without.discount_cents
    expected = {"none": 0, "percent": round_half_up(Decimal(base) * value / 100),
                "fixed": int(value)}[kind]
    shares = [w.discount_cents - wo.discount_cents
              for w, wo in zip(with_doc.lines, without.lines, strict=True)]
    assert sum(shares) == expected
    for share, line in zip(shares, without.lines, strict=True):
        # each line's share is non-negative and never more than what the line is worth
        assert 0 <= share <= line.taxable_cents


@settings(max_examples=100, deadline=None)
@given(lines_and_discount())
def test_a_hundred_percent_discount_leaves_nothing_to_pay(case):
    lines, _kind, _value = case
    t = compute_totals(lines, "percent", Decimal(100))
    assert t.total_cents == 0 and t.tax_cents == 0
    assert all(line.taxable_cents == 0 for line in t.lines)


@pytest.mark.parametrize(
    ("lines", "kind", "value", "subtotal", "discount", "tax", "total"),
    [
        # 3 × $19.99 = $59.97; 8.875% of 5997 = 532.23375 → 532
        ([LineInput(Decimal(3), 1999, Decimal("8.875"))], "none", 0, 5997, 0, 532, 6529),
        # 1.5 × $33.33 = 49.995 → $50.00 (half up)
        ([LineInput(Decimal("1.5"), 3333)], "none", 0, 5000, 0, 0, 5000),
        # 2.5 h × $85 = $212.50, −10% = $191.25, 7.25% tax = 1386.5625 → $13.87
        ([LineInput(Decimal("2.5"), 8500, Decimal("7.25"))], "percent", Decimal(10),
         21250, 2125, 1387, 20512),
        # half a cent rounds up; 0.25% of 200 cents = 0.5 → 1
        ([LineInput(Decimal("0.5"), 1), LineInput(Decimal(1), 200, Decimal("0.25"))], "none", 0,
         201, 0, 1, 202),
        # a fixed $1.00 over three equal lines: 34 + 33 + 33, tax per line after its share
        ([LineInput(Decimal(1), 100, Decimal(10))] * 3, "fixed", Decimal(100), 300, 100, 21, 221),
        # a line discount of 50% and a fixed one, then 20% off the document, two tax rates
        ([LineInput(Decimal(2), 1000, Decimal(20), "percent", Decimal(50)),
          LineInput(Decimal(1), 3000, Decimal(5), "fixed", Decimal(500))],
         "percent", Decimal(20), 5000, 1000 + 500 + 700, 160 + 100, 3060),
    ],
)
def test_hand_computed_examples(lines, kind, value, subtotal, discount, tax, total):
    t = compute_totals(lines, kind, Decimal(value))
    assert (t.subtotal_cents, t.discount_cents, t.tax_cents, t.total_cents) == (
        subtotal, discount, tax, total)


def test_the_fixed_discount_shares_go_to_the_earliest_lines_first():
    t = compute_totals([LineInput(Decimal(1), 100)] * 3, "fixed", Decimal(100))
    assert [line.discount_cents for line in t.lines] == [34, 33, 33]


def test_tax_by_rate_groups_lines_of_the_same_rate():
    t = compute_totals([LineInput(Decimal(1), 1000, Decimal("8.875")),
                        LineInput(Decimal(1), 999, Decimal("8.875")),
                        LineInput(Decimal(1), 500, Decimal(5)),
                        LineInput(Decimal(1), 700)])
    assert t.tax_by_rate == {Decimal("8.875"): 89 + 89, Decimal(5): 25}


def test_round_half_up_goes_away_from_zero():
    assert round_half_up(Decimal("0.5")) == 1
    assert round_half_up(Decimal("1.4999")) == 1
    assert round_half_up(Decimal("-0.5")) == -1
    assert round_half_up(Decimal("2.5")) == 3  # not banker's rounding


@pytest.mark.parametrize(
    ("lines", "kind", "value", "field"),
    [
        ([LineInput(Decimal(1), 100, discount_kind="fixed", discount_value=Decimal(101))],
         "none", 0, "line 1 discount"),
        ([LineInput(Decimal(1), 100, discount_kind="percent", discount_value=Decimal(101))],
         "none", 0, "line 1 discount"),
        ([LineInput(Decimal(1), 100, discount_kind="fixed", discount_value=Decimal("1.5"))],
         "none", 0, "line 1 discount"),
        ([LineInput(Decimal(1), 100)], "fixed", Decimal(101), "discount"),
        ([LineInput(Decimal(1), 100)], "percent", Decimal("100.01"), "discount"),
        ([LineInput(Decimal(1), 100)], "bogus", Decimal(1), "discount"),
    ],
)
def test_impossible_discounts_are_refused_naming_the_field(lines, kind, value, field):
    with pytest.raises(ValidationError) as err:
        compute_totals(lines, kind, value)
    assert err.value.field == field


def test_an_unknown_rounding_rule_is_refused():
    with pytest.raises(ValidationError) as err:
        compute_totals([LineInput(Decimal(1), 100)], rounding_rule="bankers")
    assert err.value.field == "rounding_rule"


@pytest.mark.parametrize(
    ("total", "kind", "value", "expected"),
    [
        (10000, "none", Decimal(0), 0),
        (10000, "percent", Decimal(25), 2500),
        (999, "percent", Decimal(50), 500),  # 499.5 → 500
        (10000, "fixed", Decimal(3000), 3000),
        (10000, "percent", Decimal(100), 10000),
    ],
)
def test_deposit_amounts(total, kind, value, expected):
    assert money.deposit_cents(total, kind, value) == expected


@pytest.mark.parametrize(
    ("kind", "value"),
    [("fixed", Decimal(10001)), ("percent", Decimal(101)), ("fixed", Decimal("1.5")),
     ("half", Decimal(1))],
)
def test_impossible_deposits_are_refused(kind, value):
    with pytest.raises(ValidationError) as err:
        money.deposit_cents(10000, kind, value)
    assert err.value.field == "deposit"


# --------------------------------------------------------------------------- parse / format


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-(money.MAX_CENTS - 1), max_value=money.MAX_CENTS - 1),
       st.sampled_from(["USD", "EUR", "GBP", "CAD"]))
def test_formatted_money_parses_back_to_the_same_cents(cents, currency):
    text = money.format_money(cents, currency)
    assert money.parse_money(text, allow_negative=True) == cents


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=money.MAX_CENTS - 1))
def test_decimal_amounts_round_trip(cents):
    value = money.cents_to_decimal(cents)
    assert type(value) is Decimal
    assert money.parse_money(value) == cents
    assert money.parse_money(str(value)) == cents


@pytest.mark.parametrize(
    ("typed", "cents"),
    [("1,234.5", 123450), ("$20", 2000), (" 0.01 ", 1), ("€3.10", 310), ("£1 000", 100000),
     (7, 700), (Decimal("19.99"), 1999), ("+5", 500)],
)
def test_what_people_type_is_read_exactly(typed, cents):
    assert money.parse_money(typed) == cents


def test_format_money_shows_symbol_grouping_and_sign():
    assert money.format_money(123456789) == "$1,234,567.89"
    assert money.format_money(-5) == "-$0.05"
    assert money.format_money(100, "EUR") == "€1.00"
    assert money.format_money(100, "SEK") == "1.00 SEK"


@pytest.mark.parametrize(
    ("typed", "kwargs", "message"),
    [
        ("abc", {}, "is not an amount"),
        ("1.234", {}, "is not an amount"),
        ("1e5", {}, "is not an amount"),
        ("", {}, "is required"),
        ("   ", {}, "is required"),
        ("-5", {}, "must not be negative"),
        ("0", {"allow_zero": False}, "must be more than zero"),
        ("100000000000", {}, "is too large"),
        (Decimal("1.005"), {}, "more than two decimal places"),
        (True, {}, "is not an amount"),
    ],
)
def test_bad_amounts_are_refused_naming_the_field(typed, kwargs, message):
    with pytest.raises(ValidationError) as err:
        money.parse_money(typed, "deposit amount", **kwargs)
    assert err.value.field == "deposit amount"
    assert message in err.value.message


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ("1.23456", "quantity", "at most 4 decimal places"),
        ("-1", "quantity", "must be at least 0"),
        ("lots", "quantity", "is not a number"),
        ("Infinity", "quantity", "finite"),
    ],
)
def test_bad_quantities_are_refused_naming_the_field(typed, field, message):
    with pytest.raises(ValidationError) as err:
        money.parse_quantity(typed, field)
    assert err.value.field == field and message in err.value.message


def test_quantities_and_rates_never_accept_floats():
    with pytest.raises(ValidationError):
        money.parse_quantity(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as err:
        money.parse_rate("100.5")
    assert err.value.field == "rate"
    assert money.parse_rate("8.875") == Decimal("8.875")


@pytest.mark.parametrize("bad", [1.5, float("nan"), Decimal("Infinity"), Decimal("NaN"), True])
def test_parse_money_refuses_floats_and_non_finite_values(bad):
    with pytest.raises(ValidationError) as err:
        money.parse_money(bad, "amount")
    assert err.value.field == "amount"
