"""The report as one self-contained HTML file: inline CSS and SVG, no script, nothing fetched."""

from __future__ import annotations

from datetime import date, datetime, timezone
from html import escape

import polars as pl

from phoenix_dagster.report.sections import Section

TABLE_ROWS = 20
CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1080px; padding: 16px 24px; color: #222; }
h1 { font-size: 22px; margin-bottom: 2px; } h2 { font-size: 18px; border-bottom: 2px solid #ddd; margin-top: 36px; }
h3 { font-size: 15px; margin: 22px 0 6px; } nav a { margin-right: 14px; } .muted { color: #666; }
figure { margin: 6px 0; } figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 12px; margin: 4px 0 10px; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; } th { background: #f5f5f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } .note { background: #f8f9fa; padding: 8px 12px; }
"""


def _cell(value) -> tuple[str, bool]:
    if value is None:
        return "", False
    if isinstance(value, float):
        return (f"{value:,.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:,.4g}"), True
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}", True
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M"), False
    if isinstance(value, list):
        return "; ".join(str(v) for v in value), False
    return str(value), False


def html_table(frame: pl.DataFrame) -> str:
    if frame.is_empty():
        return ""
    shown = frame.head(TABLE_ROWS)
    head = "".join(f"<th>{escape(c)}</th>" for c in shown.columns)
    rows = []
    for row in shown.iter_rows():
        cells = []
        for value in row:
            text, numeric = _cell(value)
            cells.append(f'<td class="num">{escape(text)}</td>' if numeric else f"<td>{escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = (f'<p class="muted">{frame.height - TABLE_ROWS:,} more rows in the warehouse.</p>'
            if frame.height > TABLE_ROWS else "")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def render(sections: list[Section], *, day: date, generated_at: datetime | None = None) -> str:
    generated_at = generated_at or datetime.now(timezone.utc)
    nav = "".join(f'<a href="#{s.key}">{escape(s.title)}</a>' for s in sections)
    body = []
    for section in sections:
        parts = [f'<section id="{section.key}" data-section="{section.key}"><h2>{escape(section.title)}</h2>',
                 f'<p class="muted">{escape(section.intro)}</p>']
        for block in section.blocks:
            series = escape("|".join(block.series))
            parts.append(f'<div class="block" data-series="{series}"><h3>{escape(block.title)}</h3>')
            if block.svg:
                parts.append(f'<figure class="chart">{block.svg}</figure>')
            if block.note:
                parts.append(f'<p class="note">{escape(block.note)}</p>')
            parts.append(html_table(block.table) + "</div>")
        parts.append("</section>")
        body.append("".join(parts))
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Phoenix real estate — {day}</title>'
            f"<style>{CSS}</style></head><body><h1>Phoenix real estate — daily report for {day}</h1>"
            f'<p class="muted">Generated {generated_at:%Y-%m-%d %H:%M} UTC from the published warehouse.</p>'
            f"<nav>{nav}</nav>{''.join(body)}</body></html>")
