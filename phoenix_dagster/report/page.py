"""The report as one self-contained HTML file: inline CSS and SVG, no script, nothing fetched."""

from __future__ import annotations

from datetime import UTC, date, datetime
from html import escape

import polars as pl

from phoenix_dagster.report.sections import Section
from phoenix_dagster.warehouse.analyst_output import number, whole_numbers

TABLE_ROWS = 20
CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1080px; padding: 16px 24px; color: #222; }
h1 { font-size: 22px; margin-bottom: 2px; } h2 { font-size: 18px; border-bottom: 2px solid #ddd; margin-top: 36px; }
h3 { font-size: 15px; margin: 22px 0 6px; } nav a { margin-right: 14px; } .muted { color: #666; }
figure { margin: 6px 0; } figure svg { max-width: 100%; height: auto; }
.table-box { max-width: 100%; overflow-x: auto; } table { border-collapse: collapse; font-size: 12px; margin: 4px 0 10px; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; } th { background: #f5f5f5; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } td.num, td.when { white-space: nowrap; }
.note { background: #f8f9fa; padding: 8px 12px; overflow-wrap: anywhere; }
@media (max-width: 600px) { body { padding: 8px 10px; } nav a { display: inline-block; } }
"""


def _cell(value, whole: bool = False) -> tuple[str, str]:
    """The text of a value and its cell's class (num, when, text); `whole`: its column's floats
    are whole numbers."""
    if value is None:
        return "", "text"
    if isinstance(value, float):
        return number(value, whole), "num"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}", "num"
    if isinstance(value, datetime):  # a zoned time shows its zone (the report's times are the market's)
        return value.strftime("%Y-%m-%d %H:%M %Z" if value.tzinfo else "%Y-%m-%d %H:%M").strip(), "when"
    if isinstance(value, date):
        return value.isoformat(), "when"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value), "text"
    return str(value), "text"


def html_table(frame: pl.DataFrame) -> str:
    if frame.is_empty():
        return ""
    shown = frame.head(TABLE_ROWS)
    head = "".join(f"<th>{escape(c)}</th>" for c in shown.columns)
    rows = []
    whole = [whole_numbers(shown[name].to_list()) for name in shown.columns]
    for row in shown.iter_rows():
        cells = []
        for value, whole_column in zip(row, whole):
            text, kind = _cell(value, whole_column)
            cells.append(f'<td class="{kind}">{escape(text)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = (
        f'<p class="muted">{frame.height - TABLE_ROWS:,} more rows in the warehouse.</p>'
        if frame.height > TABLE_ROWS
        else ""
    )
    return (
        f'<div class="table-box"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        f"</div>{more}"
    )


def render(sections: list[Section], *, day: date, generated_at: datetime | None = None) -> str:
    generated_at = generated_at or datetime.now(UTC)
    nav = "".join(f'<a href="#{s.key}">{escape(s.title)}</a>' for s in sections)
    body = []
    for section in sections:
        parts = [
            f'<section id="{section.key}" data-section="{section.key}"><h2>{escape(section.title)}</h2>',
            f'<p class="muted">{escape(section.intro)}</p>',
        ]
        for block in section.blocks:
            series = escape("|".join(block.series))
            parts.append(
                f'<div class="block" data-series="{series}" data-kind="{block.kind}"><h3>{escape(block.title)}</h3>'
            )
            if block.svg:
                parts.append(f'<figure class="chart">{block.svg}</figure>')
            if block.note:
                parts.append(f'<p class="note">{escape(block.note)}</p>')
            parts.append(html_table(block.table) + "</div>")
        parts.append("</section>")
        body.append("".join(parts))
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Phoenix real estate — {day}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{CSS}</style></head><body><h1>Phoenix real estate — daily report for {day}</h1>"
        f'<p class="muted">Generated {generated_at:%Y-%m-%d %H:%M} UTC from the published warehouse.</p>'
        f"<nav>{nav}</nav>{''.join(body)}</body></html>"
    )
