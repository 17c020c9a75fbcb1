"""Intermediate layer: one resolved row per property, whichever sources saw it."""

from typing import Optional

import pandera.polars as pa
import polars as pl

from phoenix_dagster.schemas.staging import LATITUDE, LONGITUDE, STANDARD_STATUS, UTC_TIME, ZIP_PATTERN, StgListings

LISTING_MATCH_METHODS = ["apn", "address", "street", "fuzzy", "ambiguous", "unmatched_listing"]
MATCH_METHODS = [*LISTING_MATCH_METHODS, "assessor_only"]
PROPERTY_ID = r"^(apn:\d{5}:[0-9A-Z]+|adr:\d{5}:\d{5}:[0-9A-Z_]+)$"
COUNTY_FIPS = r"^\d{5}$"
PROPERTY_ID_DOC = "apn:<county FIPS>:<APN> when the parcel is known, else adr:<county FIPS>:<ZIP>:<normalised address>"
ADDRESS_PARSE = ["usps", "fallback"]


class IntAssessorParcels(pa.DataFrameModel):
    """int_assessor_parcels: one row per wanted parcel in the ZIP, with its latest detail version."""

    property_id: str = pa.Field(unique=True, str_matches=PROPERTY_ID, description="apn:<county FIPS>:<APN>")
    county_fips: str = pa.Field(str_matches=COUNTY_FIPS, description="The county whose parcel id ParcelNumber is")
    ParcelNumber: str = pa.Field(unique=True, description="APN, normalised")
    UnparsedAddress: Optional[str] = pa.Field(nullable=True, description="Situs address (search row, else detail)")
    address_key: Optional[str] = pa.Field(nullable=True, description="USPS-normalised street line used for matching")
    address_parse: Optional[str] = pa.Field(
        nullable=True, isin=ADDRESS_PARSE, description="usps, or fallback when usaddress could not parse it"
    )
    City: Optional[str] = pa.Field(nullable=True, description="SitusCity")
    PostalCode: str = pa.Field(str_matches=ZIP_PATTERN, description="The partition's ZIP")
    assessor_property_type: str = pa.Field(description="The county's PropertyType")
    LotSizeSquareFeet: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Lot size (sq ft)")
    LivingArea: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Livable space (sq ft)")
    YearBuilt: Optional[pl.Int32] = pa.Field(nullable=True, ge=1800, le=2100, description="Construction year")
    BathFixtures: Optional[pl.Int32] = pa.Field(nullable=True, ge=0, description="Plumbing fixtures")
    PoolArea: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Pool area (sq ft)")
    GarageSpaces: Optional[pl.Int32] = pa.Field(nullable=True, ge=0, description="Garages")
    Latitude: Optional[pl.Float64] = pa.Field(nullable=True, **LATITUDE, description="Geo.lat")
    Longitude: Optional[pl.Float64] = pa.Field(nullable=True, **LONGITUDE, description="Geo.long")
    FullCashValue: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Latest full cash value")
    LastSalePrice: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, description="Owner.SalePrice of the latest detail: the last recorded sale"
    )
    LastSaleDate: Optional[pl.Date] = pa.Field(nullable=True, description="Owner.SaleDate of the latest detail")
    source: str = pa.Field(description="Assessor source implementation")
    detail_sha256: Optional[str] = pa.Field(
        nullable=True, description="Payload hash of the detail version used; null when none parsed yet"
    )
    assessor_records: pl.Int32 = pa.Field(ge=1, description="Search rows and detail versions folded into the row")
    seen_at: UTC_TIME = pa.Field(description="Latest fetch of the search row or the detail")

    class Config:
        strict = True


class IntListingsMatched(StgListings):
    """int_listings_matched: one row per listing (its latest record), with the property it belongs to."""

    property_id: str = pa.Field(str_matches=PROPERTY_ID, description="The property the listing resolved to")
    county_fips: str = pa.Field(
        str_matches=COUNTY_FIPS, description="The county of the ZIP: the only one whose parcels it resolves to"
    )
    match_method: str = pa.Field(
        isin=LISTING_MATCH_METHODS,
        description="How it found its parcel, most certain first: apn, address (the same "
        "normalised street line), street (house number and street name; a missing "
        "suffix or directional filled in), fuzzy (a scored street name); else "
        "ambiguous (two or more parcels fit: none is guessed) or unmatched_listing",
    )
    match_confidence: Optional[float] = pa.Field(
        nullable=True,
        ge=0,
        le=1,
        description="1.0 apn, 0.99 address, 0.95 street, fuzzy: its score / 100; null when unmatched",
    )
    match_candidates: pl.List(pl.String) = pa.Field(description="The APNs that fit an ambiguous listing (else empty)")
    resolved_parcel: Optional[str] = pa.Field(
        nullable=True, description="APN of the matched parcel (or the listing's own)"
    )
    address_key: Optional[str] = pa.Field(nullable=True, description="USPS-normalised street line used for matching")
    address_parse: Optional[str] = pa.Field(
        nullable=True, isin=ADDRESS_PARSE, description="usps, or fallback when usaddress could not parse it"
    )
    listing_records: pl.Int32 = pa.Field(
        ge=1, description="Records of this listing in the partition (repeats included)"
    )
    observed_date: pl.Date = pa.Field(description="Partition day")

    class Config:
        strict = True
        unique = ["source", "ListingKey"]


