"""Entity resolution: the assessor's parcels and the listings become one row per property.

Three steps, each an intermediate asset:
1. assessor_parcels: the ZIP's wanted parcels, each with its latest detail version;
2. match_listings: every listing finds its parcel by APN, else by its address in stages
   (transforms/address_match.py), or is recorded unmatched or ambiguous;
3. resolve_properties: one row per property, whichever sources saw it.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from phoenix_dagster.schemas import conform
from phoenix_dagster.schemas.intermediate import IntAssessorParcels, IntListingsMatched, IntPropertiesResolved
from phoenix_dagster.transforms.address_match import match_addresses
from phoenix_dagster.transforms.addresses import property_id, with_address_key
from phoenix_dagster.transforms.listings import latest_listing_records

DETAIL_COLUMNS = [
    "LotSizeSquareFeet",
    "LivingArea",
    "YearBuilt",
    "BathFixtures",
    "PoolArea",
    "GarageSpaces",
    "Latitude",
    "Longitude",
    "FullCashValue",
    "LastSalePrice",
    "LastSaleDate",
]


def assessor_parcels(
    search: pl.DataFrame,
    parcel_versions: pl.DataFrame,
    zip_code: str,
    property_types: tuple[str, ...],
    *,
    county_fips: str,
) -> pl.DataFrame:
    """One row per wanted parcel in the ZIP (of the county `county_fips`): its search row, with its latest detail version
    (from whichever day it was fetched) when it has one. Latest by partition `day`, then
    `fetched_at`, where the versions have a day (a re-run of an old day fetches later than the
    days after it, but its version is not newer than theirs), as new_versions decides."""
    rows = (
        search.filter((pl.col("PostalCode") == zip_code) & pl.col("assessor_property_type").is_in(property_types))
        .sort("search_page")
        .group_by("ParcelNumber", maintain_order=True)
        .agg(pl.all().first(), pl.len().alias("search_records"))
    )
    details = (
        parcel_versions.sort(
            [c for c in ("day", "fetched_at") if c in parcel_versions.columns], descending=True, maintain_order=True
        )
        .group_by("ParcelNumber", maintain_order=True)
        .agg(pl.all().first(), pl.len().alias("detail_versions"))
        .select(
            "ParcelNumber",
            "detail_versions",
            "UnparsedAddress",
            *DETAIL_COLUMNS,
            pl.col("fetched_at").alias("detail_fetched_at"),
            pl.col("payload_sha256").alias("detail_sha256"),
        )
    )
    joined = rows.join(details, on="ParcelNumber", how="left", suffix="_detail").with_columns(
        pl.coalesce("UnparsedAddress", "UnparsedAddress_detail").alias("UnparsedAddress"),
        pl.max_horizontal("fetched_at", "detail_fetched_at").alias("seen_at"),
        (pl.col("search_records") + pl.col("detail_versions").fill_null(0)).cast(pl.Int32).alias("assessor_records"),
        pl.lit(zip_code).alias("PostalCode"),
        pl.lit(county_fips).alias("county_fips"),
        property_id(pl.lit(county_fips), pl.col("ParcelNumber"), pl.lit(None, pl.String), pl.lit(zip_code)).alias(
            "property_id"
        ),
    )
    return conform(with_address_key(joined, "UnparsedAddress", zip_code).sort("ParcelNumber"), IntAssessorParcels)


def match_listings(
    listings: pl.DataFrame,
    parcels: pl.DataFrame,
    search_rows: pl.DataFrame,
    *,
    zip_code: str,
    county_fips: str,
    observed_date: date,
) -> pl.DataFrame:
    """Each listing (its latest record) → property_id, in the resolver's stages (APN, exact
    address, house number + street, scored street name; see address_match) against every county
    search row of the ZIP, of which `parcels` are the ones kept: a listing resolves only to a
    parcel of the ZIP's county, and its APN is read as that county's. A listing that matches nothing,
    or is ambiguous, becomes a property of its own, keyed by its address (by its own APN when it
    has no address)."""
    repeats = listings.group_by("source", "ListingKey").agg(pl.len().cast(pl.Int32).alias("listing_records"))
    latest = latest_listing_records(listings).join(repeats, on=["source", "ListingKey"], how="left")
    zip_rows = search_rows.filter(pl.col("PostalCode") == zip_code).select("ParcelNumber", "UnparsedAddress")
    matched = (
        match_addresses(with_address_key(latest, "UnparsedAddress", zip_code), zip_rows, parcels["ParcelNumber"])
        .with_columns(
            pl.coalesce("matched_parcel", pl.when(pl.col("address_key").is_null()).then(pl.col("ParcelNumber"))).alias(
                "resolved_parcel"
            ),
            pl.lit(observed_date).alias("observed_date"),
            pl.lit(county_fips).alias("county_fips"),
        )
        .with_columns(
            property_id(
                pl.col("county_fips"), pl.col("resolved_parcel"), pl.col("address_key"), pl.col("PostalCode")
            ).alias("property_id")
        )
    )
    return conform(matched.sort("source", "ListingKey"), IntListingsMatched)


def resolve_properties(
    parcels: pl.DataFrame, listings: pl.DataFrame, *, zip_code: str, county_fips: str, observed_date: date
) -> pl.DataFrame:
    """int_assessor_parcels + int_listings_matched → int_properties_resolved."""
    per_property = (
        listings.sort(["ModificationTimestamp", "ListingKey"], descending=True, nulls_last=True)
        .group_by("property_id", maintain_order=True)
        .agg(
            pl.all().first(),
            pl.col("listing_records").sum().alias("listing_records_total"),
            pl.format("listing:{}", pl.col("source")).unique().sort().alias("listing_sources"),
            pl.col("fetched_at").max().alias("listing_seen_at"),
        )
    )
    listing_cols = per_property.select(
        "property_id",
        "listing_records_total",
        "listing_sources",
        "listing_seen_at",
        "match_method",
        "resolved_parcel",
        pl.col("UnparsedAddress").alias("listing_address"),
        pl.col("address_key").alias("listing_address_key"),
        pl.col("address_parse").alias("listing_address_parse"),
        pl.col("City").alias("listing_city"),
        pl.col("PropertyType").alias("listing_property_type"),
        pl.col("source").alias("listing_source"),
        "ListingKey",
        "ListingId",
        "StandardStatus",
        "ListPrice",
        "ClosePrice",
        "BedroomsTotal",
        "BathroomsTotalInteger",
        "PublicRemarks",
        pl.col("LivingArea").alias("listing_living_area"),
        pl.col("YearBuilt").alias("listing_year_built"),
        pl.col("LotSizeSquareFeet").alias("listing_lot"),
        pl.col("GarageSpaces").alias("listing_garage"),
        pl.col("PoolPrivateYN").alias("listing_pool"),
        "AssociationYN",
        "AssociationFee",
        pl.col("Latitude").alias("listing_lat"),
        pl.col("Longitude").alias("listing_lon"),
    )
    joined = parcels.join(listing_cols, on="property_id", how="full", coalesce=True)
    resolved = joined.with_columns(
        pl.coalesce("ParcelNumber", "resolved_parcel").alias("ParcelNumber"),
        pl.coalesce("UnparsedAddress", "listing_address").alias("UnparsedAddress"),
        pl.coalesce("address_key", "listing_address_key").alias("address_key"),
        pl.when(pl.col("address_key").is_not_null())
        .then(pl.col("address_parse"))
        .otherwise(pl.col("listing_address_parse"))
        .alias("address_parse"),
        pl.coalesce("City", pl.col("listing_city").str.to_uppercase()).alias("City"),
        pl.lit(zip_code).alias("PostalCode"),
        pl.lit(county_fips).alias("county_fips"),
        pl.when(pl.col("assessor_property_type").str.starts_with("VACANT LAND"))
        .then(pl.lit("Land"))
        .when(pl.col("assessor_property_type").is_not_null())
        .then(pl.lit("Residential"))
        .when(pl.col("listing_property_type").is_in(["Residential", "Land"]))
        .then(pl.col("listing_property_type"))
        .otherwise(None)
        .alias("PropertyType"),
        pl.coalesce("LivingArea", "listing_living_area").alias("LivingArea"),
        pl.coalesce("YearBuilt", "listing_year_built").alias("YearBuilt"),
        pl.coalesce("LotSizeSquareFeet", "listing_lot").alias("LotSizeSquareFeet"),
        pl.coalesce("listing_garage", pl.col("GarageSpaces").cast(pl.Float64)).alias("GarageSpaces"),
        pl.coalesce("listing_pool", pl.col("PoolArea") > 0).alias("PoolPrivateYN"),
        pl.coalesce("Latitude", "listing_lat").alias("Latitude"),
        pl.coalesce("Longitude", "listing_lon").alias("Longitude"),
        pl.concat_list(
            pl.concat_list(pl.format("assessor:{}", pl.col("source"))).list.drop_nulls(),
            pl.col("listing_sources").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        )
        .list.unique()
        .list.sort()
        .alias("sources"),
        pl.col("match_method").fill_null("assessor_only"),
        (pl.col("assessor_records").fill_null(0) + pl.col("listing_records_total").fill_null(0))
        .cast(pl.Int32)
        .alias("records_merged"),
        pl.lit(observed_date).alias("observed_date"),
        pl.max_horizontal("seen_at", "listing_seen_at").alias("observed_at"),
    )
    return conform(resolved.sort("property_id"), IntPropertiesResolved)
