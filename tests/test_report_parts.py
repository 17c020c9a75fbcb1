"""The report's pieces without a warehouse: count charts from zero with whole ticks, value lines
broken on a day without a value, money and table numbers never in scientific notation, times in
the market's zone with the zone shown."""

import re
from datetime import UTC, date, datetime

import polars as pl
import pytest

from phoenix_dagster.report import charts, page
from phoenix_dagster.report.sections import Block, Section, _line_block

pytestmark = pytest.mark.unit

DAYS = [f"2026-11-{d:02d}" for d in range(1, 11)]


def labels(svg: str, axis: str) -> list[str]:
    """The tick labels of the chart's X or Y axis (Vega names each axis group by its aria-label)."""
    group = re.search(rf'aria-label="{axis}-axis[^"]*".*?role-axis-label[^>]*>(.*?)</g>', svg, re.S)
    return re.findall(r"<text[^>]*>([^<]+)</text>", group.group(1)) if group else []


def test_a_count_chart_has_whole_ticks_from_zero():
    frame = pl.DataFrame({"date": DAYS, "n": [0, 1, 2, 0, 1, 0, 0, 1, 2, 1], "zip": ["85031"] * 10})
    svg = charts.svg(charts.line_chart(frame, x="date", y="n", series="zip", title="t", y_title="n", kind="count"))
    assert labels(svg, "Y") == ["0", "1", "2"]
    big = frame.with_columns(pl.col("n") * 37)
    ticks = labels(
        charts.svg(charts.line_chart(big, x="date", y="n", series="zip", title="t", y_title="n", kind="count")), "Y"
    )
    assert all(t.replace(",", "").isdigit() for t in ticks) and len(set(ticks)) == len(ticks) and ticks[0] == "0"


def test_a_value_line_breaks_on_a_day_without_a_value():
    frame = pl.DataFrame(
        {"date": DAYS, "usd": [3e5, 3.1e5, None, None, 3.3e5, 3.2e5, None, 3.4e5, 3.5e5, 3.4e5], "zip": ["85031"] * 10}
    )
    block = _line_block(
        frame, title="Median sale price", y="usd", series="zip", y_title="USD", y_format="$,.0f", empty="none"
    )
    lines = re.findall(r'<path[^>]*aria-roledescription="line mark"[^>]*d="([^"]+)"', block.svg) or re.findall(
        r'role-mark[^>]*>.*?<path[^>]*d="(M[^"]*L[^"]*)"', block.svg, re.S
    )
    assert lines and lines[0].count("M") == 3, lines  # three pieces: never drawn across a null, never to zero
    ticks = labels(block.svg, "Y")
    assert "$0" not in ticks and ticks, ticks  # fitted to the prices, not forced to zero


def test_money_and_table_numbers_are_never_scientific():
    tiny = pl.DataFrame({"date": DAYS[:4], "usd": [0.000032, 0.00009, 0.00005, 0.00007], "s": ["a"] * 4})
    svg = charts.svg(
        charts.line_chart(
            tiny, x="date", y="usd", series="s", title="t", y_title="USD", y_format=charts.money_format(tiny["usd"])
        )
    )
    ticks = labels(svg, "Y")
    assert len(ticks) >= 3 and len(set(ticks)) == len(ticks) and all(t.startswith("$0.0000") for t in ticks), ticks
    assert charts.money_format(pl.Series([25.0, 400_000.0])) == "$,.0f"
    frame = pl.DataFrame(
        {
            "usd": [0.000032, 316000.0, 0.99999],
            "day": [date(2026, 11, 28)] * 3,
            "checked_at": [datetime(2026, 11, 28, 14, 5, tzinfo=UTC)] * 3,
        }
    )
    frame = frame.with_columns(pl.col("checked_at").dt.convert_time_zone("America/Phoenix"))
    html = page.render([Section("s", "S", "intro", [Block("t", None, frame)])], day=date(2026, 11, 28))
    assert "0.000032" in html and "316,000" in html and "1.00" in html and not re.search(r"\de[-+]\d", html)
    assert "2026-11-28 07:05 MST" in html  # the market's time, its zone shown
    assert '<div class="table-box">' in html and 'class="when">2026-11-28<' in html  # scrolls in its box; no wrap
