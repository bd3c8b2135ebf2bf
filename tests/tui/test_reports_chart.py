"""The revenue bar chart widget on its own: the axis scale, bar heights in eighths of a
cell, negative months, the selected bar (not by colour alone) and labels that fit at 80
columns; and the small number helpers of the reports screen."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from textual.app import App, ComposeResult

from core.money import format_money
from tui.screens.reports import amount, shares
from tui.widgets.bar_chart import EIGHTHS, SELECTED_FILL, Bar, BarChart, compact_money, nice_ceiling

MONTHS = "Apr May Jun Jul Aug Sep Oct Nov Dec Jan Feb Mar".split()


def _nice_numbers(limit: int) -> list[int]:
    """1, 2, 5, 10, 20, 25, 50, 100, … up to ``limit`` (2.5 × 10ⁿ only when whole)."""
    out, magnitude = [], 1
    while magnitude <= limit:
        out += [magnitude, 2 * magnitude, 5 * magnitude]
        if magnitude >= 10:
            out.append(magnitude * 5 // 2)
        magnitude *= 10
    return sorted(out)


@given(st.integers(min_value=1, max_value=10**13))
def test_nice_ceiling_is_the_smallest_round_number_at_least_the_value(value):
    top = nice_ceiling(value)
    assert top in _nice_numbers(top) and top >= value
    assert not [n for n in _nice_numbers(top) if value <= n < top]


def test_axis_labels_are_compact():
    assert [compact_money(c) for c in (0, 99, 12_345, 123_456, 2_500_000, 123_456_789, -150_000)] == [
        "$0", "$1", "$123", "$1.2k", "$25k", "$1.2M", "-$1.5k"]
    assert compact_money(250_000, "EUR") == "€2.5k"
    assert compact_money(250_000, "SEK") == "2.5k"


class _ChartApp(App[None]):
    def __init__(self, bars: list[Bar]) -> None:
        super().__init__()
        self.bars = bars

    def compose(self) -> ComposeResult:
        yield BarChart()

    def on_mount(self) -> None:
        chart = self.query_one(BarChart)
        chart.set_bars(self.bars)
        chart.focus()


async def _draw(bars: list[Bar], size: tuple[int, int]) -> list[str]:
    app = _ChartApp(bars)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        return [strip.text for strip in app.screen._compositor.render_strips()]


def _column(lines: list[str], x: int) -> str:
    return "".join(line[x] if x < len(line) else " " for line in lines)


async def test_bars_grow_in_eighths_from_the_zero_line_and_labels_fit_at_80_columns():
    values = [100_000 * i for i in range(12)]  # $0 … $11,000
    lines = await _draw([Bar(m, v, "2026") for m, v in zip(MONTHS, values, strict=True)], (80, 17))
    assert lines[0].startswith("$20k ┤")  # $11,000 at most: the axis tops out at $20k
    zero = next(i for i, line in enumerate(lines) if "┼" in line)
    assert lines[zero].strip().startswith("$0 ┼") and lines[zero].rstrip().endswith("─")
    labels = lines[zero + 1]
    assert labels.split() == MONTHS  # every month, three letters, in 80 columns
    assert lines[zero + 2].split() == ["2026"]
    # each bar's height (in eighths) follows its value: top $20k over the rows above zero
    heights = []
    for month in MONTHS:
        x = labels.index(month)
        column = _column(lines[:zero], x)
        heights.append(sum(8 if c in ("█", SELECTED_FILL) else EIGHTHS.index(c) for c in column
                           if c in EIGHTHS or c == SELECTED_FILL))
    expected = [(v * zero * 8 * 2 + 2_000_000) // (2 * 2_000_000) for v in values]
    assert heights == expected
    assert SELECTED_FILL in _column(lines, labels.index("Mar"))  # the last month is selected
    assert SELECTED_FILL not in _column(lines, labels.index("Feb"))


async def test_a_negative_month_hangs_below_zero_and_many_months_use_one_letter():
    values = [50_000, -30_000, 20_000] * 8
    bars = [Bar(MONTHS[i % 12], v, "2025" if i < 9 else "2026") for i, v in enumerate(values)]
    lines = await _draw(bars, (80, 14))
    zero = next(i for i, line in enumerate(lines) if "┼" in line)
    # -$300 on an axis down to -$500 over five rows: three full cells under every second bar
    below = lines[zero + 1:-2]
    assert len(below) == 5 and lines[-3].startswith("-$500 ┤")
    second_bar = _column(lines, lines[zero - 1].index("█") + 3)
    assert second_bar[zero + 1:zero + 4] == "███" and second_bar[zero + 4:-2].strip() == ""
    labels = lines[-2].split()
    assert len(labels) == 24 and all(len(label) == 1 for label in labels)
    # a year is printed only where it fits before the next one starts: never cut off
    assert set(lines[-1].split()) <= {"2025", "2026"}


async def test_left_and_right_move_the_selection_and_report_it():
    seen: list[int] = []

    class Watching(_ChartApp):
        def on_bar_chart_highlighted(self, event: BarChart.Highlighted) -> None:
            seen.append(event.index)

    app = Watching([Bar(m, 100) for m in MONTHS])
    async with app.run_test(size=(80, 12)) as pilot:
        await pilot.pause()
        chart = app.query_one(BarChart)
        assert chart.selected == 11
        await pilot.press("left", "left", "home", "left", "end", "right")
        await pilot.pause()
        assert chart.selected == 11
        # shown at the last month, then each move; a key at either end changes nothing
        assert seen == [11, 10, 9, 0, 11]


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=6),
       st.integers(min_value=1, max_value=120))
def test_the_conversion_bar_splits_its_width_in_proportion(counts, width):
    cells = shares(counts, width)
    if not sum(counts):
        assert cells == [0] * len(counts)
        return
    assert sum(cells) == width  # the bar is always exactly as wide as asked
    for count, n in zip(counts, cells, strict=True):
        assert abs(n - count * width / sum(counts)) < 1  # never more than a cell off
        if count == 0:
            assert n == 0


@given(st.integers(min_value=-(10**13), max_value=10**13))
def test_report_amounts_are_the_money_format_without_the_symbol(cents):
    assert amount(cents) == format_money(cents, "USD").replace("$", "")
