"""Data shown in the Dagster UI's markdown metadata (table previews, check failure samples,
ledgers) is shown as text: a value that looks like markdown or HTML — a link, an image that the
viewer's browser would load, emphasis, code, a pipe, a newline — renders literally, in its own
cell. Rendered here with markdown-it-py (CommonMark + tables; pinned through Dagster's rich)."""

from __future__ import annotations

import re

import polars as pl
import pytest
from markdown_it import MarkdownIt

from phoenix_dagster.warehouse.model_metadata import markdown_table

pytestmark = pytest.mark.unit

HOSTILE = [
    "[click me](https://evil.example/steal)",
    "![pixel](https://evil.example/p.png)",
    "*shouting* and __bold__ and `code`",
    "a | b | c",
    "line one\nline two\r\n- a list item",
    "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "&lt;b&gt; &amp; &#60;",
    "https://evil.example/autolink and www.evil.example and owner@example.com",
    "# not a heading ~~struck~~ <https://evil.example>",
]


def _render(markdown: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(markdown)


@pytest.mark.parametrize("value", HOSTILE)
def test_a_value_renders_as_its_own_text_in_its_own_cell(value):
    html = _render(markdown_table(pl.DataFrame({"record_key": ["k1"], "raw_record": [value]})))
    assert html.count("<td>") == 2 and html.count("<tr>") == 2  # one header row, one data row, two cells
    for markup in ("<a ", "<img", "<em>", "<strong>", "<code>", "<script", "<del>", "<li>", "<h1>"):
        assert markup not in html, (markup, html)
    shown = re.findall(r"<td>(.*?)</td>", html, re.S)[1]  # the value's cell, as the browser shows it
    expected = " ".join(value.split())
    expected = expected if len(expected) <= 38 else expected[:37] + "…"
    assert _unescape(shown).strip() == expected, (shown, expected)


def test_column_names_are_escaped_too():
    html = _render(markdown_table(pl.DataFrame({"[x](https://evil.example)": [1]})))
    assert "<a " not in html and "[x](https://evil.example)" in _unescape(html)


def test_numbers_stay_readable():
    table = markdown_table(pl.DataFrame({"price": [384000.0], "lat": [33.4987], "day": ["2026-11-28"]}))
    assert "| 384,000 | 33.4987 | 2026-11-28 |" in table


def _unescape(html: str) -> str:
    return html.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
