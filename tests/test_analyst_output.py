"""What `phoenix-estate sql` prints: a table a person reads (whole headers, formatted floats,
identifiers as they are), CSV and JSON for scripts, and the pager on a terminal only."""

import io
import json
from datetime import date

import polars as pl
import pytest

from phoenix_dagster.warehouse.analyst_output import number, render, show

pytestmark = pytest.mark.unit

FRAME = pl.DataFrame(
    {
        "PostalCode": ["85031", "85033"],
        "ParcelNumber": ["10306005", None],
        "YearBuilt": [1960, 2004],
        "property_id": [123456, 7],
        "active_listings": [1234, 5],
        "median_list_price": [316000.0, 299512.346],
        "median_sale_price": [316000.0, 160.0],
        "median_year_built": [1985.0, None],
        "ListingId": [6731000, 12],
        "sources": [["assessor:sample", "listing:sample"], []],
        "cost_usd_per_property": [0.000032, 0.5],
        "date": [date(2026, 11, 28), date(2026, 11, 29)],
        "median_price_per_sqft_of_active_listings": [215.1234, None],
        "PublicRemarks": ["Move-in ready " * 10, "short\nwith a newline"],
    }
)


def test_numbers_read_as_a_person_writes_them():
    assert [number(v) for v in (3.2e-05, 0.00032, 0.5, 0.123456, 1.5, 316000.0, 1234.56, 0.0, -0.0042, 0.99999)] == [
        "0.000032",
        "0.00032",
        "0.50",
        "0.12",
        "1.50",
        "316,000.00",
        "1,234.56",
        "0",
        "-0.0042",
        "1.00",
    ]
    assert number(316000.0, whole=True) == "316,000"


def test_the_table_keeps_headers_whole_and_formats_by_column():
    text = render(FRAME)
    header, rule, first, second, count = text.splitlines()
    assert header.split() == FRAME.columns  # no header wrapped or cut
    assert len(rule.split()) == len(FRAME.columns)
    assert "1960" in first and "1,960" not in first and "1985" in first and "1,985" not in first  # years as they are
    assert "6731000" in first
    assert "123456" in first and "123,456" not in first  # an id as it is
    assert "1,234" in first and "316,000" in first and "0.000032" in first and "215.12" in first
    assert "316,000  " in first and first.rstrip().count("316,000") == 2  # a column of whole numbers: none
    assert (
        "299,512.35" in second
        and "160  " in second
        and "0.50" in second
        and "null" in second
        and "short with a newline" in second
    )
    assert "…" in first and "Move-in ready " * 10 not in first  # long text cut in the table only
    assert "e-0" not in text and "e+0" not in text
    assert count == "(2 rows)"
    assert first.index("316,000.00") + len("316,000.00") == header.index("median_list_price") + len(
        "median_list_price"
    )  # numbers right-aligned under their header


def test_csv_and_json_carry_every_value_whole_for_scripts():
    csv = render(FRAME, "csv")
    assert csv.splitlines()[0].split(",")[:3] == ["PostalCode", "ParcelNumber", "YearBuilt"]
    assert pl.read_csv(io.StringIO(csv), schema_overrides={"PostalCode": pl.String})["PostalCode"].to_list() == [
        "85031",
        "85033",
    ]
    assert '"[""assessor:sample"", ""listing:sample""]"' in csv  # a list column as its JSON text
    rows = json.loads(render(FRAME, "json"))
    assert rows[0]["PublicRemarks"] == "Move-in ready " * 10 and rows[0]["cost_usd_per_property"] == 0.000032
    assert rows[1]["ParcelNumber"] is None and rows[0]["date"] == "2026-11-28"


def test_the_pager_takes_a_long_table_on_a_terminal_only(tmp_path):
    paged = tmp_path / "paged.txt"
    long = render(pl.DataFrame({"n": list(range(500))}))
    out = io.StringIO()
    pager = f"cat > {paged}"
    show(long, out, pager, terminal=True)
    assert paged.read_text() == long and out.getvalue() == ""  # through the pager
    show(long, out, pager, terminal=False)
    assert out.getvalue() == long  # piped: every row, as it is
    paged.unlink()
    short = render(pl.DataFrame({"n": [1]}))
    show(short, out, pager, terminal=True)
    assert not paged.exists() and out.getvalue().endswith(short)  # it fits: no pager
    printed = io.StringIO()
    show(long, printed, "/nonexistent/pager", terminal=True)  # cannot start (a slim image has no less)
    assert printed.getvalue() == long  # printed as it is, not lost
