"""Serving documents: built from the warehouse alone, written only when their content changed,
sightings moved in bulk, orphans removed; the export is mongoimport-ready Extended JSON."""

import json
from datetime import UTC, datetime

import mongomock
import polars as pl
import pytest

from phoenix_dagster.documents.export import export_documents
from phoenix_dagster.documents.mongo_writes import write_changed
from phoenix_dagster.documents.properties import ensure_indexes, property_documents
from phoenix_dagster.schemas import empty_frame
from phoenix_dagster.schemas.marts import ListingEvents, Properties

pytestmark = pytest.mark.unit


def day(n: int) -> datetime:
    return datetime(2026, 11, n, 7, tzinfo=UTC)


def mart(*rows: dict) -> pl.DataFrame:
    empty = empty_frame(Properties)
    base = {
        **dict.fromkeys(empty.columns),
        "PostalCode": "85031",
        "county_fips": "04013",
        "sources": ["assessor:sample"],
        "match_method": "apn",
        "enrichment_method": "none",
        "enriched_fields": [],
        "first_seen_at": day(1),
    }
    return pl.DataFrame([base | row for row in rows], schema=empty.schema)


def events(*rows: tuple) -> pl.DataFrame:
    empty = empty_frame(ListingEvents)
    return pl.DataFrame(
        [
            {
                "property_id": p,
                "ListingId": None,
                "ListingKey": "k",
                "source": "sample",
                "event": e,
                "old_value": None,
                "new_value": v,
                "observed_at": at,
            }
            for p, e, v, at in rows
        ],
        schema=empty.schema,
    )


def test_a_document_is_its_mart_row_with_price_history_location_and_a_content_hash():
    docs = property_documents(
        mart(
            {
                "property_id": "apn:1",
                "ListPrice": 290000.0,
                "Latitude": 33.5,
                "Longitude": -112.2,
                "last_seen_at": day(3),
            },
            {"property_id": "apn:2", "last_seen_at": day(3)},
        ),
        events(
            ("apn:1", "listed", "300000", day(1)),
            ("apn:1", "status_change", "Pending", day(2)),
            ("apn:1", "price_change", "290000", day(3)),
        ),
    )
    one, two = docs.sort("property_id").to_dicts()
    assert [entry["ListPrice"] for entry in one["price_history"]] == [300000.0, 290000.0]
    assert one["location"] == {"type": "Point", "coordinates": [-112.2, 33.5]} and two["location"] is None
    assert two["price_history"] == []
    moved = property_documents(mart({"property_id": "apn:2", "last_seen_at": day(9)}), events())
    assert moved["content_hash"][0] == two["content_hash"]  # a later sighting is not new content
    priced = property_documents(mart({"property_id": "apn:2", "ListPrice": 1.0, "last_seen_at": day(3)}), events())
    assert priced["content_hash"][0] != two["content_hash"]


def test_only_changed_documents_are_written_sightings_move_in_bulk_and_orphans_go():
    collection = mongomock.MongoClient().db.properties
    ensure_indexes(collection)
    first = property_documents(mart(*({"property_id": f"apn:{n}", "last_seen_at": day(2)} for n in range(5))), events())
    assert write_changed(collection, first, "property_id").content_writes == 5
    again = write_changed(collection, first, "property_id")
    assert (again.content_writes, again.sightings_moved, again.deleted) == (0, 0, 0)  # an unchanged re-run
    later = property_documents(
        mart(
            *({"property_id": f"apn:{n}", "last_seen_at": day(3)} for n in range(4)),
            {"property_id": "apn:0", "ListPrice": 5.0, "last_seen_at": day(3)},
        ).unique("property_id", keep="last"),
        events(),
    )
    counts = write_changed(collection, later, "property_id")
    assert (counts.content_writes, counts.sightings_moved, counts.deleted) == (1, 3, 1)  # apn:4 is gone
    assert collection.count_documents({}) == 4 and collection.find_one({"property_id": "apn:0"})["ListPrice"] == 5.0
    assert all(doc["last_seen_at"] == day(3).replace(tzinfo=None) for doc in collection.find())
    names = {index["name"] for index in collection.list_indexes()}
    assert {"property_id_unique", "parcel_number", "zip_status", "location_2dsphere"} <= names


def test_the_export_is_extended_json_and_counts_what_changed(tmp_path):
    path = tmp_path / "serving" / "properties.jsonl"
    docs = property_documents(
        mart(
            {"property_id": "apn:1", "ListPrice": 1.0, "last_seen_at": day(2)},
            {"property_id": "apn:2", "last_seen_at": day(2)},
        ),
        events(("apn:1", "listed", "1", day(2))),
    )
    first = export_documents(docs, path, "property_id")
    assert (first.documents, first.content_writes, first.deleted) == (2, 2, 0)
    line, other = (json.loads(text) for text in path.read_text().splitlines())
    assert line["last_seen_at"] == {"$date": "2026-11-02T07:00:00.000Z"}
    assert other["location"] is None and other["ListPrice"] is None  # nulls stay null, not {"type": null}
    assert line["price_history"][0]["observed_at"] == {"$date": "2026-11-02T07:00:00.000Z"}
    assert export_documents(docs, path, "property_id").content_writes == 0  # unchanged re-run
    fewer = export_documents(docs.filter(pl.col("property_id") == "apn:1"), path, "property_id")
    assert (fewer.content_writes, fewer.deleted) == (0, 1)
    from bson import json_util

    assert json_util.loads(path.read_text().splitlines()[0])["last_seen_at"] == day(2).replace(
        tzinfo=None
    )  # a BSON date


def test_an_export_whose_first_documents_lack_a_field_is_read_back(tmp_path):
    """The previous export is read for its keys and hashes only: a field null in the first few
    hundred documents and set further down (a ZIP without listings sorted first) once failed the
    next run's type inference."""
    path = tmp_path / "serving" / "properties.jsonl"
    rows = [{"property_id": f"apn:{n:04d}", "last_seen_at": day(2)} for n in range(300)]
    docs = property_documents(
        mart(*rows, {"property_id": "apn:9999", "ListPrice": 1.0, "last_seen_at": day(2)}),
        events(("apn:9999", "listed", "1", day(2))),
    )
    assert export_documents(docs, path, "property_id").content_writes == 301
    again = export_documents(docs.filter(pl.col("property_id") != "apn:0000"), path, "property_id")
    assert (again.content_writes, again.deleted) == (0, 1)


def test_the_previous_export_is_read_a_chunk_of_lines_at_a_time(tmp_path):
    from phoenix_dagster.documents.export import read_fields

    path = tmp_path / "properties.jsonl"
    docs = property_documents(mart(*({"property_id": f"apn:{n}", "last_seen_at": day(2)} for n in range(5))), events())
    export_documents(docs, path, "property_id")
    fields = read_fields(path, {"property_id": pl.String, "content_hash": pl.Int64}, chunk_lines=2)
    assert fields["property_id"].to_list() == [f"apn:{n}" for n in range(5)]
    assert fields["content_hash"].to_list() == docs["content_hash"].to_list()
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert read_fields(empty, {"property_id": pl.String}).height == 0
