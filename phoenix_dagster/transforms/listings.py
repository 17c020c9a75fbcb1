"""Staging for listing records in RESO Data Dictionary shape."""

from __future__ import annotations

from typing import NamedTuple

import polars as pl

from phoenix_dagster.schemas import conform, polars_schema
from phoenix_dagster.schemas.staging import StgListings
from phoenix_dagster.transforms.addresses import normalize_apn
from phoenix_dagster.transforms.casting import parse_text_columns
from phoenix_dagster.transforms.listing_status import standard_status
from phoenix_dagster.transforms.payloads import SHAPE, flatten_record

# Columns read from the record as-is (same RESO name); the rest of the schema is lineage.
LINEAGE = {"source", "fetched_at", "payload_sha256"}
TEXT_FIELDS = {
    "ListingKey",
    "ListingId",
    "StandardStatus",
    "UnparsedAddress",
    "City",
    "PostalCode",
    "ParcelNumber",
    "PropertyType",
    "PropertySubType",
    "PublicRemarks",
    "PhotoURLs",
}


class StagedListings(NamedTuple):
    staged: pl.DataFrame  # stg_listings__listings
    rejected: pl.DataFrame  # quarantine rows, each with its reason
    out_of_scope: pl.DataFrame  # (source, record_key, PostalCode): records of another ZIP


def stage_listings(records: pl.DataFrame, zip_code: str) -> StagedListings:
    """One decoded listing record per row → staged, rejected and out-of-scope records.

    Out of scope: a PostalCode of another ZIP (a portal export covers many; that ZIP's own
    partition stages it). Rejected: no ListingKey, no PostalCode, an unknown status, or a value
    that does not parse as its type (the reason names each).
    """
    schema = polars_schema(StgListings)
    fields = [name for name in schema if name not in LINEAGE]
    wire = pl.Struct(
        {
            **{name: pl.List(pl.String) if isinstance(schema[name], pl.List) else pl.String for name in fields},
            SHAPE: pl.String,
        }
    )
    lists = frozenset(name for name in fields if isinstance(schema[name], pl.List))
    flat = pl.col("text").map_elements(
        lambda text: flatten_record(text, lists, frozenset(TEXT_FIELDS)), return_dtype=pl.String
    )
    decoded = records.with_columns(flat.str.json_decode(wire).alias("record")).unnest("record")
    postal = pl.col("PostalCode").str.strip_chars().str.slice(0, 5)
    record_problem = (
        pl.when(pl.col(SHAPE).is_not_null())
        .then(pl.format("listing is not the contract's shape: {}", pl.col(SHAPE)))
        .when(pl.col("ListingKey").is_null() | (pl.col("ListingKey").str.strip_chars() == ""))
        .then(pl.lit("listing has no ListingKey"))
        .when(postal.is_null() | (postal == ""))
        .then(pl.lit("listing has no PostalCode"))
        .when(pl.col("StandardStatus").is_not_null() & standard_status(pl.col("StandardStatus")).is_null())
        .then(pl.format("StandardStatus '{}' is not a known listing status", pl.col("StandardStatus")))
        .otherwise(None)
    )
    other_zip = decoded.filter(record_problem.is_null() & (postal != zip_code))
    decoded = decoded.filter(record_problem.is_not_null() | (postal == zip_code))
    typed = {name: schema[name] for name in fields if name not in TEXT_FIELDS}
    parsed, bad = parse_text_columns(decoded.with_columns(record_problem.alias("record_problem")), typed)
    checked = parsed.with_columns(pl.col("record_problem").alias("reason"))
    quarantine_columns = [
        "source",
        "record_key",
        "reason",
        pl.col("text").alias("raw_record"),
        pl.col("sha256").alias("payload_sha256"),
        pl.lit(None, pl.Int64).alias("raw_bytes"),
    ]
    rejected = pl.concat(
        [
            bad.with_columns(
                pl.concat_str(["record_problem", "reason"], separator="; ", ignore_nulls=True).alias("reason")
            ).select(quarantine_columns),
            checked.filter(pl.col("reason").is_not_null()).select(quarantine_columns),
        ]
    )
    staged = checked.filter(pl.col("reason").is_null()).with_columns(
        pl.col("ListingKey").str.strip_chars(),
        standard_status(pl.col("StandardStatus")).alias("StandardStatus"),
        postal.alias("PostalCode"),
        pl.col("City").str.strip_chars().str.to_uppercase(),
        pl.col("UnparsedAddress").str.strip_chars().str.replace_all(r"\s+", " "),
        normalize_apn(pl.col("ParcelNumber")).alias("ParcelNumber"),
        pl.col("sha256").alias("payload_sha256"),
    )
    return StagedListings(
        conform(staged, StgListings), rejected, other_zip.select("source", "record_key", postal.alias("PostalCode"))
    )


def latest_listing_records(listings: pl.DataFrame) -> pl.DataFrame:
    """One row per (source, ListingKey): the most recently modified, when a feed repeats a listing."""
    return listings.sort(["ModificationTimestamp", "fetched_at"], descending=True, nulls_last=True).unique(
        subset=["source", "ListingKey"], keep="first", maintain_order=True
    )


def current_listings(today: pl.DataFrame, earlier: pl.DataFrame | None, complete_sources: set[str]) -> pl.DataFrame:
    """The listing records that describe the ZIP as of today.

    A complete source (one that returns every current listing on each fetch) that delivered
    today speaks for itself: its earlier records are dropped, so a listing it no longer shows
    is gone. Incremental sources (RESO) only send changes, and a complete source that
    delivered nothing today (an outage) keeps its earlier records; the latest record per
    listing wins downstream.
    """
    if earlier is None or earlier.is_empty():
        return today
    delivered = set(today["source"].unique().to_list())
    superseded = pl.col("source").is_in(sorted(complete_sources & delivered))
    return pl.concat([earlier.filter(~superseded), today])
