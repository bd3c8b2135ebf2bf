"""A vertical bar chart of money per period, drawn with block characters.

Bars grow in eighths of a cell (``▁``…``█``), so small differences still show on a short
chart; a negative bar (a month that refunded more than it took in) hangs below the zero line
in half cells. The value axis is rounded to a "nice" top (1, 2, 2.5 or 5 × 10ⁿ) and labelled
compactly (``$1.5k``). Only theme colours are used (component classes below), and nothing
relies on colour alone: the selected bar is also drawn with a different character and its
label in reverse, so it reads in 256 colours, the ``ansi`` themes and monochrome.

Bars are chosen with left/right (home/end); the chart posts :class:`BarChart.Highlighted`
so the screen can print the exact figures of that bar. All arithmetic is on integers (cents).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from core.money import CURRENCY_SYMBOLS

EIGHTHS = " ▁▂▃▄▅▆▇█"
SELECTED_FILL = "▓"  # not colour alone: the highlighted bar has its own texture


@dataclass(frozen=True)
class Bar:
    label: str  # under the bar, e.g. "Mar"
    value: int  # cents; may be negative
    group: str = ""  # printed under the first bar of each group, e.g. the year


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 2.5 and 5 × 10ⁿ (a whole number) that is at least ``value``."""
    if value <= 0:
        return 0
    magnitude = 1
    while True:
        for numerator, denominator in ((1, 1), (2, 1), (5, 2), (5, 1)):
            if magnitude * numerator % denominator:
                continue  # 2.5 × 1 is not a whole number of units
            candidate = magnitude * numerator // denominator
            if candidate >= value:
                return candidate
        magnitude *= 10


def compact_money(cents: int, currency: str = "USD") -> str:
    """``$1,234.56`` as ``$1.2k``; for axis labels, where the exact figure is elsewhere."""
    symbol = CURRENCY_SYMBOLS.get(currency, "")
    sign = "-" if cents < 0 else ""
    units = Decimal(abs(cents)) / 100
    for limit, suffix in ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(1000), "k")):
        if units >= limit:
            scaled = units / limit
            places = Decimal("0.1") if scaled < 10 else Decimal(1)
            text = str(scaled.quantize(places, rounding=ROUND_HALF_UP))
            text = text[:-2] if text.endswith(".0") else text
            return f"{sign}{symbol}{text}{suffix}"
    return f"{sign}{symbol}{units.quantize(Decimal(1), rounding=ROUND_HALF_UP)}"


def _scaled(value: int, cells: int, units: int, span: int) -> int:
    """How many ``units`` (eighths, halves) of ``cells`` rows ``value`` covers, half-up."""
    if span <= 0 or value <= 0:
        return 0
    return (value * cells * units * 2 + span) // (span * 2)


