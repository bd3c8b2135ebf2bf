"""The line-item table editor shared by proposals, jobs and invoices.

One row per line: description (looks the price book up as you type), quantity, unit price,
tax rate (the active rates), line discount, and the line's amount; under the rows the
document discount and the live subtotal / discount / tax / total, computed by
:func:`core.money.compute_totals` from exactly what the rows say (never floats).

The API, for a form that holds one editor::

    choices = load_choices(db, lines)        # in the form's thread worker: rates, currency
    await editor.load(choices, lines, discount_kind, discount_value)   # on the UI thread
    lines = editor.lines()                   # list[LineData]; raises ValidationError
    kind, value = editor.discount()          # the document discount; raises ValidationError
    editor.totals                            # DocumentTotals, or None while a field is wrong
    editor.values()                          # the raw texts, for "is the form dirty?"
    editor.draft_values() / await editor.apply_draft(values)   # as JSON, for autosaved drafts
    editor.show_error(error)                 # True when the error names one of its fields
    @on(LineItemsEditor.Changed)             # posted after every edit, with the new totals

Field names in errors are those of :func:`core.lines.clean_lines` ("line 2 unit price"),
counted over the lines sent; :meth:`LineItemsEditor.show_error` maps them back to the rows.

Decisions where the issue is silent:

- A discount is typed as ``10%`` (percent) or an amount such as ``5.00`` (fixed, in money;
  the services take fixed discounts in cents). Empty means no discount.
- Rows left entirely empty are not sent (an extra row costs nothing); a new document starts
  with one empty row taxed at the business's default rate. An empty quantity means 1.
- Picking a price book item fills description, unit price and the item's tax rate, and
  links the line to the item. Matches show under the rows; ``down`` moves into them,
  ``enter`` picks, ``escape`` closes them.
- The amount column is quantity × unit price less the line's own discount; the document
  discount appears once, in the totals.
- Descriptions are one line here. A stored description with several lines (from the price
  book's long description, say) is shown joined and kept exactly as stored unless edited.
- A line taxed at a rate deactivated since keeps that rate (listed as "inactive") until the
  user picks another: documents copy the percentage, so nothing changes behind their back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Select
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from core import business, money
from core.catalog import search_items
from core.db import Database
from core.errors import DomainError, ValidationError
from core.lines import LineData
from core.lists import PriceBookItemRow, TaxRateRow, list_tax_rates
from tui import render

NO_TAX = 0  # the Select value of "No tax" (row ids start at 1)
SEARCH_DEBOUNCE = 0.15
COLUMNS = ("desc", "qty", "price", "tax", "disc")
# the suffix of a validation field name ("line 2 unit price") -> the row's column
_FIELD_COLUMNS = {"description": "desc", "quantity": "qty", "unit price": "price",
                  "tax rate": "tax", "discount": "disc", "discount kind": "disc", "item": "desc"}


@dataclass(frozen=True)
class LineChoices:
    """What the rows offer: tax rates (active ones, plus any the lines already use), the
    default rate for a new line and the currency amounts are shown in."""

    tax_rates: tuple[TaxRateRow, ...]
    default_tax_rate_id: int | None
    currency: str


def load_choices(db: Database, lines: Sequence[LineData] = ()) -> LineChoices:
    """Read the editor's choices (call it from a thread worker, next to the document)."""
    used = {line.tax_rate_id for line in lines if line.tax_rate_id is not None}
    rates = tuple(r for r in list_tax_rates(db, include_inactive=True) if r.active or r.id in used)
    default = business.load(db, "defaults").get("tax_rate_id")
    active_ids = {r.id for r in rates if r.active}
    currency = business.load(db, "business")["currency"]
    return LineChoices(rates, default if default in active_ids else None, currency)


def parse_discount(text: str, field: str) -> tuple[str, Decimal]:
    """``10%`` -> percent 10; ``5.00`` -> fixed 500 (cents); empty -> none."""
    raw = render.one_line(text).replace(" ", "")
    if not raw:
        return "none", Decimal(0)
    if raw.endswith("%"):
        rate = money.parse_rate(raw[:-1], field)
        return ("percent", rate) if rate else ("none", Decimal(0))
    cents = money.parse_money(raw, field)
    return ("fixed", Decimal(cents)) if cents else ("none", Decimal(0))


