"""Marts: the tables analysts query in DuckDB (schema `marts`)."""

from typing import Optional

import pandera.polars as pa
import polars as pl

from phoenix_dagster.schemas.enriched import ListingTextFacts
from phoenix_dagster.schemas.intermediate import COUNTY_FIPS, PROPERTY_ID_DOC
from phoenix_dagster.schemas.staging import STANDARD_STATUS, ZIP_PATTERN

UTC_TIME = pl.Datetime("us", "UTC")


class Properties(pa.DataFrameModel):
    """marts.properties: one row per property, latest observation, with first and last sighting."""

    property_id: str = pa.Field(unique=True, description=PROPERTY_ID_DOC)
    county_fips: str = pa.Field(str_matches=COUNTY_FIPS, description="The county's FIPS code (state + county)")
    ParcelNumber: Optional[str] = pa.Field(
        nullable=True, description="Assessor parcel number (APN), normalised: the county's own parcel id"
    )
    UnparsedAddress: Optional[str] = pa.Field(nullable=True, description="Street address")
    City: Optional[str] = pa.Field(nullable=True, description="City")
    PostalCode: str = pa.Field(str_matches=ZIP_PATTERN, description="5-digit ZIP")
    PropertyType: Optional[str] = pa.Field(nullable=True, description="RESO PropertyType (Residential, Land)")
    LivingArea: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Living area (sq ft)")
    YearBuilt: Optional[pl.Int32] = pa.Field(nullable=True, ge=1800, le=2100, description="Year built")
    LotSizeSquareFeet: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Lot size (sq ft)")
    BedroomsTotal: Optional[pl.Int32] = pa.Field(nullable=True, ge=0, le=50, description="Bedrooms")
    BathroomsTotalInteger: Optional[pl.Int32] = pa.Field(
        nullable=True, ge=0, le=50, description="Bathrooms (half rounded up)"
    )
    GarageSpaces: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Garage spaces")
    PoolPrivateYN: Optional[pl.Boolean] = pa.Field(nullable=True, description="Private pool")
    AssociationYN: Optional[pl.Boolean] = pa.Field(nullable=True, description="HOA")
    AssociationFee: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="HOA fee (USD/month)")
    ListPrice: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="List price (USD)")
    StandardStatus: Optional[str] = pa.Field(nullable=True, isin=STANDARD_STATUS, description="RESO StandardStatus")
    ListingId: Optional[str] = pa.Field(nullable=True, description="MLS number")
    FullCashValue: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Assessor's full cash value")
    LastSalePrice: Optional[pl.Float64] = pa.Field(
        nullable=True,
        ge=0,
        description="Last sale recorded by the assessor (USD; the county's deed record, not a listing's ClosePrice; $0 or a nominal amount for a transfer that was not a market sale)",
    )
    LastSaleDate: Optional[pl.Date] = pa.Field(
        nullable=True, description="Date of the last sale recorded by the assessor"
    )
    Latitude: Optional[pl.Float64] = pa.Field(nullable=True, description="Latitude")
    Longitude: Optional[pl.Float64] = pa.Field(nullable=True, description="Longitude")
    sources: pl.List(pl.String) = pa.Field(description="Sources that saw the property")
    match_method: str = pa.Field(
        description="How the listing found its parcel: apn, address, street or fuzzy; ambiguous or unmatched_listing (a property of its own); assessor_only without a listing"
    )
    enrichment_method: str = pa.Field(description="rules or none")
    enriched_fields: pl.List(pl.String) = pa.Field(description="Columns filled from listing text")
    first_seen_at: UTC_TIME = pa.Field(description="First time any source returned the property")
    last_seen_at: UTC_TIME = pa.Field(description="Latest time any source returned the property")

    class Config:
        strict = True


