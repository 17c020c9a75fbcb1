"""Property tests over the parsers: whatever a source sends — generated JSON of any shape,
broken bytes — nothing raises out of staging, and every offered record ends up staged,
unchanged, out of scope, not found, quarantined or set aside (the ledger balances)."""

import json
from datetime import UTC, datetime

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phoenix_dagster.sources import redfin_csv
from phoenix_dagster.sources.base import RawPayload, payloads_frame
from phoenix_dagster.sources.mls_selectors import load_selectors
from phoenix_dagster.transforms.assessor import new_versions, stage_parcels, stage_search_results
from phoenix_dagster.transforms.ledger import listing_ledger, parcel_ledger, search_ledger, unbalanced
from phoenix_dagster.transforms.listing_formats import listing_records
from phoenix_dagster.transforms.listings import stage_listings
from phoenix_dagster.transforms.payloads import decode_json_bodies

pytestmark = pytest.mark.unit

T = datetime(2026, 11, 28, tzinfo=UTC)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**12),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["85031", "RESIDENTIAL", "10306005", "$1,000", "12/31/2020"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6,
)
KEYS = [
    "APN",
    "SitusZip",
    "PropertyType",
    "SitusAddress",
    "ListingKey",
    "PostalCode",
    "ListPrice",
    "StandardStatus",
    "LotSize",
    "Valuations",
    "Owner",
    "Geo",
    "BedroomsTotal",
    "ModificationTimestamp",
]
records = st.dictionaries(st.sampled_from(KEYS), values, max_size=8)
elements = st.one_of(records, values)
bodies = st.one_of(
    st.builds(
        lambda items: json.dumps({"TOTAL": len(items), "Results": items}).encode(), st.lists(elements, max_size=4)
    ),
    st.builds(lambda items: json.dumps({"value": items}).encode(), st.lists(elements, max_size=4)),
    st.builds(lambda v: json.dumps(v).encode(), values),
    st.binary(max_size=40),
    st.builds(lambda items: json.dumps({"TOTAL": 1, "Results": items}).encode()[:-3], st.lists(records, max_size=2)),
)


cells = st.one_of(
    st.text(max_size=10),
    st.sampled_from(
        ["85031", "85031-1234", "85033", "", "$425,000", "2.5", "Active", "PAST SALE", '"quoted, comma"', "line\nbreak"]
    ),
)
extra_headers = st.lists(st.sampled_from([*sorted(redfin_csv.COLUMNS), "URL (SEE X)", "NOTES", ""]), max_size=6)
readable_headers = st.tuples(
    st.sampled_from(["ZIP OR POSTAL CODE", "POSTAL CODE", "ZIP", "zip code "]), extra_headers
).flatmap(lambda t: st.permutations(["ADDRESS", t[0], "PRICE", *t[1]]))
headers = st.one_of(readable_headers, readable_headers, extra_headers)


def csv_text(header: list[str], rows: list[list[str]], disclaimer: bool) -> bytes:
    import csv
    import io

    out = io.StringIO()
    if disclaimer:
        out.write(redfin_csv.DISCLAIMER + "\n")
    writer = csv.writer(out)
    writer.writerow(["SALE TYPE", *header])
    writer.writerows(rows)
    return out.getvalue().encode()


