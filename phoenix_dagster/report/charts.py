"""Charts for the daily report: Altair (Vega-Lite) specifications rendered to SVG by
vl-convert, offline, so the page needs no script and no network to open.

Chosen over Plotly by measurement (10 line charts of 30 days × 3 ZIPs on this machine):
Altair + vl-convert 431 KB of inline SVG in 1.2 s; Plotly with its script embedded once
4.8 MB in 0.1 s — the page is opened far more often than it is built.

Every chart is one series per colour, with points on lines, so a data mark can be counted per
series in the rendered page (the browser test does). Each renders with a `role="graphics-symbol"`
mark per point or bar, which is what the test counts.

Counts (`kind="count"`) are drawn from zero with whole-number ticks; values (`kind="value"`:
prices, days) on an axis fitted to their range, the line broken where a day has no value (null:
never drawn across, never zero); money formatted to as many decimals as its size needs.
"""

from __future__ import annotations

import math

import altair as alt
import polars as pl
import vl_convert as vlc

WIDTH, HEIGHT = 640, 220
# Quality bands of ops.quality_daily's status (transforms/quality.py): EXCELLENT ≥ 0.95, GOOD ≥ 0.85, FAIR ≥ 0.70.
QUALITY_BANDS = [
    ("POOR", 0.0, 0.70, "#f8d7da"),
    ("FAIR", 0.70, 0.85, "#fff3cd"),
    ("GOOD", 0.85, 0.95, "#d1e7dd"),
    ("EXCELLENT", 0.95, 1.0, "#cfe2ff"),
]


def svg(chart: alt.TopLevelMixin) -> str:
    return vlc.vegalite_to_svg(chart.to_json())


def _values(frame: pl.DataFrame) -> list[dict]:
    """Rows for Vega-Lite: dates and times as ISO text (it cannot read Python's date objects)."""
    return frame.with_columns(
        pl.col(pl.Date).dt.strftime("%Y-%m-%d"), pl.col(pl.Datetime).dt.strftime("%Y-%m-%dT%H:%M:%S")
    ).to_dicts()


def _base(frame: pl.DataFrame, title: str) -> alt.Chart:
    return alt.Chart(alt.Data(values=_values(frame)), title=title).properties(width=WIDTH, height=HEIGHT)


def money_format(values: pl.Series) -> str:
    """A d3 format for dollar amounts as small as `values` holds: enough decimals that the axis's
    ticks differ ($0.00005, not $0.0001 six times), never scientific notation."""
    top = values.drop_nulls().abs().max() if values.len() else None
    if not top or top >= 10:
        return "$,.0f"
    return f"$,.{max(2, 1 - math.floor(math.log10(top)) + 1)}~f"


def line_chart(
    frame: pl.DataFrame,
    *,
    x: str,
    y: str,
    series: str,
    title: str,
    y_title: str,
    y_format: str = ",.0f",
    x_type: str = "T",
    by_minute: bool = False,
    kind: str = "value",
) -> alt.LayerChart | alt.Chart:
    """One line with points per value of `series`; a time axis by day, or by minute (`by_minute`:
    several points a day, e.g. the 5-minute probes). `kind`: "count" (from zero, whole ticks) or
    "value" (fitted, broken at nulls)."""
    unit, label = ("yearmonthdatehoursminutes", "%b %d %H:%M") if by_minute else ("yearmonthdate", "%b %d")
    if kind == "count":
        top = int(frame[y].max() or 0)
        step = max(1, math.ceil(top / 5))
        ticks = list(range(0, max(top, 1) + step, step))  # whole numbers, the last at or above the top
        y_axis = alt.Y(
            f"{y}:Q",
            title=y_title,
            axis=alt.Axis(format="d", values=ticks),
            scale=alt.Scale(domain=[0, ticks[-1]], nice=False),
        )
    else:
        y_axis = alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=y_format), scale=alt.Scale(zero=False))
    return (
        _base(frame, title)
        .mark_line(point=True, invalid="break-paths-show-domains")
        .encode(
            x=alt.X(
                f"{x}:{x_type}",
                title=None,
                **(
                    {
                        "timeUnit": unit,
                        "axis": alt.Axis(format=label, labelAngle=0, labelFlush=False, labelOverlap=True),
                    }
                    if x_type == "T"
                    else {}
                ),
            ),
            y=y_axis,
            color=alt.Color(f"{series}:N", title=None),
            tooltip=[f"{x}:{x_type}", f"{series}:N", alt.Tooltip(f"{y}:Q", format=y_format)],
        )
    )


def bar_chart(
    frame: pl.DataFrame,
    *,
    category: str,
    value: str,
    title: str,
    value_title: str,
    value_format: str = ",.0f",
    series: str | None = None,
) -> alt.Chart:
    """Horizontal bars, largest first; coloured by `series` when given."""
    encoding = dict(
        y=alt.Y(f"{category}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=320)),
        x=alt.X(f"{value}:Q", title=value_title, axis=alt.Axis(format=value_format)),
        tooltip=[f"{category}:N", alt.Tooltip(f"{value}:Q", format=value_format)],
    )
    if series:
        encoding["color"] = alt.Color(f"{series}:N", title=None)
        encoding["yOffset"] = alt.YOffset(f"{series}:N")
    height = max(60, 18 * frame.height)
    return _base(frame, title).mark_bar().encode(**encoding).properties(height=height)


def quality_chart(frame: pl.DataFrame, *, title: str) -> alt.LayerChart:
    """overall_score per series over time, on the GOOD/FAIR/POOR bands."""
    bands = pl.DataFrame([{"band": name, "low": low, "high": high} for name, low, high, _ in QUALITY_BANDS])
    shade = (
        alt.Chart(alt.Data(values=bands.to_dicts()))
        .mark_rect(opacity=0.6)
        .encode(
            y=alt.Y("low:Q", scale=alt.Scale(domain=[0, 1])),
            y2="high:Q",
            color=alt.Color(
                "band:N",
                scale=alt.Scale(domain=[b[0] for b in QUALITY_BANDS], range=[b[3] for b in QUALITY_BANDS]),
                legend=alt.Legend(title="band"),
            ),
        )
    )
    lines = line_chart(
        frame, x="date", y="overall_score", series="series", title=title, y_title="quality score", y_format=".2f"
    )
    return (
        alt.layer(shade, lines, title=title).resolve_scale(color="independent").properties(width=WIDTH, height=HEIGHT)
    )


def budget_chart(spend: pl.DataFrame, *, budget_usd: float, title: str) -> alt.LayerChart:
    """Month-to-date spend per day (`date`, `usd`, `series`: actual or projected), with the
    budget and its 80% / 95% alert levels as rules."""
    levels = pl.DataFrame(
        [
            {"level": f"{name} ${budget_usd * share:,.2f}", "usd": budget_usd * share}
            for name, share in (("budget", 1.0), ("95% critical", 0.95), ("80% warning", 0.80))
        ]
    )
    rules = (
        alt.Chart(alt.Data(values=levels.to_dicts()))
        .mark_rule(strokeDash=[6, 3])
        .encode(
            y="usd:Q",
            color=alt.Color(
                "level:N", scale=alt.Scale(range=["#444", "#c0392b", "#e67e22"]), legend=alt.Legend(title="levels")
            ),
        )
    )
    spent = line_chart(
        spend,
        x="date",
        y="usd",
        series="series",
        title=title,
        y_title="USD this month",
        y_format=money_format(levels["usd"]),
    )
    return (
        alt.layer(rules, spent, title=title).resolve_scale(color="independent").properties(width=WIDTH, height=HEIGHT)
    )