class ZipMarketStats(pa.DataFrameModel):
    """marts.zip_market_stats: one row per ZIP and day."""

    PostalCode: str = pa.Field(str_matches=ZIP_PATTERN, description="5-digit ZIP")
    date: pl.Date = pa.Field(description="Day observed")
    property_count: pl.Int64 = pa.Field(ge=0, description="Properties seen that day")
    active_listings: pl.Int64 = pa.Field(ge=0, description="Listings Active, ActiveUnderContract or ComingSoon")
    median_list_price: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, description="Median ListPrice of active listings"
    )
    median_price_per_sqft: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, description="Median ListPrice / LivingArea of active listings"
    )
    median_year_built: Optional[pl.Float64] = pa.Field(nullable=True, description="Median YearBuilt of all properties")
    pending_listings: pl.Int64 = pa.Field(ge=0, description="Listings Pending or ActiveUnderContract")
    new_listings: pl.Int64 = pa.Field(
        ge=0, description="Listings seen for the first time that day (0 on the ZIP's first day of data)"
    )
    price_cuts: pl.Int64 = pa.Field(ge=0, description="Listings whose ListPrice fell since their previous observation")
    closed_sales: pl.Int64 = pa.Field(ge=0, description="Listings that became Closed that day")
    median_sale_price: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, description="Median ClosePrice of the day's sales"
    )
    median_days_on_market: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, description="Median DaysOnMarket of the day's sales"
    )
    list_to_sale_ratio: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, description="Median ClosePrice / the list price the day before, of the day's sales"
    )

    class Config:
        strict = True
        unique = ["PostalCode", "date"]


class ListingEvents(pa.DataFrameModel):
    """marts.listing_events: what happened to each listing, from one observation to the next."""

    property_id: str = pa.Field(description="The property the listing belongs to")
    ListingId: Optional[str] = pa.Field(nullable=True, description="MLS number")
    ListingKey: str = pa.Field(description="The source's key for the listing")
    source: str = pa.Field(description="Listing source")
    event: str = pa.Field(isin=["listed", "price_change", "status_change", "sold"], description="What changed")
    old_value: Optional[str] = pa.Field(
        nullable=True, description="Price or status before (null for listed/first-seen sold)"
    )
    new_value: Optional[str] = pa.Field(nullable=True, description="Price or status after (sold: the close price)")
    observed_at: UTC_TIME = pa.Field(description="When the observation that showed the change was fetched")

    class Config:
        strict = True


class ListingMatchRates(pa.DataFrameModel):
    """marts.listing_match_rates: per listing source, ZIP and day, how listings found their parcels."""

    source: str = pa.Field(description="Listing source")
    PostalCode: str = pa.Field(str_matches=ZIP_PATTERN, description="5-digit ZIP")
    date: pl.Date = pa.Field(description="Day observed")
    listings: pl.Int64 = pa.Field(ge=1, description="Listings seen")
    matched_by_apn: pl.Int64 = pa.Field(ge=0, description="Matched by parcel number")
    matched_by_address: pl.Int64 = pa.Field(ge=0, description="Matched by the same normalised street line")
    matched_by_street: pl.Int64 = pa.Field(
        ge=0, description="Matched by house number and street name (a missing suffix or directional filled in)"
    )
    matched_by_fuzzy: pl.Int64 = pa.Field(
        ge=0, description="Matched by a scored street name (a typo), same house number"
    )
    ambiguous: pl.Int64 = pa.Field(
        ge=0, description="Two or more parcels fit: none guessed, kept as their own property"
    )
    unmatched: pl.Int64 = pa.Field(ge=0, description="No parcel fits: kept as their own property")
    match_rate: pl.Float64 = pa.Field(ge=0, le=1, description="(apn + address + street + fuzzy) / listings")
    match_rate_14d_median: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, le=1, description="Median match_rate of the 14 days before (null on the first day)"
    )
    match_rate_dropped: bool = pa.Field(
        description="match_rate more than 5 points below match_rate_14d_median (with at least 7 earlier days and 10 listings): a quality issue, alerted"
    )

    class Config:
        strict = True


class ListingFacts(ListingTextFacts):
    """marts.listing_facts: one row per listing, its latest text reading (see listing_text_facts)."""


# Warehouse table → its contract. Checks and docs look tables up here.
MART_TABLES = {
    "marts.properties": Properties,
    "marts.zip_market_stats": ZipMarketStats,
    "marts.listing_events": ListingEvents,
    "marts.listing_match_rates": ListingMatchRates,
    "marts.listing_facts": ListingFacts,
}
