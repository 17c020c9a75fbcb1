from datetime import datetime, timezone

import mongomock
import polars as pl

from phoenix_dagster.schemas import empty_frame
from phoenix_dagster.schemas.marts import Properties
from phoenix_dagster.documents.properties import property_update, upsert_properties
import pytest

pytestmark = pytest.mark.unit


def mart(price: float | None, first: datetime, last: datetime, property_id: str = "apn:1") -> pl.DataFrame:
    empty = empty_frame(Properties)
    row = {**{c: None for c in empty.columns}, "property_id": property_id, "PostalCode": "85031",
           "ListPrice": price, "sources": ["assessor:sample"], "match_method": "apn", "enrichment_method": "none",
           "enriched_fields": [], "first_seen_at": first, "last_seen_at": last}
    return pl.DataFrame([row], schema=empty.schema)


def day(n: int) -> datetime:
    return datetime(2026, 11, n, 7, tzinfo=timezone.utc)


def test_upserts_keep_first_seen_move_last_seen_and_append_price_only_on_change():
    collection = mongomock.MongoClient().db.properties
    upsert_properties(collection, mart(300000, day(1), day(1)))
    again = upsert_properties(collection, mart(300000, day(1), day(1)))
    assert again == {"matched": 1, "modified": 0, "upserted": 0}  # a re-run changes nothing
    upsert_properties(collection, mart(300000, day(2), day(2)))
    upsert_properties(collection, mart(290000, day(3), day(3)))
    doc = collection.find_one({"property_id": "apn:1"})
    assert doc["first_seen_at"] == day(1).replace(tzinfo=None)
    assert doc["last_seen_at"] == day(3).replace(tzinfo=None)
    assert [entry["ListPrice"] for entry in doc["price_history"]] == [300000, 290000]
    assert collection.count_documents({}) == 1
    names = {index["name"] for index in collection.list_indexes()}
    assert {"property_id_unique", "zip", "status", "price"} <= names


def test_an_older_observation_does_not_rewrite_price_history():
    last = {"ListPrice": 290000, "observed_at": day(3).replace(tzinfo=None)}
    row = mart(300000, day(1), day(2)).to_dicts()[0]
    assert "$push" not in property_update(row, last)
    assert property_update(row, None)["$push"]["price_history"]["ListPrice"] == 300000
