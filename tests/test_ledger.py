"""The record ledger's counts come from the raw payloads, independently of the transforms."""

from datetime import UTC, datetime

import polars as pl
import pytest

from phoenix_dagster.sources.base import RawPayload, payloads_frame
from phoenix_dagster.transforms.ledger import TERMS, ledger, listing_ledger, unbalanced
from phoenix_dagster.transforms.listing_formats import listing_records
from phoenix_dagster.transforms.listings import stage_listings
from phoenix_dagster.transforms.payloads import decode_json_bodies

pytestmark = pytest.mark.unit

T = datetime(2026, 11, 28, tzinfo=UTC)
HEADER = "SALE TYPE,ADDRESS,CITY,STATE OR PROVINCE,ZIP OR POSTAL CODE,PRICE,MLS#,URL (SEE X)"


def test_listing_records_offered_are_counted_from_the_payloads():
    raw = payloads_frame(
        [
            RawPayload(
                "reso",
                "listing_page",
                "p1",
                "/Property",
                200,
                T,
                b'{"value": [{"ListingKey": "A", "PostalCode": "85031"}, "oops"]}',
            ),
            RawPayload("reso", "listing_page", "p2", "/Property", 404, T, b"Not Found"),
            RawPayload(
                "csv_inbox",
                "csv_export",
                "f1",
                "inbox/a.csv",
                200,
                T,
                "\n".join(
                    [
                        HEADER,
                        "MLS Listing,1 A St,Phoenix,AZ,85031,100000,1,https://x/1",
                        "MLS Listing,2 B St,Phoenix,AZ,85033,100000,2,https://x/2",
                    ]
                ).encode(),
            ),
        ]
    )
    decoded, _, unreadable = decode_json_bodies(raw)
    records, formats = listing_records(decoded)
    staged, rejected, out_of_scope = stage_listings(records, "85031")
    quarantined = pl.concat([unreadable, formats, rejected])
    entries = {
        r["source"]: r
        for r in listing_ledger(raw, staged=staged, quarantined=quarantined, out_of_scope=out_of_scope).iter_rows(
            named=True
        )
    }
    assert entries["reso"]["offered"] == 3  # two elements and an unreadable page
    assert entries["reso"]["quarantined"] == 2 and entries["reso"]["staged"] == 1
    assert entries["csv_inbox"]["offered"] == 2 and entries["csv_inbox"]["out_of_scope"] == 1
    assert entries["csv_inbox"]["staged"] == 1
    assert unbalanced(listing_ledger(raw, staged=staged, quarantined=quarantined, out_of_scope=out_of_scope)).is_empty()


def test_an_unbalanced_entry_names_the_difference():
    entries = ledger(
        [{"source": "a", "offered": 5, "staged": 3, "quarantined": 1}, {"source": "b", "offered": 2, "staged": 2}]
    )
    assert set(TERMS) <= set(entries.columns)
    broken = unbalanced(entries)
    assert broken["source"].to_list() == ["a"] and broken["unaccounted"].to_list() == [1]


def test_a_source_that_delivered_nothing_is_told_from_a_proven_none():
    from phoenix_dagster.transforms.ledger import silent_sources

    entries = ledger(
        [
            {"source": "reso", "offered": 2, "quarantined": 2, "payloads": 2, "unreadable_payloads": 2},
            {"source": "mls_html", "offered": 0, "payloads": 1},  # "no results": a proven none
            {"source": "odata", "offered": 1, "quarantined": 1, "payloads": 1},  # read; its record bad
            {"source": "csv_inbox", "offered": 3, "staged": 1, "out_of_scope": 2, "payloads": 1},
        ]
    )
    fetches = pl.DataFrame({"source": ["sample"], "payloads": [0], "failures": [1]})  # asked, no reply at all
    assert silent_sources(entries, fetches) == {
        "reso": "none of its 2 payload(s) could be read",
        "sample": "no reply: 1 request(s) or file(s) failed",
    }


def test_a_day_with_no_parcel_detail_due_still_has_its_ledger_row():
    from phoenix_dagster.transforms.ledger import parcel_ledger

    empty = pl.DataFrame(schema={"source": pl.String})
    entries = parcel_ledger(empty, staged=empty, parsed=empty, not_found=empty, quarantined=empty, sources=["maricopa"])
    assert entries.rows(named=True) == [
        {"source": "maricopa", "offered": 0, **dict.fromkeys(TERMS, 0), "payloads": 0, "unreadable_payloads": 0}
    ]
    assert unbalanced(entries).is_empty()