def format_discount(kind: str, value: Decimal | str | int) -> str:
    """The text a discount is typed as (the inverse of :func:`parse_discount`)."""
    if kind == "percent":
        return f"{Decimal(value).normalize():f}%"
    if kind == "fixed":
        return str(money.cents_to_decimal(int(Decimal(value))))
    return ""


def _price_text(cents: int) -> str:
    return str(money.cents_to_decimal(cents))


def _quantity_text(value: Decimal | str | int) -> str:
    quantity = Decimal(value)
    return f"{quantity.normalize():f}" if quantity else "0"


def _text(values: dict[str, Any] | None, key: str) -> str:
    value = (values or {}).get(key)
    return value if isinstance(value, str) else ""


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _rate_label(rate: TaxRateRow) -> Text:
    label = f"{rate.rate.normalize():f}% {render.one_line(rate.name)}"
    return render.plain(label if rate.active else f"{label} (inactive)")


class LineRow(Horizontal):
    """One line: its inputs, the price book item it came from and the stored description."""

    def __init__(self, choices: LineChoices, line: LineData | None,
                 raw: dict[str, Any] | None = None) -> None:
        super().__init__(classes="li-row")
        self.choices = choices
        self.item_id = line.price_book_item_id if line else None
        self.stored_description = line.description if line else ""
        self._raw = raw
        if raw is not None:
            self.item_id = _int_or_none(raw.get("item_id"))
            self.stored_description = _text(raw, "stored")
        self.shown_description = render.one_line(self.stored_description.replace("\n", " "))
        self.skip_search_value: str | None = (
            _text(raw, "desc") if raw is not None else self.shown_description) or None
        self._line = line

    def compose(self) -> ComposeResult:
        line = self._line
        options = [(Text("No tax"), NO_TAX)] + [(_rate_label(r), r.id) for r in self.choices.tax_rates]
        if line is None:
            tax = self.choices.default_tax_rate_id or NO_TAX
        else:
            tax = line.tax_rate_id or NO_TAX
        known = {value for _label, value in options}
        texts = {
            "desc": self.shown_description,
            "qty": _quantity_text(line.quantity) if line else "1",
            "price": _price_text(line.unit_price_cents) if line else "",
            "disc": format_discount(line.discount_kind, line.discount_value) if line else "",
        }
        raw = self._raw
        if raw is not None:
            texts = {key: _text(raw, key) for key in texts}
            tax = _int_or_none(raw.get("tax")) or NO_TAX
        yield Input(texts["desc"], placeholder="Description or price book item",
                    classes="li-desc", compact=True)
        yield Input(texts["qty"], classes="li-qty", compact=True)
        yield Input(texts["price"], placeholder="0.00", classes="li-price", compact=True)
        yield Select(options, value=tax if tax in known else NO_TAX, allow_blank=False,
                     classes="li-tax", compact=True)
        yield Input(texts["disc"], placeholder="10%/5.00", classes="li-disc", compact=True)
        yield Label("", classes="li-amount", markup=False)

    def field(self, column: str) -> Widget:
        return self.query_one(f".li-{column}")

    def text(self, column: str) -> str:
        return self.query_one(f".li-{column}", Input).value

    @property
    def tax_rate_id(self) -> int | None:
        value = self.query_one(".li-tax", Select).value
        return value if isinstance(value, int) and value != NO_TAX else None

    def is_blank(self) -> bool:
        return (not self.text("desc").strip() and not self.text("price").strip()
                and self.text("qty").strip() in ("", "1") and not self.text("disc").strip())

    def description(self) -> str:
        typed = self.text("desc")
        return self.stored_description if typed == self.shown_description else typed

    def data(self, number: int) -> LineData:
        """What the row says, as a service's input; raises ValidationError naming the field."""
        n = f"line {number}"
        quantity = money.parse_quantity(self.text("qty").strip() or "1", f"{n} quantity")
        if not self.text("price").strip():
            raise ValidationError(f"{n} unit price", "is required (0 for no charge)")
        price = money.parse_money(self.text("price"), f"{n} unit price")
        kind, value = parse_discount(self.text("disc"), f"{n} discount")
        return LineData(description=self.description(), quantity=quantity,
                        unit_price_cents=price, tax_rate_id=self.tax_rate_id,
                        discount_kind=kind, discount_value=value,
                        price_book_item_id=self.item_id)

    def values(self) -> tuple[object, ...]:
        return (self.text("desc"), self.text("qty"), self.text("price"), self.tax_rate_id,
                self.text("disc"), self.item_id)

    def raw(self) -> dict[str, Any]:
        """The row as typed, as JSON (for a draft)."""
        return {"desc": self.text("desc"), "stored": self.stored_description,
                "qty": self.text("qty"), "price": self.text("price"), "tax": self.tax_rate_id,
                "disc": self.text("disc"), "item_id": self.item_id}

    def pick(self, item: PriceBookItemRow) -> None:
        """Fill the row from a price book item."""
        name = render.one_line(item.name)
        self.item_id = item.id
        self.stored_description = self.shown_description = name
        self.skip_search_value = name
        self.query_one(".li-desc", Input).value = name
        self.query_one(".li-price", Input).value = _price_text(item.unit_price_cents)
        select = self.query_one(".li-tax", Select)
        rate_ids = {r.id for r in self.choices.tax_rates}
        select.value = item.tax_rate_id if item.tax_rate_id in rate_ids else NO_TAX


