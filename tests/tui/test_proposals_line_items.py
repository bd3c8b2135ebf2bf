"""The shared line-item editor (tui.widgets.line_items) on its own, in a small host app:
rows, keys, the price-book lookup, live totals from core.money, errors mapped to rows, and
what it hands back. SQLite only; the money rules themselves are tested in tests/core."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult

from core import business, catalog, migrate, money
from core.db import Database
from core.errors import ValidationError
from core.lines import LineData
from tests.tui.support import paste, screen_text, settle, type_text, wait_until
from tui.widgets.line_items import LineItemsEditor, format_discount, load_choices, parse_discount


class Host(App[None]):
    """Just the editor, on a database (the widget reads ``app.db`` for its lookup)."""

    def __init__(self, db: Database, lines: list[LineData] | None = None,
                 discount: tuple[str, Decimal] = ("none", Decimal(0))) -> None:
        super().__init__()
        self.db, self.lines, self.discount = db, lines or [], discount
        self.changes: list[money.DocumentTotals | None] = []

    def compose(self) -> ComposeResult:
        yield LineItemsEditor(id="lines")

    async def on_mount(self) -> None:
        editor = self.query_one(LineItemsEditor)
        await editor.load(load_choices(self.db, self.lines), self.lines, *self.discount)
        editor.focus_first()

    def on_line_items_editor_changed(self, event: LineItemsEditor.Changed) -> None:
        self.changes.append(event.totals)


@pytest.fixture
def catalogue(tmp_path):
    db = Database(str(tmp_path / "crm.sqlite3"))
    migrate.upgrade(db)
    state = catalog.create_tax_rate(db, catalog.TaxRateData("State", "6.25"))
    city = catalog.create_tax_rate(db, catalog.TaxRateData("City", "2.5"))
    business.update(db, "defaults", {"tax_rate_id": state})
    catalog.create_item(db, catalog.PriceBookItemData("Window cleaning", 4500, tax_rate_id=state))
    catalog.create_item(db, catalog.PriceBookItemData("Windsor chair repair", 12000))
    yield db, state, city
    db.dispose()


def _editor(app) -> LineItemsEditor:
    return app.query_one(LineItemsEditor)


def _focused_column(app) -> tuple[int, str]:
    editor = _editor(app)
    focused = app.focused
    row = next(a for a in focused.ancestors if a in editor.rows)
    column = next(c for c in ("desc", "qty", "price", "tax", "disc") if focused.has_class(f"li-{c}"))
    return editor.rows.index(row), column


async def test_a_new_editor_has_one_row_at_the_default_rate_and_totals_follow_typing(catalogue):
    db, state, _city = catalogue
    app = Host(db)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        editor = _editor(app)
        assert len(editor.rows) == 1 and editor.rows[0].tax_rate_id == state
        assert editor.lines() == []  # an empty row is not sent
        await paste(pilot, "Deep clean")
        await pilot.press("tab")
        await type_text(pilot, "2.5")
        await pilot.press("tab")
        await type_text(pilot, "1,000")
        await settle(pilot)
        expected = money.compute_totals([money.LineInput(Decimal("2.5"), 100000, Decimal("6.25"))])
        assert editor.totals == expected and app.changes[-1] == expected
        assert "Total $2,656.25" in screen_text(app) and "$2,500.00" in screen_text(app)
        await type_text(pilot, ".1.")  # no longer an amount: totals wait, nothing guessed
        await settle(pilot)
        assert editor.totals is None and app.changes[-1] is None
        assert "Totals appear when every line is filled in correctly" in screen_text(app)


async def test_price_book_lookup_picks_with_the_keyboard_and_escape_closes(catalogue):
    db, state, _city = catalogue
    app = Host(db)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        editor = _editor(app)
        await type_text(pilot, "wind")
        await wait_until(pilot, lambda: editor.query_one("#li-matches").display, "the matches")
        assert "Window cleaning" in screen_text(app) and "Windsor chair repair" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert not editor.query_one("#li-matches").display and _focused_column(app) == (0, "desc")
        await type_text(pilot, "s")  # "winds": one match left
        await wait_until(pilot, lambda: editor.query_one("#li-matches").display, "the match")
        await pilot.press("down", "enter")
        await settle(pilot)
        assert _focused_column(app) == (0, "qty")
        (line,) = editor.lines()
        assert (line.description, line.unit_price_cents, line.tax_rate_id,
                line.price_book_item_id) == ("Windsor chair repair", 12000, None,
                                             line.price_book_item_id)
        assert line.price_book_item_id is not None
        assert not editor.query_one("#li-matches").display


async def test_rows_are_added_removed_and_walked_with_the_keys(catalogue):
    db, _state, _city = catalogue
    app = Host(db, [LineData("One", 1, 100), LineData("Two", 1, 200), LineData("Three", 1, 300)])
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        editor = _editor(app)
        await pilot.press("tab")  # to the first row's quantity
        await pilot.press("down", "down")
        assert _focused_column(app) == (2, "qty")
        await pilot.press("up")
        assert _focused_column(app) == (1, "qty")
        await pilot.press("ctrl+n")  # a new row after the current one
        await settle(pilot)
        assert _focused_column(app) == (2, "desc") and len(editor.rows) == 4
        await paste(pilot, "Inserted")
        await pilot.press("tab", "tab")
        await type_text(pilot, "1")
        await settle(pilot)
        assert [ln.description for ln in editor.lines()] == ["One", "Two", "Inserted", "Three"]
        await pilot.press("up", "ctrl+l")  # remove "Two"
        await settle(pilot)
        assert [ln.description for ln in editor.lines()] == ["One", "Inserted", "Three"]
        for _ in range(3):
            editor.rows[0].field("desc").focus()
            await pilot.press("ctrl+l")
            await settle(pilot)
        assert len(editor.rows) == 1 and editor.lines() == []  # one empty row stays
        assert editor.totals == money.compute_totals([])


async def test_errors_name_the_line_counted_over_the_lines_sent_and_point_at_it(catalogue):
    db, _state, _city = catalogue
    app = Host(db)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        editor = _editor(app)
        await paste(pilot, "Good line")
        await pilot.press("tab", "tab")
        await type_text(pilot, "10")
        await pilot.press("enter", "ctrl+n")  # a second row left empty, then a third
        await settle(pilot)
        assert len(editor.rows) == 3 and _focused_column(app) == (2, "desc")
        await paste(pilot, "Bad quantity")
        await pilot.press("tab", "ctrl+a", "ctrl+k")
        await type_text(pilot, "-2")
        with pytest.raises(ValidationError) as refused:
            editor.lines()
        assert (refused.value.field, refused.value.message) == ("line 2 quantity",
                                                                "must be at least 0")
        editor.rows[0].field("desc").focus()
        assert editor.show_error(refused.value)
        await settle(pilot)
        assert _focused_column(app) == (2, "qty")  # the third row: the second sent
        assert "Line 2 quantity: must be at least 0" in screen_text(app)
        assert not editor.show_error(ValidationError("title", "is required"))


async def test_a_stored_line_keeps_its_inactive_rate_and_its_long_description(catalogue):
    db, _state, city = catalogue
    catalog.deactivate_tax_rate(db, city)
    stored = LineData("Hedges\nback and front", Decimal(2), 5000, city, "fixed", Decimal(250))
    app = Host(db, [stored], ("percent", Decimal(5)))
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        editor = _editor(app)
        assert "2.5% City" in screen_text(app)
        select = editor.rows[0].query_one(".li-tax")
        offered = {value: str(prompt) for prompt, value in select._options}
        assert offered[city] == "2.5% City (inactive)"  # kept, and said to be inactive
        (line,) = editor.lines()
        assert line.description == "Hedges\nback and front"  # untouched: kept as stored
        assert (line.tax_rate_id, line.discount_kind, line.discount_value) == (
            city, "fixed", Decimal(250))
        assert editor.discount() == ("percent", Decimal(5))
        assert editor.rows[0].text("desc") == "Hedges back and front"
        assert editor.rows[0].text("disc") == "2.50"
        editor.rows[0].field("desc").focus()
        await pilot.press("end")
        await type_text(pilot, "!")
        assert editor.lines()[0].description == "Hedges back and front!"


@settings(max_examples=200, deadline=None)
@given(st.one_of(
    st.tuples(st.just("percent"), st.decimals(min_value=0, max_value=100, places=4)),
    st.tuples(st.just("fixed"), st.integers(min_value=0, max_value=10**12).map(Decimal)),
))
def test_a_discount_reads_back_as_it_was_stored(discount):
    kind, value = discount
    parsed = parse_discount(format_discount(kind, value), "discount")
    if value == 0:
        assert parsed == ("none", Decimal(0))
    else:
        assert parsed[0] == kind and parsed[1] == value


@pytest.mark.parametrize(("typed", "expected"), [
    ("", ("none", Decimal(0))), ("10%", ("percent", Decimal(10))), (" 7.5 % ", ("percent", Decimal("7.5"))),
    ("$1,200.50", ("fixed", Decimal(120050))), ("0", ("none", Decimal(0))),
])
def test_discounts_are_typed_as_percent_or_amount(typed, expected):
    assert parse_discount(typed, "discount") == expected


@pytest.mark.parametrize(("typed", "message"), [
    ("101%", "must be at most 100"), ("-5", "must not be negative"),
    ("ten", "is not an amount like 1234.56"), ("1.234", "is not an amount like 1234.56"),
])
def test_a_bad_discount_names_the_field(typed, message):
    with pytest.raises(ValidationError) as refused:
        parse_discount(typed, "line 3 discount")
    assert refused.value.field == "line 3 discount" and message in refused.value.message