class IntPropertiesResolved(pa.DataFrameModel):
    """int_properties_resolved: one row per property for the partition's ZIP and day."""

    property_id: str = pa.Field(
        unique=True,
        str_matches=PROPERTY_ID,
        description=PROPERTY_ID_DOC,
    )
    county_fips: str = pa.Field(str_matches=COUNTY_FIPS, description="The county's FIPS code (state + county)")
    ParcelNumber: Optional[str] = pa.Field(nullable=True, description="APN, normalised (the county's parcel id)")
    UnparsedAddress: Optional[str] = pa.Field(nullable=True, description="Street address (assessor's when known)")
    address_key: Optional[str] = pa.Field(nullable=True, description="Normalised street address used for matching")
    address_parse: Optional[str] = pa.Field(
        nullable=True, isin=ADDRESS_PARSE, description="usps, or fallback when usaddress could not parse the address"
    )
    City: Optional[str] = pa.Field(nullable=True, description="City")
    PostalCode: str = pa.Field(str_matches=ZIP_PATTERN, description="5-digit ZIP")
    PropertyType: Optional[str] = pa.Field(nullable=True, isin=["Residential", "Land"], description="RESO PropertyType")
    assessor_property_type: Optional[str] = pa.Field(nullable=True, description="The county's PropertyType")
    LivingArea: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, description="Living area (sq ft); assessor first, then listing"
    )
    YearBuilt: Optional[pl.Int32] = pa.Field(
        nullable=True, ge=1800, le=2100, description="Year built; assessor first, then listing"
    )
    LotSizeSquareFeet: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, description="Lot size (sq ft); assessor first"
    )
    BathFixtures: Optional[pl.Int32] = pa.Field(nullable=True, ge=0, description="Assessor's plumbing fixture count")
    GarageSpaces: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, description="Garage spaces; listing first, then assessor"
    )
    PoolPrivateYN: Optional[pl.Boolean] = pa.Field(
        nullable=True, description="Private pool; listing first, then assessor pool area > 0"
    )
    AssociationYN: Optional[pl.Boolean] = pa.Field(nullable=True, description="HOA (listing)")
    AssociationFee: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="HOA fee per month (listing)")
    FullCashValue: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, description="Assessor's full cash value, latest tax year"
    )
    LastSalePrice: Optional[pl.Float64] = pa.Field(
        nullable=True,
        ge=0,
        description="Last sale recorded by the assessor (USD; $0 or a nominal amount for a transfer that was not a market sale)",
    )
    LastSaleDate: Optional[pl.Date] = pa.Field(
        nullable=True, description="Date of the last sale recorded by the assessor"
    )
    Latitude: Optional[pl.Float64] = pa.Field(nullable=True, **LATITUDE, description="Latitude; assessor first")
    Longitude: Optional[pl.Float64] = pa.Field(nullable=True, **LONGITUDE, description="Longitude; assessor first")
    listing_source: Optional[str] = pa.Field(nullable=True, description="Source of the chosen listing")
    ListingKey: Optional[str] = pa.Field(nullable=True, description="The chosen (most recently modified) listing")
    ListingId: Optional[str] = pa.Field(nullable=True, description="MLS number of the chosen listing")
    StandardStatus: Optional[str] = pa.Field(nullable=True, isin=STANDARD_STATUS, description="RESO StandardStatus")
    ListPrice: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="List price (USD)")
    ClosePrice: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Sold price (USD)")
    BedroomsTotal: Optional[pl.Int32] = pa.Field(nullable=True, ge=0, le=50, description="Bedrooms (listing)")
    BathroomsTotalInteger: Optional[pl.Int32] = pa.Field(nullable=True, ge=0, le=50, description="Bathrooms (listing)")
    PublicRemarks: Optional[str] = pa.Field(nullable=True, description="Listing description text")
    sources: pl.List(pl.String) = pa.Field(
        description="Which sources saw the property, e.g. [assessor:sample, listing:sample]"
    )
    match_method: str = pa.Field(isin=MATCH_METHODS, description="How the listing found its parcel")
    records_merged: pl.Int32 = pa.Field(ge=1, description="Source records folded into this row (duplicates included)")
    observed_date: pl.Date = pa.Field(description="Partition day")
    observed_at: UTC_TIME = pa.Field(description="Latest fetch time among the row's source records")

    class Config:
        strict = True
