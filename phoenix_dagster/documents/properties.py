"""The `properties` collection: one document per property, upserted from marts.properties.

A document is the mart row (same column names, from the same schema) plus
`price_history`, a list of {ListPrice, observed_at} appended only when the price changes.
Upserts keep the earliest `first_seen_at` and the latest `last_seen_at`, so re-running
a partition leaves every document as it was.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone

import mongomock
import polars as pl
from pymongo import ASCENDING, UpdateOne

from phoenix_dagster.schemas import conform
from phoenix_dagster.schemas.marts import Properties

COLLECTION = "properties"
INDEXES = [
    ([("property_id", ASCENDING)], {"unique": True, "name": "property_id_unique"}),
    ([("PostalCode", ASCENDING)], {"name": "zip"}),
    ([("StandardStatus", ASCENDING)], {"name": "status"}),
    ([("ListPrice", ASCENDING)], {"name": "price"}),
]


def ensure_indexes(collection) -> None:
    for keys, options in INDEXES:
        collection.create_index(keys, **options)


def _bson_value(value):
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=timezone.utc)
    return value


def property_update(row: dict, last_price_entry: dict | None) -> dict:
    """The update document for one mart row, given the last price_history entry stored (if any)."""
    fields = {key: _bson_value(value) for key, value in row.items()}
    first_seen, last_seen = fields.pop("first_seen_at"), fields.pop("last_seen_at")
    update: dict = {"$set": fields, "$min": {"first_seen_at": first_seen}, "$max": {"last_seen_at": last_seen}}
    price = fields.get("ListPrice")
    if price is not None:
        previous = (last_price_entry or {}).get("ListPrice")
        previous_at = (last_price_entry or {}).get("observed_at")
        if previous != price and (previous_at is None or _naive(last_seen) > _naive(previous_at)):
            update["$push"] = {"price_history": {"ListPrice": price, "observed_at": last_seen}}
    return update


def _naive(value: datetime) -> datetime:
    # mongomock and pymongo (without tz_aware) hand datetimes back naive, in UTC.
    return value.replace(tzinfo=None) if value.tzinfo else value


def upsert_properties(collection, mart_rows: pl.DataFrame) -> dict[str, int]:
    """Upsert the rows into the collection; returns counts of what changed."""
    rows = conform(mart_rows, Properties).to_dicts()
    if not rows:
        return {"matched": 0, "modified": 0, "upserted": 0}
    ensure_indexes(collection)
    ids = [row["property_id"] for row in rows]
    stored = collection.find({"property_id": {"$in": ids}}, {"property_id": 1, "price_history": {"$slice": -1}})
    last_entries = {doc["property_id"]: (doc.get("price_history") or [None])[-1] for doc in stored}
    updates = [({"property_id": row["property_id"]}, property_update(row, last_entries.get(row["property_id"])))
               for row in rows]
    return _apply_upserts(collection, updates)


def _apply_upserts(collection, updates: list[tuple[dict, dict]]) -> dict[str, int]:
    if isinstance(collection, mongomock.Collection):
        # The stand-in's bulk_write cannot read pymongo 4.20's UpdateOne; apply one by one.
        counts = {"matched": 0, "modified": 0, "upserted": 0}
        for selector, update in updates:
            result = collection.update_one(selector, update, upsert=True)
            counts["matched"] += result.matched_count
            counts["modified"] += result.modified_count
            counts["upserted"] += result.upserted_id is not None
        return counts
    result = collection.bulk_write([UpdateOne(s, u, upsert=True) for s, u in updates], ordered=False)
    return {"matched": result.matched_count, "modified": result.modified_count, "upserted": result.upserted_count}
