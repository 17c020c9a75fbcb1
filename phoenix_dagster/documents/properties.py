"""The `properties` documents: one per property, built from the warehouse alone.

A document is the marts.properties row (same column names, from the same schema) plus
- `price_history`: the listing price over time, [{ListPrice, observed_at}], from
  marts.listing_events (listed and price changes) — a function of the warehouse, not of what was
  served before, so a document is the same however often it is served;
- `location`: a GeoJSON point (for the 2dsphere index) when the parcel has coordinates;
- `content_hash`: a 64-bit hash of everything except the latest sighting (`last_seen_at`, which
  moves every day). Serving writes a document again only when its hash changed; sightings alone
  move in bulk. (`first_seen_at` is content: it changes only when a backfill finds an earlier day.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import polars as pl

from phoenix_dagster.schemas import conform
from phoenix_dagster.schemas.marts import Properties
from phoenix_dagster.schemas.serving import PropertyDocument
from phoenix_dagster.warehouse.queries import query as sql

COLLECTION = "properties"
SIGHTINGS = ("last_seen_at",)
# Created idempotently before each write (create_index is a no-op when the index exists). The key
# kinds are MongoDB's own (pymongo.ASCENDING, pymongo.GEOSPHERE), written out so that loading the
# code location does not import pymongo (~0.5 s a process).
ASCENDING, GEOSPHERE = 1, "2dsphere"
INDEXES = [
    ([("property_id", ASCENDING)], {"unique": True, "name": "property_id_unique"}),
    ([("ParcelNumber", ASCENDING)], {"name": "parcel_number"}),
    ([("PostalCode", ASCENDING), ("StandardStatus", ASCENDING)], {"name": "zip_status"}),
    ([("ListPrice", ASCENDING)], {"name": "price"}),
    ([("location", GEOSPHERE)], {"name": "location_2dsphere"}),
]
PRICE_EVENTS = ("listed", "price_change")


def price_histories(events: pl.DataFrame) -> pl.DataFrame:
    """property_id → price_history, oldest first, from marts.listing_events."""
    prices = (
        events.filter(pl.col("event").is_in(PRICE_EVENTS) & pl.col("new_value").is_not_null())
        .select("property_id", pl.col("new_value").cast(pl.Float64, strict=False).alias("ListPrice"), "observed_at")
        .drop_nulls("ListPrice")
        .unique(["property_id", "observed_at", "ListPrice"])
        .sort("observed_at")
    )
    return prices.group_by("property_id", maintain_order=True).agg(
        pl.struct("ListPrice", "observed_at").alias("price_history")
    )


def property_documents(mart_rows: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """One row per document: the mart's columns, price_history, location and content_hash."""
    rows = conform(mart_rows, Properties)
    history = price_histories(events)
    empty_history = pl.lit([], dtype=history.schema["price_history"])
    docs = rows.join(history, on="property_id", how="left").with_columns(
        pl.col("price_history").fill_null(empty_history),
        pl.when(pl.col("Latitude").is_not_null() & pl.col("Longitude").is_not_null())
        .then(pl.struct(pl.lit("Point").alias("type"), pl.concat_list("Longitude", "Latitude").alias("coordinates")))
        .alias("location"),
    )
    content = docs.drop(*SIGHTINGS)
    # Fixed seeds: the same for a pinned Polars version (an upgrade may rewrite each document once).
    # BSON has no unsigned 64-bit integer: the hash's bits are kept as a signed one.
    digest = content.hash_rows(seed=0, seed_1=1, seed_2=2, seed_3=3).reinterpret(signed=True)
    return PropertyDocument.validate(docs.with_columns(digest.alias("content_hash")))


def documents_by_zip(query: Callable[..., pl.DataFrame]) -> Iterator[tuple[str | None, pl.DataFrame]]:
    """(ZIP, its documents) for each ZIP of marts.properties, read from the warehouse with
    `query(sql, params)` one ZIP at a time: the build's memory holds one ZIP's documents, not all."""
    zips = query(sql("serving__zips"))["PostalCode"].to_list()
    for zip_code in zips:
        rows = query(sql("serving__properties_of_zip"), [zip_code])
        events = query(sql("serving__listing_events_of_zip"), [zip_code])
        yield zip_code, property_documents(rows, events)


def ensure_indexes(collection) -> None:
    for keys, options in INDEXES:
        collection.create_index(keys, **options)
