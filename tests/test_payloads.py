from datetime import UTC, datetime

import pytest

from phoenix_dagster.sources.base import RawPayload, payloads_frame
from phoenix_dagster.transforms.payloads import decode_json_bodies, explode_json_list

pytestmark = pytest.mark.unit

T = datetime(2026, 11, 28, 7, tzinfo=UTC)


def payload(key: str, body: bytes, status: int = 200) -> RawPayload:
    return RawPayload("test", "parcel", key, f"/parcel/{key}", status, T, body)


def test_every_body_is_decoded_counted_as_missing_or_rejected_with_a_reason():
    raw = payloads_frame(
        [
            payload("ok", b'{"APN": "1"}'),
            payload("gone", b"[parcel]:Requested content was not found", 404),
            payload("empty", b""),
            payload("cut", b'{"APN": "10306005", "Geo": {"lat": "33.4'),
            payload("latin1", b'{"a": "caf\xe9"}'),
            payload("oops", b"<html>bad gateway</html>", 502),
        ]
    )
    decoded, not_found, rejected = decode_json_bodies(raw)
    assert decoded["record_key"].to_list() == ["ok"]
    assert sorted(not_found["record_key"].to_list()) == ["empty", "gone"]
    reasons = dict(zip(rejected["record_key"], rejected["reason"]))
    assert set(reasons) == {"cut", "latin1", "oops"}
    assert reasons["cut"].startswith("invalid JSON (truncated or malformed)")
    assert "not UTF-8" in reasons["latin1"]
    assert reasons["oops"] == "HTTP 502 reply"
    # the raw bytes travel with the rejection, nothing is lost
    assert (
        rejected.filter(rejected["record_key"] == "cut")["raw_record"][0] == '{"APN": "10306005", "Geo": {"lat": "33.4'
    )


def test_sha256_identifies_identical_bodies():
    a, b = payload("x", b'{"a": 1}'), payload("y", b'{"a": 1}')
    assert a.sha256 == b.sha256 and len(a.sha256) == 64


def test_explode_names_records_without_a_key_by_page_and_index():
    raw = payloads_frame(
        [
            RawPayload(
                "test",
                "listing_page",
                "85031:1",
                "/Property",
                200,
                T,
                b'{"value": [{"ListingKey": "A"}, {"ListingKey": null}, {"ListingKey": ""}]}',
            )
        ]
    )
    decoded, _, _ = decode_json_bodies(raw)
    records, rejects = explode_json_list(decoded, "value", "ListingKey")
    assert records["record_key"].to_list() == ["A", "85031:1#1", "85031:1#2"] and rejects.is_empty()


def listing_page(key: str, body: bytes, status: int = 200) -> RawPayload:
    return RawPayload("reso", "listing_page", key, "/Property", status, T, body)


def test_the_countys_not_found_is_the_countys_alone():
    raw = payloads_frame(
        [
            listing_page("wrong-url", b"Not Found", 404),  # a RESO_API_URL typo is a failure, not "no listings"
            listing_page("empty", b""),
            listing_page(
                "remark", b'{"value": [{"ListingKey": "A", "PublicRemarks": "Requested content was not found"}]}'
            ),
            payload("unknown-apn", b"[parcel]:Requested content was not found", 404),
            payload("remark-in-parcel", b'{"APN": "1", "Note": "Requested content was not found"}'),
        ]
    )
    decoded, not_found, rejected = decode_json_bodies(raw)
    assert not_found["record_key"].to_list() == ["unknown-apn"]
    assert sorted(decoded["record_key"].to_list()) == ["remark", "remark-in-parcel"]
    reasons = dict(zip(rejected["record_key"], rejected["reason"]))
    assert reasons == {"wrong-url": "HTTP 404 reply", "empty": "empty body (HTTP 200)"}


def test_a_page_without_records_is_rejected_whole_and_a_bad_element_alone():
    raw = payloads_frame(
        [
            listing_page("error", b'{"error": {"code": "500", "message": "boom"}}'),
            listing_page("array", b'[{"ListingKey": "A"}]'),
            listing_page("none", b'{"value": []}'),  # a proven "none": nothing to reject
            listing_page("mixed", b'{"value": [{"ListingKey": "B"}, "oops", 7, {"ListingKey": "C"}]}'),
        ]
    )
    records, rejects = explode_json_list(decode_json_bodies(raw)[0], "value", "ListingKey")
    assert records["record_key"].to_list() == ["B", "C"]
    reasons = dict(zip(rejects["record_key"], rejects["reason"]))
    assert reasons["error"] == "not a page of records: no `value` array (keys ['error'])"
    assert reasons["array"] == "not a page of records: no `value` array (list)"
    assert reasons["mixed#1"] == "element 1 of `value` is a str, not a record"
    assert reasons["mixed#2"] == "element 2 of `value` is a int, not a record"
    assert "none" not in reasons
