"""Property tests over the parsers: whatever a source sends — generated JSON of any shape,
broken bytes — nothing raises out of staging, and every offered record ends up staged,
unchanged, out of scope, not found, quarantined or set aside (the ledger balances)."""

import json
from datetime import datetime, timezone

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phoenix_dagster.sources.base import RawPayload, payloads_frame
from phoenix_dagster.transforms.assessor import new_versions, stage_parcels, stage_search_results
from phoenix_dagster.transforms.ledger import listing_ledger, parcel_ledger, search_ledger, unbalanced
from phoenix_dagster.transforms.listing_formats import listing_records
from phoenix_dagster.transforms.listings import stage_listings
from phoenix_dagster.transforms.payloads import decode_json_bodies

pytestmark = pytest.mark.unit

T = datetime(2026, 11, 28, tzinfo=timezone.utc)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**12), st.floats(allow_nan=False),
                    st.text(max_size=12), st.sampled_from(["85031", "RESIDENTIAL", "10306005", "$1,000", "12/31/2020"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=6)
KEYS = ["APN", "SitusZip", "PropertyType", "SitusAddress", "ListingKey", "PostalCode", "ListPrice", "StandardStatus",
        "LotSize", "Valuations", "Owner", "Geo", "BedroomsTotal", "ModificationTimestamp"]
records = st.dictionaries(st.sampled_from(KEYS), values, max_size=8)
elements = st.one_of(records, values)
bodies = st.one_of(
    st.builds(lambda items: json.dumps({"TOTAL": len(items), "Results": items}).encode(), st.lists(elements, max_size=4)),
    st.builds(lambda items: json.dumps({"value": items}).encode(), st.lists(elements, max_size=4)),
    st.builds(lambda v: json.dumps(v).encode(), values),
    st.binary(max_size=40),
    st.builds(lambda items: json.dumps({"TOTAL": 1, "Results": items}).encode()[:-3], st.lists(records, max_size=2)),
)


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
    entries = parcel_ledger(details, staged=versions, parsed=parsed, not_found=not_found,
                            quarantined=pl.concat([unreadable, rejected]), sources=["test"])
    assert unbalanced(entries).is_empty(), entries.to_dicts()


@PROPERTY
@given(body=bodies, status=st.sampled_from([200, 200, 200, 404, 500]))
def test_listing_pages_never_raise_and_balance(body, status):
    raw = frame("listing_page", body, status)
    decoded, _, unreadable = decode_json_bodies(raw)
    found, formats = listing_records(decoded, "85031")
    staged, rejected = stage_listings(found, "85031")
    quarantined = pl.concat([unreadable, formats, rejected])
    entries = listing_ledger(raw, staged=staged, quarantined=quarantined, zip_code="85031")
    assert unbalanced(entries).is_empty(), entries.to_dicts()
