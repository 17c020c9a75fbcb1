import polars as pl
import pytest

from phoenix_dagster.graph.check_factories import validate
from phoenix_dagster.schemas import column_docs
from phoenix_dagster.schemas.marts import ZipMarketStats

pytestmark = pytest.mark.unit


def stats(**overrides) -> pl.DataFrame:
    row = {
        "PostalCode": "85031",
        "date": pl.date(2026, 11, 28),
        "property_count": 10,
        "active_listings": 2,
        "median_list_price": 300000.0,
        "median_price_per_sqft": 250.0,
        "median_year_built": 1960.0,
        "pending_listings": 1,
        "new_listings": 1,
        "price_cuts": 0,
        "closed_sales": 1,
        "median_sale_price": 290000.0,
        "median_days_on_market": 31.0,
        "list_to_sale_ratio": 0.98,
    }
    counts = ("property_count", "active_listings", "pending_listings", "new_listings", "price_cuts", "closed_sales")
    return pl.select(
        **{k: pl.lit(v) if not isinstance(v, pl.Expr) else v for k, v in {**row, **overrides}.items()}
    ).cast(dict.fromkeys(counts, pl.Int64))


def test_a_valid_frame_passes():
    result = validate(stats(), ZipMarketStats)
    assert result.passed and result.metadata["failure_cases"].value == 0


def test_failures_are_counted_and_sampled_for_the_ui():
    bad = pl.concat([stats(), stats(), stats(PostalCode="8503X", active_listings=-1)])
    result = validate(bad, ZipMarketStats)
    assert not result.passed
    assert result.metadata["failure_cases"].value >= 3  # two duplicate keys, a bad ZIP, a negative count
    summary = result.metadata["failures_by_check"].value
    assert "PostalCode" in summary and "active\\_listings" in summary  # markdown-escaped: shown as active_listings


def test_column_docs_come_from_the_schema():
    columns = {c.name: c for c in column_docs(ZipMarketStats).columns}
    assert list(columns)[:2] == ["PostalCode", "date"]
    assert "Median ListPrice of active listings" in columns["median_list_price"].description
    assert "required" in columns["PostalCode"].description


def test_column_docs_escape_the_angle_brackets_the_ui_would_take_for_html():
    from phoenix_dagster.schemas.marts import Properties

    columns = {c.name: c for c in column_docs(Properties).columns}
    assert columns["property_id"].description.startswith("apn:&lt;county FIPS&gt;:&lt;APN&gt; when")


@pytest.mark.unit
def test_only_the_same_payload_again_is_a_repeat_never_a_request_with_no_reply():
    """quarantine_rate counts a record quarantined again with the same payload apart; a request
    that got no reply has no payload, so an outage warns every day it lasts."""
    from phoenix_dagster.graph.check_factories import _repeated_quarantines

    keys = {"source": pl.String, "record_key": pl.String, "payload_sha256": pl.String}
    earlier = pl.DataFrame(
        {
            "source": ["maricopa"] * 3,
            "record_key": ["truncated", "timed_out", "changed"],
            "payload_sha256": ["aaa", None, "old"],
        },
        schema=keys,
    )
    today = pl.DataFrame(
        {
            "source": ["maricopa"] * 3,
            "record_key": ["truncated", "timed_out", "changed"],
            "payload_sha256": ["aaa", None, "new"],
        },
        schema=keys,
    )

    class Lake:
        def current_bookkeeping(self, table, day, zip_code, assets, *, since=None, before=None):
            assert (table, day, since, before) == ("quarantine", "*", "2026-10-29", "2026-11-28")
            return earlier

    repeated = _repeated_quarantines(Lake(), today, "stg_assessor__parcels", "2026-11-28", "85031")
    new = today.join(repeated, on=list(repeated.columns), how="anti")  # as the check counts them
    assert sorted(new["record_key"].to_list()) == ["changed", "timed_out"]
