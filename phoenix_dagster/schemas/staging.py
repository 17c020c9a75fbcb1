"""Staging layer: one model per source entity; only renamed, cast and normalised."""

from typing import Optional

import pandera.polars as pa
import polars as pl

UTC_TIME = pl.Datetime("us", "UTC")
ZIP_PATTERN = r"^\d{5}$"
STANDARD_STATUS = [
    "Active",
    "ActiveUnderContract",
    "Canceled",
    "Closed",
    "ComingSoon",
    "Delete",
    "Expired",
    "Hold",
    "Incomplete",
    "Pending",
    "Withdrawn",
]
# Maricopa County's bounding box, generously rounded.
LATITUDE = {"ge": 32.4, "le": 34.1}
LONGITUDE = {"ge": -113.4, "le": -110.9}


class StgAssessorSearchResults(pa.DataFrameModel):
    """stg_assessor__search_results: every row of every search page, as the county listed it."""

    ParcelNumber: str = pa.Field(str_matches=r"^[0-9A-Z]+$", description="APN without dashes, spaces or dots")
    UnparsedAddress: Optional[str] = pa.Field(nullable=True, description="SitusAddress, trimmed")
    City: Optional[str] = pa.Field(nullable=True, description="SitusCity, upper case")
    PostalCode: Optional[str] = pa.Field(nullable=True, description="SitusZip")
    assessor_property_type: Optional[str] = pa.Field(nullable=True, description="PropertyType, trimmed, upper case")
    SubdivisionName: Optional[str] = pa.Field(nullable=True, description="SubdivisonName (sic in the API)")
    search_page: pl.Int32 = pa.Field(ge=1, description="Search page the row came from")
    source: str = pa.Field(description="Source implementation")
    fetched_at: UTC_TIME = pa.Field(description="When the page was received")

    class Config:
        strict = True


class StgAssessorParcels(pa.DataFrameModel):
    """stg_assessor__parcels: one row per parcel detail (/parcel/{apn}) that parsed."""

    ParcelNumber: str = pa.Field(str_matches=r"^[0-9A-Z]+$", description="APN without dashes, spaces or dots")
    UnparsedAddress: Optional[str] = pa.Field(nullable=True, description="Street part of PropertyAddress")
    PostalCode: Optional[str] = pa.Field(nullable=True, description="ZIP from PropertyAddress")
    assessor_property_type: Optional[str] = pa.Field(nullable=True, description="PropertyType, upper case")
    PropertyUseCode: Optional[str] = pa.Field(nullable=True, description="County use code")
    SubdivisionName: Optional[str] = pa.Field(nullable=True, description="SubdivisionName")
    LotSizeSquareFeet: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="LotSize (sq ft)")
    LivingArea: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, description="ResidentialPropertyData.LivableSpace (sq ft)"
    )
    YearBuilt: Optional[pl.Int32] = pa.Field(
        nullable=True, ge=1800, le=2100, description="ResidentialPropertyData.ConstructionYear"
    )
    BathFixtures: Optional[pl.Int32] = pa.Field(nullable=True, ge=0, description="Plumbing fixtures (not bathrooms)")
    StoriesTotal: Optional[pl.Int32] = pa.Field(nullable=True, ge=0, description="Stories")
    PoolArea: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, description="Pool area in sq ft; 0 or null = no pool"
    )
    GarageSpaces: Optional[pl.Int32] = pa.Field(nullable=True, ge=0, description="NumberOfGarages")
    CarportSpaces: Optional[pl.Int32] = pa.Field(nullable=True, ge=0, description="NumberOfCarports")
    Latitude: Optional[pl.Float64] = pa.Field(nullable=True, **LATITUDE, description="Geo.lat")
    Longitude: Optional[pl.Float64] = pa.Field(nullable=True, **LONGITUDE, description="Geo.long")
    LastSalePrice: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Owner.SalePrice")
    LastSaleDate: Optional[pl.Date] = pa.Field(nullable=True, description="Owner.SaleDate (MM/DD/YYYY in the API)")
    OwnerType: Optional[str] = pa.Field(
        nullable=True,
        isin=["individual", "company", "trust", "government"],
        description="Kind of owner, derived from Owner.Ownership (the name itself stays in the raw layer)",
    )
    TaxYear: Optional[pl.Int32] = pa.Field(nullable=True, description="Latest valuation's TaxYear")
    FullCashValue: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Latest valuation's FullCashValue")
    source: str = pa.Field(description="Source implementation")
    fetched_at: UTC_TIME = pa.Field(description="When the detail was received")
    payload_sha256: str = pa.Field(description="SHA-256 of the raw body this row came from")

    class Config:
        strict = True


