import polars as pl
import pytest

from phoenix_dagster.transforms.casting import parse_text_columns

pytestmark = pytest.mark.unit


def test_parses_human_written_numbers_dates_and_flags():
    frame = pl.DataFrame(
        {
            "k": ["a"],
            "price": ["$425,000"],
            "area": ["6,534 sqft"],
            "sold": ["03/14/2019"],
            "listed": ["2026-11-02"],
            "pool": ["Yes"],
            "year": ["1958"],
        }
    )
    good, bad = parse_text_columns(
        frame,
        {
            "price": pl.Float64,
            "area": pl.Float64,
            "sold": pl.Date,
            "listed": pl.Date,
            "pool": pl.Boolean,
            "year": pl.Int32,
        },
    )
    assert bad.is_empty()
    row = good.row(0, named=True)
    assert row["price"] == 425_000 and row["area"] == 6534 and row["pool"] is True and row["year"] == 1958
    assert str(row["sold"]) == "2019-03-14" and str(row["listed"]) == "2026-11-02"


def test_blank_is_null_but_garbage_rejects_the_row_naming_every_bad_field():
    frame = pl.DataFrame({"k": ["blank", "bad"], "price": ["  ", "Call for price"], "year": ["", "1958.5"]})
    good, bad = parse_text_columns(frame, {"price": pl.Float64, "year": pl.Int32})
    assert good["k"].to_list() == ["blank"] and good["price"].to_list() == [None]
    assert bad["k"].to_list() == ["bad"]
    reason = bad["reason"][0]
    assert "price 'Call for price' is not a valid number" in reason
    assert "year '1958.5' is not a valid whole number" in reason
    assert bad["price"][0] == "Call for price"  # the original text is kept for the quarantine
