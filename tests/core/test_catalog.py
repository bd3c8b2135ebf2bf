"""Tax rates and the price book: what the owner sets up once and picks from on every line."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core import business, catalog
from core.errors import DomainError, StaleRecord, TransitionError, ValidationError
from core.models import AuditEvent, PriceBookItem, TaxRate
from tests.core.factories import make_item, make_tax_rate, table_dump


def _rate(db, rid) -> TaxRate:
    with db.read() as s:
        return s.get(TaxRate, rid)


def _actions(db, entity_type) -> list[str]:
    with db.read() as s:
        return list(s.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == entity_type)
                              .order_by(AuditEvent.id)))


def test_tax_rate_is_stored_exactly_and_audited(db):
    rid = catalog.create_tax_rate(db, catalog.TaxRateData("NYC sales tax", "8.875"), actor="sam")
    row = _rate(db, rid)
    assert (row.name, row.rate, row.active) == ("NYC sales tax", Decimal("8.875"), True)
    with db.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "tax_rate")).one()
    assert (event.actor, event.action, event.entity_id) == ("sam", "tax_rate.create", rid)


@pytest.mark.parametrize(("typed", "stored"), [("10", "10"), ("0", "0"), ("100", "100"),
                                               ("7.25", "7.25"), ("20.50", "20.5")])
def test_rates_read_back_as_people_typed_them(db, typed, stored):
    rid = make_tax_rate(db, f"Rate {typed}", typed)
    assert str(_rate(db, rid).rate) == stored


@pytest.mark.parametrize(
    ("name", "rate", "field", "message"),
    [
        ("", "5", "name", "is required"),
        ("VAT", "100.5", "rate", "at most 100"),
        ("VAT", "-1", "rate", "at least 0"),
        ("VAT", "8.87501", "rate", "at most 4 decimal places"),
        ("VAT", "eight", "rate", "is not a number"),
        ("VAT", 8.875, "rate", "not a float"),
        ("x" * 101, "5", "name", "too long"),
    ],
)
def test_bad_tax_rate_input_names_the_field_and_writes_nothing(db, name, rate, field, message):
    before = table_dump(db)
    with pytest.raises(ValidationError, match=message) as err:
        catalog.create_tax_rate(db, catalog.TaxRateData(name, rate))
    assert err.value.field == field
    assert table_dump(db) == before


@pytest.mark.parametrize("other", ["State tax", "STATE TAX", "  state tax "])
def test_tax_rate_names_are_unique_ignoring_case(db, other):
    make_tax_rate(db, "State tax", "6")
    before = table_dump(db)
    with pytest.raises(ValidationError, match="already exists") as err:
        catalog.create_tax_rate(db, catalog.TaxRateData(other, "7"))
    assert err.value.field == "name"
    assert table_dump(db) == before


def test_edit_rate_keeps_own_name_and_refuses_anothers(db):
    a = make_tax_rate(db, "State", "6")
    make_tax_rate(db, "County", "1")
    catalog.edit_tax_rate(db, a, catalog.TaxRateData("state", "6.25"), expected_version=1)
    row = _rate(db, a)
    assert (row.name, row.rate, row.version) == ("state", Decimal("6.25"), 2)
    with pytest.raises(ValidationError, match="already exists"):
        catalog.edit_tax_rate(db, a, catalog.TaxRateData("County", "6.25"))
    assert _actions(db, "tax_rate") == ["tax_rate.create", "tax_rate.create", "tax_rate.update"]


def test_stale_tax_rate_edit_is_refused(db):
    rid = make_tax_rate(db, "State", "6")
    catalog.edit_tax_rate(db, rid, catalog.TaxRateData("State", "6.5"), expected_version=1)
    before = table_dump(db)
    with pytest.raises(StaleRecord, match="changed elsewhere"):
        catalog.edit_tax_rate(db, rid, catalog.TaxRateData("State", "7"), expected_version=1)
    assert table_dump(db) == before


def test_deactivate_and_reactivate_tax_rate(db):
    rid = make_tax_rate(db)
    catalog.deactivate_tax_rate(db, rid)
    assert not _rate(db, rid).active
    assert [r.id for r in catalog.list_tax_rates(db)] == []
    assert [r.id for r in catalog.list_tax_rates(db, include_inactive=True)] == [rid]
    with pytest.raises(TransitionError, match="already inactive"):
        catalog.deactivate_tax_rate(db, rid)
    catalog.reactivate_tax_rate(db, rid)
    assert _rate(db, rid).active
    with pytest.raises(TransitionError, match="already active"):
        catalog.reactivate_tax_rate(db, rid)
    assert _actions(db, "tax_rate") == ["tax_rate.create", "tax_rate.deactivate",
                                        "tax_rate.activate"]


def test_default_tax_rate_cannot_be_deactivated(db):
    rid = make_tax_rate(db)
    business.update(db, "defaults", {"tax_rate_id": rid})
    before = table_dump(db)
    with pytest.raises(DomainError, match="default tax rate"):
        catalog.deactivate_tax_rate(db, rid)
    assert table_dump(db) == before


def test_list_tax_rates_sorted_by_name(db):
    for name in ("b tax", "A tax", "c tax"):
        make_tax_rate(db, name, "1")
    assert [r.name for r in catalog.list_tax_rates(db)] == ["A tax", "b tax", "c tax"]


# --------------------------------------------------------------------------- price book


def _item(db, iid) -> PriceBookItem:
    with db.read() as s:
        return s.get(PriceBookItem, iid)


def test_price_book_item_create_edit_and_line(db):
    rid = make_tax_rate(db)
    iid = catalog.create_item(db, catalog.PriceBookItemData(
        name="Gutter clean", unit_price_cents=12_550, description="Up to 2 storeys",
        unit="hour", tax_rate_id=rid))
    row = _item(db, iid)
    assert (row.name, row.unit_price_cents, row.unit, row.tax_rate_id) == (
        "Gutter clean", 12_550, "hour", rid)
    line = catalog.line_for_item(db, iid, "2.5")
    assert (line.description, line.quantity, line.unit_price_cents, line.tax_rate_id,
            line.price_book_item_id) == ("Gutter clean\nUp to 2 storeys", "2.5", 12_550, rid, iid)
    catalog.edit_item(db, iid, catalog.PriceBookItemData(name="Gutter clean", unit_price_cents=13_000),
                      expected_version=1)
    row = _item(db, iid)
    assert (row.unit_price_cents, row.tax_rate_id, row.unit, row.version) == (13_000, None, "each", 2)
    assert _actions(db, "price_book_item") == ["price_book_item.create", "price_book_item.update"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (catalog.PriceBookItemData(name=" ", unit_price_cents=1), "name", "is required"),
        (catalog.PriceBookItemData(name="A", unit_price_cents=-1), "unit price", "negative"),
        (catalog.PriceBookItemData(name="A", unit_price_cents="12.50"), "unit price", "cents"),
        (catalog.PriceBookItemData(name="A", unit_price_cents=10**13), "unit price", "too large"),
        (catalog.PriceBookItemData(name="A", unit_price_cents=1, tax_rate_id=999), "tax rate",
         "does not exist"),
        (catalog.PriceBookItemData(name="A", unit_price_cents=1, unit="u" * 31), "unit", "too long"),
    ],
)
def test_bad_item_input_is_refused(db, data, field, message):
    before = table_dump(db)
    with pytest.raises(ValidationError, match=message) as err:
        catalog.create_item(db, data)
    assert err.value.field == field
    assert table_dump(db) == before


def test_inactive_tax_rate_cannot_be_chosen_for_an_item_but_can_be_kept(db):
    rid = make_tax_rate(db)
    iid = make_item(db, tax_rate_id=rid)
    catalog.deactivate_tax_rate(db, rid)
    with pytest.raises(ValidationError, match="inactive"):
        make_item(db, "Other", tax_rate_id=rid)
    # editing the item that already uses it is fine
    catalog.edit_item(db, iid, catalog.PriceBookItemData(name="Renamed", unit_price_cents=1,
                                                         tax_rate_id=rid))
    assert _item(db, iid).name == "Renamed"


def test_item_deactivation_and_stale_edit(db):
    iid = make_item(db)
    catalog.deactivate_item(db, iid, expected_version=1)
    assert not _item(db, iid).active
    with pytest.raises(ValidationError, match="inactive"):
        catalog.line_for_item(db, iid)
    with pytest.raises(TransitionError, match="already inactive"):
        catalog.deactivate_item(db, iid)
    before = table_dump(db)
    with pytest.raises(StaleRecord):
        catalog.edit_item(db, iid, catalog.PriceBookItemData(name="X", unit_price_cents=1),
                          expected_version=1)
    assert table_dump(db) == before
    catalog.reactivate_item(db, iid)
    assert _item(db, iid).active
    assert _actions(db, "price_book_item") == [
        "price_book_item.create", "price_book_item.deactivate", "price_book_item.activate"]


def test_naughty_item_names_and_descriptions_round_trip(db, naughty_strings):
    from core.text import clean_line, clean_text

    sample = [x for x in naughty_strings if clean_line(x) and len(clean_line(x)) <= 200][::8]
    ids = [catalog.create_item(db, catalog.PriceBookItemData(name=x, unit_price_cents=1,
                                                             description=x)) for x in sample]
    with db.read() as s:
        got = {r.id: (r.name, r.description) for r in s.scalars(select(PriceBookItem))}
    assert [got[i] for i in ids] == [(clean_line(x), clean_text(x)) for x in sample]
