"""What a built warehouse table tells an operator in the Dagster UI, besides its SQL: its
columns (from the pandera schema when it has one, else DuckDB's own description), rows per ZIP,
a small preview, and for the marts the figures people ask for first. All numeric where it is a
number, so the UI can plot it over materializations; money in USD with cents, never 1e-7."""

from __future__ import annotations

import re
from collections.abc import Callable

import dagster as dg
import polars as pl

from phoenix_dagster.warehouse.queries import query as sql

PREVIEW_ROWS = 5
# The key figures of a table: a query over it returning one row of numbers.
KEY_FIGURES = {
    "marts.properties": sql("metadata__properties_figures"),
    "marts.zip_market_stats": sql("metadata__zip_market_stats_figures"),
    "ops.budget_status": sql("metadata__budget_status_figures"),
}


def _number(value) -> int | float:
    """DuckDB's decimals as plain numbers (metadata takes int and float)."""
    number = float(value)
    return int(number) if number.is_integer() else number


def column_schema(frame_schema: dict[str, pl.DataType]) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name, str(dtype)) for name, dtype in frame_schema.items()])


# Every ASCII punctuation character that can start markup in a table cell: CommonMark renders a
# backslash-escaped one as itself. Commas, dots, hyphens, quotes, $ and % (numbers, prices,
# dates) cannot, and stay as they are; "www." and "://" lose their autolink by the escapes below.
_MARKUP = re.compile(r"""([\\`*_{}\[\]()#+!|<>&~:@^=;?/])""")


def md_text(value: str) -> str:
    """Text from data, shown literally in markdown: one line, every markup character escaped (a
    listing's remarks or a quarantined record may hold `[a link](…)`, `![an image](…)`, `*`, `|`,
    HTML or a newline that would end the table row)."""
    one_line = re.sub(r"\s+", " ", value)
    return _MARKUP.sub(r"\\\1", one_line).replace("www.", "www\\.")


def markdown_table(frame: pl.DataFrame) -> str:
    """A small frame as a markdown table (the UI renders it; a Polars text dump it does not), its
    names and values escaped so data never turns into markup."""

    def cell(value) -> str:
        if isinstance(value, float):  # never scientific: 384,000 · 33.4987 · 0.0013
            return f"{value:,.0f}" if value.is_integer() else f"{value:,.6f}".rstrip("0").rstrip(".")
        text = "" if value is None else str(value)
        return md_text(text[:37] + "…" if len(text) > 38 else text)

    lines = ["| " + " | ".join(md_text(name) for name in frame.columns) + " |", "|" + "---|" * frame.width]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join(lines)


def table_figures(query: Callable[[str], pl.DataFrame], table: str, *, with_schema: bool) -> dict:
    """Metadata for a table just built: rows per ZIP, a preview, key figures, and (when no pandera
    schema documents it) its columns as DuckDB has them."""
    preview = query(f"select * from {table} limit {PREVIEW_ROWS}")
    metadata: dict = {"preview": dg.MetadataValue.md(markdown_table(preview))}
    if with_schema:
        metadata["dagster/column_schema"] = column_schema(dict(preview.schema))
    if "PostalCode" in preview.columns:
        per_zip = query(f"select PostalCode, count(*) as n from {table} group by 1 order by 1")
        metadata |= {f"rows {zip_code}": int(n) for zip_code, n in per_zip.iter_rows() if zip_code is not None}
    if table in KEY_FIGURES:
        figures = query(KEY_FIGURES[table])
        if figures.height:
            metadata |= {
                name: _number(value) for name, value in figures.row(0, named=True).items() if value is not None
            }
    return metadata
