"""Enriched layer: facts read from listing text, and properties with those facts applied."""

from typing import Optional

import pandera.polars as pa
import polars as pl

from phoenix_dagster.schemas.intermediate import IntPropertiesResolved

ENRICHMENT_METHODS = ["rules", "none"]


class ListingTextFacts(pa.DataFrameModel):
    """listing_text_facts: what each listing's PublicRemarks states, one row per listing."""

    source: str = pa.Field(description="Listing source")
    ListingKey: str = pa.Field(description="Listing key")
    method: str = pa.Field(isin=ENRICHMENT_METHODS, description="How the facts were extracted")
    extractor_version: str = pa.Field(description="Version of the extractor's rules")
    BedroomsTotal: Optional[pl.Int32] = pa.Field(nullable=True, ge=0, le=20, description="Bedrooms stated in the text")
    BathroomsTotal: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, le=20, description="Bathrooms stated (2.5 = two full, one half)")
    LivingArea: Optional[pl.Float64] = pa.Field(nullable=True, ge=400, le=20000, description="Living area stated (sq ft)")
    YearBuilt: Optional[pl.Int32] = pa.Field(nullable=True, ge=1900, description="Year built stated")
    GarageSpaces: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, le=20, description="Garage spaces stated")
    PoolPrivateYN: Optional[pl.Boolean] = pa.Field(nullable=True, description="Private pool stated (false: 'no pool')")
    AssociationYN: Optional[pl.Boolean] = pa.Field(nullable=True, description="HOA stated (false: 'no HOA')")
    AssociationFee: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="HOA fee stated (USD/month)")
    RenovationYear: Optional[pl.Int32] = pa.Field(nullable=True, ge=1900, description="Year of a stated remodel/update")
    rejected: pl.List(pl.String) = pa.Field(description="Values found but rejected, with the reason")

    class Config:
        strict = True
        unique = ["source", "ListingKey"]


class EnrichedProperties(IntPropertiesResolved):
    """enriched_properties: int_properties_resolved with text facts filling what sources left empty."""

    RenovationYear: Optional[pl.Int32] = pa.Field(nullable=True, ge=1900, description="Stated remodel year (text)")
    enrichment_method: str = pa.Field(isin=ENRICHMENT_METHODS, description="How listing text was read for this row")
    enriched_fields: pl.List(pl.String) = pa.Field(description="Columns whose value came from listing text")