csv_bodies = st.one_of(
    st.builds(csv_text, headers, st.lists(st.lists(cells, max_size=9), max_size=5), st.booleans()),
    st.builds(
        lambda body, cut: body[:cut],
        st.builds(csv_text, headers, st.lists(st.lists(cells, max_size=9), max_size=3), st.booleans()),
        st.integers(0, 200),
    ),
    st.binary(max_size=60),
)
DETAIL_PARTS = {
    "address": '<h1 class="address">{}</h1>',
    "number": '<span class="mls-number">MLS# {}</span>',
    "price": '<div class="price">{}</div>',
    "status": '<span class="status">{}</span>',
    "beds": '<li class="beds">{} bd</li>',
    "baths": '<li class="baths">{} ba</li>',
    "sqft": '<li class="sqft">{}</li>',
    "year": '<li class="year">Built {}</li>',
    "photo": '<img class="photo" src="{}">',
}
detail_values = st.one_of(
    st.text(max_size=14),
    st.sampled_from(
        [
            "4027 N 55th Ave, Phoenix, AZ 85031",
            "6731000",
            "$316,000",
            "Active",
            "3",
            "1.5",
            "1,204",
            "1998",
            "<b>",
            "&amp;",
            "12345678901234567890",
            "Coming Soon",
            "4027 N 55th Ave, Mesa, AZ 85033",
        ]
    ),
)
html_bodies = st.one_of(
    st.builds(
        lambda parts, cut: (
            "<html><body>" + "".join(DETAIL_PARTS[k].format(v) for k, v in parts) + "</body></html>"
        ).encode()[:cut],
        st.lists(st.tuples(st.sampled_from(sorted(DETAIL_PARTS)), detail_values), max_size=10),
        st.integers(0, 2000),
    ),
    st.binary(max_size=60),
)


def listing_ledger_balances(raw: pl.DataFrame, selectors=None) -> None:
    decoded, _, unreadable = decode_json_bodies(raw)
    found, formats = listing_records(decoded, selectors)
    staged, rejected, out_of_scope = stage_listings(found, "85031")
    quarantined = pl.concat([unreadable, formats, rejected])
    entries = listing_ledger(raw, staged=staged, quarantined=quarantined, out_of_scope=out_of_scope)
    assert unbalanced(entries).is_empty(), entries.to_dicts()


def frame(entity: str, body: bytes, status: int) -> pl.DataFrame:
    key = "q=85031&page=1" if entity == "search_page" else "10306005"
    return payloads_frame([RawPayload("test", entity, key, "/x", status, T, body)])


@PROPERTY
@given(body=bodies, status=st.sampled_from([200, 200, 200, 404, 500]))
def test_search_pages_never_raise_and_balance(body, status):
    pages = frame("search_page", body, status)
    decoded, _, unreadable = decode_json_bodies(pages)
    staged, rejected = stage_search_results(decoded)
    entries = search_ledger(pages, staged, rejected, unreadable, zip_code="85031", wanted_types=("RESIDENTIAL",))
    assert unbalanced(entries).is_empty(), entries.to_dicts()


@PROPERTY
@given(body=bodies, status=st.sampled_from([200, 200, 200, 404, 500]))
def test_parcel_replies_never_raise_and_balance(body, status):
    details = frame("parcel", body, status)
    decoded, not_found, unreadable = decode_json_bodies(details)
    parsed, rejected = stage_parcels(decoded)
    versions = new_versions(parsed, None)
    entries = parcel_ledger(
        details,
        staged=versions,
        parsed=parsed,
        not_found=not_found,
        quarantined=pl.concat([unreadable, rejected]),
        sources=["test"],
    )
    assert unbalanced(entries).is_empty(), entries.to_dicts()


@PROPERTY
@given(body=bodies, status=st.sampled_from([200, 200, 200, 404, 500]))
def test_listing_pages_never_raise_and_balance(body, status):
    listing_ledger_balances(frame("listing_page", body, status))


@PROPERTY
@given(bodies=st.lists(csv_bodies, min_size=1, max_size=3))
def test_csv_exports_never_raise_and_balance(bodies):
    listing_ledger_balances(
        payloads_frame(
            [
                RawPayload("csv_inbox", "csv_export", f"f{i}", "inbox/x.csv", 200, T, body)
                for i, body in enumerate(bodies)
            ]
        )
    )


@PROPERTY
@given(body=html_bodies, status=st.sampled_from([200, 200, 200, 404, 500]))
def test_mls_detail_pages_never_raise_and_balance(body, status):
    listing_ledger_balances(frame("mls_listing_page", body, status), load_selectors())
