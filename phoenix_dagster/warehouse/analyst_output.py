"""What `phoenix-estate sql` prints: a table a person reads, or CSV / JSON for a script.

    render(frame, "table" | "csv" | "json") -> str
    show(text, out, pager)   # through the pager (PAGER) when out is a terminal the text does not fit

The table keeps every header whole, right-aligns numbers, writes floats with thousands
separators and two decimals (a column of whole numbers without; under 1: as many as their first two digits need; never scientific
notation), counts with thousands separators, and identifiers and years as they are (a column
whose name says it is one: year, ZIP, postal code, APN, parcel, key, id, number, FIPS). Long
text is cut at TEXT_WIDTH characters with "…" (CSV and JSON carry it whole). Every row is
printed: on a terminal a long or wide table goes through PAGER (default `less -SRFX`:
horizontal scrolling, quits when it fits); piped, it is written as it is.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from datetime import date, datetime

import polars as pl

TEXT_WIDTH = 60
AS_IS = re.compile(r"year|zip|postal|apn|parcel|key|id$|^id|number|fips", re.IGNORECASE)


def number(value: float, whole: bool = False) -> str:
    """A float for a person (the terminal's and the report's): thousands separated, two decimals
    (none when `whole`: its column holds whole numbers only); under 1 as many as its first two
    significant digits need (0.000032, not 3.2e-05; 0.50)."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    if whole:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    text = f"{value:.{min(12, max(2, 1 - math.floor(math.log10(abs(value)))))}f}"
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals[:2]}{decimals[2:].rstrip('0')}"  # two decimals at least, no trailing zeros beyond


def whole_numbers(values: list) -> bool:
    """Whether a column's floats are all whole numbers (medians of prices, rounded rates)."""
    floats = [v for v in values if isinstance(v, float)]
    return bool(floats) and all(math.isfinite(v) and v.is_integer() for v in floats)


def _text(value, as_is: bool, whole: bool) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.0f}" if as_is and value.is_integer() else number(value, whole)  # a year as 1985
    if isinstance(value, int):
        return str(value) if as_is else f"{value:,}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    text = " ".join(str(value).split())  # one line a row
    return text if len(text) <= TEXT_WIDTH else text[: TEXT_WIDTH - 1] + "…"


def table(frame: pl.DataFrame) -> str:
    """The frame as aligned text: header, rule, a line a row, then the row count."""
    columns = frame.columns
    cells = []
    for name in columns:
        values = frame[name].to_list()
        cells.append([_text(value, bool(AS_IS.search(name)), whole_numbers(values)) for value in values])
    widths = [max([len(name), *map(len, column)]) for name, column in zip(columns, cells)]
    right = [frame.schema[name].is_numeric() for name in columns]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right)).rstrip()

    lines = [line(columns), "  ".join("-" * w for w in widths)]
    lines += [line([column[i] for column in cells]) for i in range(frame.height)]
    lines.append(f"({frame.height:,} row{'s' if frame.height != 1 else ''})")
    return "\n".join(lines) + "\n"


def _json_text(value) -> str:
    return json.dumps(value.to_list() if isinstance(value, pl.Series) else value, default=str)


def render(frame: pl.DataFrame, form: str = "table") -> str:
    """`form`: table (for a person), csv (a header line, ISO dates), json (an array of objects)."""
    if form == "csv":  # CSV holds no nested values: a list or struct column is written as its JSON text
        nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
        return frame.with_columns(
            pl.col(name).map_elements(_json_text, return_dtype=pl.String, skip_nulls=True) for name in nested
        ).write_csv()
    if form == "json":
        return frame.write_json() + "\n"
    return table(frame)


def show(text: str, out=None, pager: str = "", *, terminal: bool | None = None) -> None:
    """Write `text` to `out`; on a terminal it does not fit (taller or wider), through `pager` (a
    shell command, Settings.pager). A pager that cannot start leaves the text printed as it is."""
    out = out or sys.stdout
    terminal = out.isatty() if terminal is None else terminal
    size = shutil.get_terminal_size()
    lines = text.splitlines()
    if pager and terminal and (len(lines) >= size.lines or max(map(len, lines), default=0) > size.columns):
        try:
            paged = subprocess.run(pager, shell=True, input=text, text=True, check=False)
            if paged.returncode not in (126, 127):  # the shell found and ran it
                return
        except OSError:
            pass
    out.write(text)
    out.flush()
