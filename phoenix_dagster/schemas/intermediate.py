"""Intermediate layer: one resolved row per property, whichever sources saw it."""

from typing import Optional

import pandera.polars as pa
import polars as pl

from phoenix_dagster.schemas.staging import LATITUDE, LONGITUDE, STANDARD_STATUS, UTC_TIME, ZIP_PATTERN

MATCH_METHODS = ["apn", "address", "unmatched_listing", "assessor_only"]


class IntPropertiesResolved(pa.DataFrameModel):
    """int_properties_resolved: one row per property for the partition's ZIP and day."""

    property_id: str = pa.Field(unique=True, str_matches=r"^(apn:[0-9A-Z]+|adr:\d{5}:[0-9A-Z_]+)$",
                                description="apn:<APN> when the parcel is known, else adr:<ZIP>:<normalised address>")
    ParcelNumber: Optional[str] = pa.Field(nullable=True, description="APN, normalised")
    UnparsedAddress: Optional[str] = pa.Field(nullable=True, description="Street address (assessor's when known)")
    address_key: Optional[str] = pa.Field(nullable=True, description="Normalised street address used for matching")
    City: Optional[str] = pa.Field(nullable=True, description="City")
    PostalCode: str = pa.Field(str_matches=ZIP_PATTERN, description="5-digit ZIP")
    PropertyType: Optional[str] = pa.Field(nullable=True, isin=["Residential", "Land"], description="RESO PropertyType")
    assessor_property_type: Optional[str] = pa.Field(nullable=True, description="The county's PropertyType")
    LivingArea: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Living area (sq ft); assessor first, then listing")
    YearBuilt: Optional[pl.Int32] = pa.Field(nullable=True, ge=1800, le=2100, description="Year built; assessor first, then listing")
    LotSizeSquareFeet: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Lot size (sq ft); assessor first")
    BathFixtures: Optional[pl.Int32] = pa.Field(nullable=True, ge=0, description="Assessor's plumbing fixture count")
    GarageSpaces: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Garage spaces; listing first, then assessor")
    PoolPrivateYN: Optional[pl.Boolean] = pa.Field(nullable=True, description="Private pool; listing first, then assessor pool area > 0")
    AssociationYN: Optional[pl.Boolean] = pa.Field(nullable=True, description="HOA (listing)")
    AssociationFee: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="HOA fee per month (listing)")
    FullCashValue: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Assessor's full cash value, latest tax year")
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
    sources: pl.List(pl.String) = pa.Field(description="Which sources saw the property, e.g. [assessor:sample, listing:sample]")
    match_method: str = pa.Field(isin=MATCH_METHODS, description="How the listing found its parcel")
    records_merged: pl.Int32 = pa.Field(ge=1, description="Source records folded into this row (duplicates included)")
    observed_date: pl.Date = pa.Field(description="Partition day")
    observed_at: UTC_TIME = pa.Field(description="Latest fetch time among the row's source records")

    class Config:
        strict = True