class BarChart(Widget, can_focus=True):
    """A bar per period; ``format_value`` writes an axis label for an amount in cents."""

    DEFAULT_CSS = """
    BarChart {
        height: 1fr;
        min-height: 6;
    }
    BarChart > .bar-chart--bar {
        color: $primary;
    }
    BarChart > .bar-chart--negative {
        color: $error;
    }
    BarChart > .bar-chart--selected {
        color: $accent;
    }
    BarChart > .bar-chart--axis {
        color: $text-muted;
    }
    BarChart:focus > .bar-chart--selected-label {
        background: $accent;
        color: $text;
        text-style: bold;
    }
    BarChart > .bar-chart--selected-label {
        text-style: bold reverse;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "bar-chart--bar",
        "bar-chart--negative",
        "bar-chart--selected",
        "bar-chart--axis",
        "bar-chart--selected-label",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move(-1)", "Previous", id="bar_chart.previous", show=False),
        Binding("right", "move(1)", "Next", id="bar_chart.next", show=False),
        Binding("home", "move_to(0)", "First", id="bar_chart.first", show=False),
        Binding("end", "move_to(-1)", "Last", id="bar_chart.last", show=False),
    ]

    selected: reactive[int] = reactive(-1)

    class Highlighted(Message):
        """The user moved to another bar."""

        def __init__(self, chart: BarChart, index: int) -> None:
            super().__init__()
            self.chart = chart
            self.index = index

        @property
        def control(self) -> BarChart:
            return self.chart

    def __init__(
        self,
        *,
        format_value: Callable[[int], str] = compact_money,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.bars: tuple[Bar, ...] = ()
        self.format_value = format_value

    def set_bars(self, bars: Sequence[Bar], *, selected: int | None = None) -> None:
        """Show ``bars``; the selection stays where it was, or moves to ``selected``."""
        self.bars = tuple(bars)
        if selected is not None:
            index = selected
        elif 0 <= self.selected < len(self.bars):
            index = self.selected
        else:
            index = len(self.bars) - 1
        self.selected = index if self.bars else -1
        self.post_message(self.Highlighted(self, self.selected))
        self.refresh()

    def action_move(self, step: int) -> None:
        self.action_move_to(min(max(self.selected + step, 0), len(self.bars) - 1))

    def action_move_to(self, index: int) -> None:
        if not self.bars:
            return
        index = index % len(self.bars)
        if index != self.selected:
            self.selected = index
            self.post_message(self.Highlighted(self, index))

    def watch_selected(self) -> None:
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()  # the selected label is drawn differently while the chart has focus

    def on_blur(self) -> None:
        self.refresh()

    # ------------------------------------------------------------------ drawing

    def _scale(self) -> tuple[int, int]:
        """(top, bottom) of the value axis: a nice round top, and the deepest negative."""
        values = [b.value for b in self.bars] or [0]
        top = max(max(values), 0)
        bottom = min(min(values), 0)
        # round in whole currency units so the axis reads $2.5k, not $2,437.12
        top_units = nice_ceiling(-(-top // 100)) * 100
        bottom_units = -nice_ceiling(-(bottom // 100)) * 100 if bottom < 0 else 0
        if top_units == 0 and bottom_units == 0:
            top_units = 100
        return top_units, bottom_units

    def _rows(self, height: int, top: int, bottom: int) -> tuple[int, int, int]:
        """(blank rows on top, rows above zero, rows below zero) for ``height`` lines."""
        plot_rows = height - 3  # the zero line and two label lines take the rest
        if bottom == 0:
            # an even number of rows puts the middle label exactly at half the top value
            return plot_rows % 2, plot_rows - plot_rows % 2, 0
        above = max(1, min(plot_rows - 1, _scaled(top, plot_rows, 1, top - bottom)))
        if above % 2 and above > 2:
            above -= 1  # even, for an exact middle label; the spare row goes below zero
        return 0, above, plot_rows - above

    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        text = Text(no_wrap=True, overflow="crop", end="")
        if not self.bars or width < 8 or height < 5:
            return text
        axis = self.get_component_rich_style("bar-chart--axis")
        bar_style = self.get_component_rich_style("bar-chart--bar")
        negative = self.get_component_rich_style("bar-chart--negative")
        chosen = self.get_component_rich_style("bar-chart--selected")
        chosen_label = self.get_component_rich_style("bar-chart--selected-label")

        top, bottom = self._scale()
        blank, rows_above, rows_below = self._rows(height, top, bottom)
        plot_rows = rows_above + rows_below
        labels = {0: self.format_value(top), rows_above: self.format_value(0)}
        if rows_above >= 4 and rows_above % 2 == 0:
            labels[rows_above // 2] = self.format_value(top // 2)
        if bottom < 0:
            labels[plot_rows] = self.format_value(bottom)
        gutter = max(len(label) for label in labels.values()) + 2
        slot = max((width - gutter) // len(self.bars), 1)
        bar_width = max(slot - (0 if slot < 3 else 1 if slot < 6 else 2), 1)
        ups = [_scaled(b.value, rows_above, 8, top) for b in self.bars]
        downs = [_scaled(-b.value, rows_below, 2, -bottom) for b in self.bars]

        text.append("\n" * blank)
        for row in range(plot_rows + 1):
            is_zero_line = row == rows_above
            label = labels.get(row, "")
            text.append(label.rjust(gutter - 2) + " ", axis)
            text.append("┼" if is_zero_line else "┤" if label else "│", axis)
            if is_zero_line:
                text.append("─" * (width - gutter), axis)
                text.append("\n")
                continue
            for index in range(len(self.bars)):
                if row < rows_above:
                    # eighths of this bar still to draw above this row's bottom edge
                    filled = ups[index] - (rows_above - 1 - row) * 8
                    cell = EIGHTHS[min(max(filled, 0), 8)]
                    style = bar_style
                else:
                    # halves hanging below zero, counted from the zero line down
                    depth = downs[index] - (row - rows_above - 1) * 2
                    cell = "█" if depth >= 2 else "▀" if depth == 1 else " "
                    style = negative
                if index == self.selected and cell == "█":
                    cell = SELECTED_FILL
                if index == self.selected:
                    style = chosen
                text.append(cell * bar_width, style if cell != " " else None)
                text.append(" " * (slot - bar_width))
            text.append("\n")
        self._append_labels(text, slot, bar_width, gutter, axis, chosen_label)
        return text

    def _append_labels(self, text: Text, slot: int, bar_width: int, gutter: int,
                       axis: Style, chosen_label: Style) -> None:
        room = 3 if slot >= 4 else 1  # "Mar", or "M" when the bars are packed tight
        text.append(" " * gutter)
        for index, bar in enumerate(self.bars):
            label = bar.label[:room]
            text.append(label, chosen_label if index == self.selected else None)
            text.append(" " * (slot - len(label)))
        text.append("\n")
        # the group (the year) under the first bar of each group, cut where the next begins
        groups = [" "] * (slot * len(self.bars))
        starts = [i for i, bar in enumerate(self.bars)
                  if bar.group and (i == 0 or bar.group != self.bars[i - 1].group)]
        for n, index in enumerate(starts):
            until = starts[n + 1] * slot - 1 if n + 1 < len(starts) else len(groups)
            group = self.bars[index].group
            if index * slot + len(group) > until:
                continue  # no room before the next group starts: a cut-off year misleads
            groups[index * slot:index * slot + len(group)] = list(group)
        text.append(" " * gutter)
        text.append("".join(groups).rstrip(), axis)