class StgListings(pa.DataFrameModel):
    """stg_listings__listings: one row per listing record a listing source returned (RESO names)."""

    source: str = pa.Field(description="Listing source (sample, reso, …)")
    ListingKey: str = pa.Field(description="The source's key for the listing")
    ListingId: Optional[str] = pa.Field(nullable=True, description="MLS number")
    StandardStatus: Optional[str] = pa.Field(nullable=True, isin=STANDARD_STATUS, description="RESO StandardStatus")
    ListPrice: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Current list price (USD)")
    OriginalListPrice: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="First list price (USD)")
    ClosePrice: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Sold price (USD)")
    CloseDate: Optional[pl.Date] = pa.Field(nullable=True, description="Sold date")
    ListingContractDate: Optional[pl.Date] = pa.Field(nullable=True, description="Listed date")
    DaysOnMarket: Optional[pl.Int32] = pa.Field(nullable=True, ge=0, description="Days on market")
    UnparsedAddress: Optional[str] = pa.Field(nullable=True, description="Street address as listed")
    City: Optional[str] = pa.Field(nullable=True, description="City, upper case")
    PostalCode: str = pa.Field(str_matches=ZIP_PATTERN, description="5-digit ZIP")
    ParcelNumber: Optional[str] = pa.Field(
        nullable=True, str_matches=r"^[0-9A-Z]+$", description="APN, normalised, when the listing carries one"
    )
    PropertyType: Optional[str] = pa.Field(nullable=True, description="RESO PropertyType")
    PropertySubType: Optional[str] = pa.Field(nullable=True, description="RESO PropertySubType")
    BedroomsTotal: Optional[pl.Int32] = pa.Field(nullable=True, ge=0, le=50, description="Bedrooms")
    BathroomsTotalInteger: Optional[pl.Int32] = pa.Field(
        nullable=True, ge=0, le=50, description="Bathrooms, half baths rounded up"
    )
    BathroomsFull: Optional[pl.Int32] = pa.Field(nullable=True, ge=0, le=50, description="Full bathrooms")
    BathroomsHalf: Optional[pl.Int32] = pa.Field(nullable=True, ge=0, le=50, description="Half bathrooms")
    LivingArea: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Living area (sq ft)")
    YearBuilt: Optional[pl.Int32] = pa.Field(nullable=True, ge=1800, le=2100, description="Year built")
    LotSizeSquareFeet: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Lot size (sq ft)")
    GarageSpaces: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Garage spaces")
    PoolPrivateYN: Optional[pl.Boolean] = pa.Field(nullable=True, description="Private pool")
    AssociationYN: Optional[pl.Boolean] = pa.Field(nullable=True, description="HOA")
    AssociationFee: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="HOA fee (USD per month)")
    Latitude: Optional[pl.Float64] = pa.Field(nullable=True, **LATITUDE, description="Latitude")
    Longitude: Optional[pl.Float64] = pa.Field(nullable=True, **LONGITUDE, description="Longitude")
    PublicRemarks: Optional[str] = pa.Field(nullable=True, description="Listing description text")
    PhotoURLs: Optional[pl.List(pl.String)] = pa.Field(nullable=True, description="Photo URLs (MLS pages)")
    ModificationTimestamp: Optional[UTC_TIME] = pa.Field(nullable=True, description="Last change at the source")
    fetched_at: UTC_TIME = pa.Field(description="When the page was received")
    payload_sha256: str = pa.Field(description="SHA-256 of the raw page this row came from")

    class Config:
        strict = True