class LineItemsEditor(Vertical):
    """The line table with live totals. See the module docstring for its API."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")
    BINDINGS = [
        Binding("ctrl+n", "add_line", "Add line", id="line_items.add"),
        Binding("ctrl+l", "remove_line", "Remove line", id="line_items.remove"),
        Binding("down", "down", "Next line / price book", id="line_items.down", show=False),
        Binding("up", "up", "Previous line", id="line_items.up", show=False),
        Binding("escape", "close_matches", "Close the price book matches",
                id="line_items.close_matches", show=False),
    ]

    class Changed(Message):
        """A row or the discount changed; ``totals`` is None while a field is wrong."""

        def __init__(self, editor: LineItemsEditor, totals: money.DocumentTotals | None) -> None:
            super().__init__()
            self.editor = editor
            self.totals = totals

        @property
        def control(self) -> LineItemsEditor:
            return self.editor

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.choices = LineChoices((), None, "USD")
        self.totals: money.DocumentTotals | None = None
        self._loaded = False
        self._sent: list[LineRow] = []
        self._matches: list[PriceBookItemRow] = []
        self._match_row: LineRow | None = None
        self._search_timer: Timer | None = None
        self._search_generation = 0

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(classes="li-header"):
            for title, column in (("Description", "desc"), ("Qty", "qty"),
                                  ("Unit price", "price"), ("Tax", "tax"),
                                  ("Discount", "disc"), ("Amount", "amount")):
                yield Label(title, classes=f"li-{column}", markup=False)
        yield Vertical(id="li-rows")
        yield OptionList(id="li-matches")
        yield Label("", id="li-error", classes="li-error", markup=False)
        with Horizontal(classes="li-footer"):
            yield Label("Discount on all", classes="li-doc-label", markup=False)
            yield Input(placeholder="10%/5.00", id="li-doc-discount", compact=True)
            yield Label("", id="li-hint", markup=False)
        yield Label("", id="li-totals", markup=False)

    def on_mount(self) -> None:
        self.query_one("#li-matches").display = False
        self.query_one("#li-error").display = False
        self._show_hint()

    def _show_hint(self) -> None:
        crm: Any = self.app
        key_for = getattr(crm, "key_for", lambda _id, default: default)
        add = key_for("line_items.add", "ctrl+n").replace("ctrl+", "^")
        remove = key_for("line_items.remove", "ctrl+l").replace("ctrl+", "^")
        self.query_one("#li-hint", Label).update(
            render.content(f"{add} add line · {remove} remove · type to find in price book")
        )

    # ------------------------------------------------------------------ API

    @property
    def rows(self) -> list[LineRow]:
        return list(self.query_one("#li-rows").query_children(LineRow).results())

    async def load(self, choices: LineChoices, lines: Sequence[LineData] = (),
                   discount_kind: str = "none", discount_value: Decimal | str | int = 0) -> None:
        """Show ``lines`` (one empty row when there are none) and the document discount."""
        self.choices = choices
        container = self.query_one("#li-rows")
        await container.remove_children()
        rows = [LineRow(choices, line) for line in lines] or [LineRow(choices, None)]
        await container.mount_all(rows)
        self.query_one("#li-doc-discount", Input).value = format_discount(
            discount_kind, discount_value)
        self._loaded = True
        self.recompute()

    def lines(self) -> list[LineData]:
        """The rows that are not empty, as the services take them."""
        self._sent = [row for row in self.rows if not row.is_blank()]
        return [row.data(number) for number, row in enumerate(self._sent, 1)]

    def discount(self) -> tuple[str, Decimal]:
        return parse_discount(self.query_one("#li-doc-discount", Input).value, "discount")

    def values(self) -> tuple[object, ...]:
        return (tuple(row.values() for row in self.rows),
                self.query_one("#li-doc-discount", Input).value)

    def draft_values(self) -> dict[str, Any]:
        """Every row as typed (even when it does not parse yet), as JSON, for a draft."""
        return {"rows": [row.raw() for row in self.rows],
                "discount": self.query_one("#li-doc-discount", Input).value}

    async def apply_draft(self, values: dict[str, Any]) -> None:
        """Put :meth:`draft_values` back (after :meth:`load` gave the choices)."""
        rows = [r for r in values.get("rows") or [] if isinstance(r, dict)]
        container = self.query_one("#li-rows")
        await container.remove_children()
        await container.mount_all([LineRow(self.choices, None, raw) for raw in rows]
                                  or [LineRow(self.choices, None)])
        self.query_one("#li-doc-discount", Input).value = _text(values, "discount")
        self.recompute()

    def focus_first(self) -> None:
        rows = self.rows
        if rows:
            rows[0].field("desc").focus()

    def show_error(self, error: DomainError) -> bool:
        """Show a refused save under the rows and move to the field it names, if it is ours."""
        if not isinstance(error, ValidationError):
            return False
        target = self._error_widget(error.field)
        if target is None:
            return False
        self._set_error(render.error_text(error), target)
        target.focus()
        target.scroll_visible(animate=False)
        return True

    # ------------------------------------------------------------------ totals

    def recompute(self) -> None:
        """Recompute the totals from the rows; a field that does not parse shows as a dash."""
        if not self._loaded:
            return
        rows = self.rows
        self.totals = None
        try:
            lines = [(row, row.data(number)) for number, row in
                     enumerate((r for r in rows if not r.is_blank()), 1)]
            kind, value = self.discount()
            inputs = [money.LineInput(Decimal(d.quantity), d.unit_price_cents,
                                      self._rate(d.tax_rate_id), d.discount_kind,
                                      Decimal(d.discount_value)) for _row, d in lines]
            own = money.compute_totals(inputs)  # each line less its own discount only
            self.totals = money.compute_totals(inputs, kind, value)
        except ValidationError:
            lines, own = [], None
        amounts = {id(row): t.taxable_cents for (row, _d), t in
                   zip(lines, own.lines if own else [], strict=False)}
        currency = self.choices.currency
        for row in rows:
            cents = amounts.get(id(row))
            shown = "" if row.is_blank() else "—" if cents is None else money.format_money(
                cents, currency)
            row.query_one(".li-amount", Label).update(render.plain(shown, justify="right"))
        self._show_totals()
        self.post_message(self.Changed(self, self.totals))

    def _rate(self, tax_rate_id: int | None) -> Decimal:
        for rate in self.choices.tax_rates:
            if rate.id == tax_rate_id:
                return rate.rate
        return Decimal(0)

    def _show_totals(self) -> None:
        totals, currency = self.totals, self.choices.currency
        label = self.query_one("#li-totals", Label)
        if totals is None:
            label.update(render.plain("Totals appear when every line is filled in correctly",
                                      style="dim", justify="right"))
            return
        fmt = money.format_money
        parts = Text(justify="right", no_wrap=True, overflow="ellipsis", end="")
        parts.append("Subtotal ", "dim")
        parts.append(fmt(totals.subtotal_cents, currency))
        if totals.discount_cents:
            parts.append("  Discount ", "dim")
            parts.append(fmt(-totals.discount_cents, currency))
        parts.append("  Tax ", "dim")
        parts.append(fmt(totals.tax_cents, currency))
        parts.append("  Total ", "dim")
        parts.append(fmt(totals.total_cents, currency), "bold")
        label.update(parts)

    @on(Input.Changed)
    @on(Select.Changed)
    def _edited(self, event: Input.Changed | Select.Changed) -> None:
        widget = event.input if isinstance(event, Input.Changed) else event.select
        if widget.has_class("-error"):  # being fixed: the message has done its job
            self._set_error("", None)
        self.recompute()
        if isinstance(event, Input.Changed) and widget.has_class("li-desc"):
            row = self._row_of(widget)
            if row is not None:
                self._description_typed(row, event.value)

    @on(Input.Blurred)
    def _check_field(self, event: Input.Blurred) -> None:
        """Validate as you leave a field, with the rules the save applies."""
        row = self._row_of(event.input)
        try:
            if event.input.id == "li-doc-discount":
                self.discount()
            elif row is not None and not row.is_blank() and not event.input.has_class("li-desc"):
                number = [r for r in self.rows if not r.is_blank()].index(row) + 1
                row.data(number)
        except ValidationError as exc:
            message = render.error_text(exc)
            if row is not None and not exc.field.endswith(self._column_field(event.input)):
                return  # another field of the row is wrong; it says so when left
            self._set_error(message, event.input)

    @staticmethod
    def _column_field(widget: Widget) -> str:
        for suffix, column in (("quantity", "qty"), ("unit price", "price"),
                               ("discount", "disc")):
            if widget.has_class(f"li-{column}"):
                return suffix
        return "discount"

    def _set_error(self, message: str, widget: Widget | None) -> None:
        label = self.query_one("#li-error", Label)
        label.update(render.content(message))
        label.display = bool(message)
        for other in self.query(".-error"):
            other.set_class(False, "-error")
        if widget is not None and message:
            widget.set_class(True, "-error")

    def _row_of(self, widget: Widget) -> LineRow | None:
        return next((a for a in widget.ancestors if isinstance(a, LineRow)), None)

    def _error_widget(self, field: str) -> Widget | None:
        if field == "discount":
            return self.query_one("#li-doc-discount")
        if field == "lines":
            rows = self.rows
            return rows[0].field("desc") if rows else None
        words = field.split(" ", 2)
        if len(words) == 3 and words[0] == "line" and words[1].isdigit():
            number, suffix = int(words[1]), words[2]
            sent = self._sent or [r for r in self.rows if not r.is_blank()]
            column = _FIELD_COLUMNS.get(suffix)
            if column and 1 <= number <= len(sent):
                return sent[number - 1].field(column)
        return None

    # ------------------------------------------------------------------ rows

    async def action_add_line(self) -> None:
        row = LineRow(self.choices, None)
        focused = self.screen.focused
        current = self._row_of(focused) if focused is not None else None
        container = self.query_one("#li-rows")
        if current is not None:
            await container.mount(row, after=current)
        else:
            await container.mount(row)
        row.field("desc").focus()
        row.scroll_visible(animate=False)
        self.recompute()

    async def action_remove_line(self) -> None:
        focused = self.screen.focused
        row = self._row_of(focused) if focused is not None else None
        if row is None:
            return
        rows = self.rows
        index = rows.index(row)
        self._hide_matches()
        await row.remove()
        rest = [r for r in rows if r is not row]
        if not rest:
            rest = [LineRow(self.choices, None)]
            await self.query_one("#li-rows").mount(rest[0])
        rest[min(index, len(rest) - 1)].field("desc").focus()
        self._set_error("", None)
        self.recompute()

    @on(Input.Submitted)
    async def _next_line(self, event: Input.Submitted) -> None:
        """Enter in a row goes to the next row's description, adding a row after the last."""
        row = self._row_of(event.input)
        if row is None:
            return
        event.stop()
        if self._matches and self._match_row is row and event.input.has_class("li-desc"):
            self._pick(0)  # enter in the description takes the best match
            return
        rows = self.rows
        index = rows.index(row)
        if index + 1 < len(rows):
            rows[index + 1].field("desc").focus()
        elif not row.is_blank():
            await self.action_add_line()

    def _move(self, step: int) -> bool:
        focused = self.screen.focused
        row = self._row_of(focused) if focused is not None else None
        if row is None or focused is None:
            return False
        rows = self.rows
        index = rows.index(row) + step
        if not 0 <= index < len(rows):
            return False
        column = next((c for c in COLUMNS if focused.has_class(f"li-{c}")), "desc")
        rows[index].field(column).focus()
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_matches":
            return bool(self._matches)
        if action in ("up", "down"):
            focused = self.screen.focused
            # the key belongs to the focused list (matches, tax rates) when it has one
            return focused is not None and isinstance(focused, Input) and (
                self._row_of(focused) is not None)
        return True

    def action_down(self) -> None:
        focused = self.screen.focused
        if (self._matches and focused is not None and focused.has_class("li-desc")
                and self._row_of(focused) is self._match_row):
            matches = self.query_one("#li-matches", OptionList)
            matches.highlighted = 0
            matches.focus()
            return
        self._move(1)

    def action_up(self) -> None:
        self._move(-1)

    # ------------------------------------------------------------------ price book lookup

    def _description_typed(self, row: LineRow, value: str) -> None:
        if row.skip_search_value is not None and value == row.skip_search_value:
            row.skip_search_value = None  # our own fill-in, not typing
            return
        row.skip_search_value = None
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_generation += 1
        generation = self._search_generation
        if not value.strip():
            self._hide_matches()
            return
        self._search_timer = self.set_timer(
            SEARCH_DEBOUNCE, lambda: self._search(row, value, generation))

    @work(thread=True, exclusive=True, group="line-items-search", exit_on_error=False)
    def _search(self, row: LineRow, text: str, generation: int) -> None:
        db: Database = self.app.db  # type: ignore[attr-defined]
        found = search_items(db, text)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_matches, row, found, generation)

    def _show_matches(self, row: LineRow, found: list[PriceBookItemRow], generation: int) -> None:
        focused = self.screen.focused
        if generation != self._search_generation or focused is None or self._row_of(focused) is not row:
            return  # typed on, or moved away: this answer is stale
        if not found:
            self._hide_matches()
            return
        self._matches, self._match_row = found, row
        matches = self.query_one("#li-matches", OptionList)
        matches.clear_options()
        currency = self.choices.currency
        for item in found:
            prompt = Text(no_wrap=True, overflow="ellipsis", end="")
            prompt.append(render.one_line(item.name), "bold")
            prompt.append(f"  {money.format_money(item.unit_price_cents, currency)}"
                          f" / {render.one_line(item.unit)}")
            if item.tax_rate_name:
                prompt.append(f"  {render.one_line(item.tax_rate_name)}", "dim")
            matches.add_option(Option(prompt))
        matches.display = True
        matches.border_title = "Price book: ↓ to choose, enter picks, escape closes"

    def _hide_matches(self) -> None:
        self._matches, self._match_row = [], None
        self.query_one("#li-matches", OptionList).display = False

    def action_close_matches(self) -> None:
        row = self._match_row
        self._hide_matches()
        if row is not None:
            row.field("desc").focus()

    @on(OptionList.OptionSelected, "#li-matches")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._pick(event.option_index)

    def _pick(self, index: int) -> None:
        row = self._match_row
        if row is None or not 0 <= index < len(self._matches):
            return
        row.pick(self._matches[index])
        self._hide_matches()
        row.field("qty").focus()

    @on(Input.Blurred, ".li-desc")
    def _maybe_hide_matches(self) -> None:
        def check() -> None:
            focused = self.screen.focused
            if focused is None or focused.id != "li-matches":
                if focused is None or self._row_of(focused) is not self._match_row or (
                        not focused.has_class("li-desc")):
                    self._hide_matches()

        self.call_after_refresh(check)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            report = getattr(self.app, "report_worker_error", None)
            if report is not None:
                report(event.worker)
