"""Enriched layer: facts read from listing text, and properties with those facts applied."""

from typing import Optional

import pandera.polars as pa
import polars as pl

from phoenix_dagster.llm.facts import CONDITIONS
from phoenix_dagster.schemas.intermediate import IntPropertiesResolved

ENRICHMENT_METHODS = ["llm", "cache", "rules", "none"]


class ListingTextFacts(pa.DataFrameModel):
    """listing_text_facts: what each listing's PublicRemarks states, one row per listing, and how it was read."""

    source: str = pa.Field(description="Listing source")
    ListingKey: str = pa.Field(description="Listing key")
    property_id: str = pa.Field(description="The property the listing belongs to")
    PostalCode: str = pa.Field(description="5-digit ZIP")
    observed_date: pl.Date = pa.Field(description="Partition day")
    text_sha256: Optional[str] = pa.Field(
        nullable=True, description="SHA-256 of the whitespace-normalised text (the cache key's text part)"
    )
    method: str = pa.Field(
        isin=ENRICHMENT_METHODS, description="llm (model called), cache (earlier reply reused), rules, none (no text)"
    )
    model: Optional[str] = pa.Field(nullable=True, description="Ollama model, for llm and cache rows")
    prompt_version: Optional[str] = pa.Field(nullable=True, description="Prompt version, for llm and cache rows")
    extractor_version: str = pa.Field(description="Version of the rules extractor")
    BedroomsTotal: Optional[pl.Int32] = pa.Field(nullable=True, ge=0, le=20, description="Bedrooms stated in the text")
    BathroomsFull: Optional[pl.Int32] = pa.Field(nullable=True, ge=0, le=20, description="Full bathrooms stated")
    BathroomsHalf: Optional[pl.Int32] = pa.Field(nullable=True, ge=0, le=20, description="Half bathrooms stated")
    BathroomsTotal: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, le=20, description="Bathrooms stated (2.5 = two full, one half)"
    )
    LivingArea: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=400, le=20000, description="Living area stated (sq ft)"
    )
    YearBuilt: Optional[pl.Int32] = pa.Field(nullable=True, ge=1900, description="Year built stated")
    GarageSpaces: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, le=20, description="Garage spaces stated")
    PoolPrivateYN: Optional[pl.Boolean] = pa.Field(nullable=True, description="Private pool stated (false: 'no pool')")
    AssociationYN: Optional[pl.Boolean] = pa.Field(nullable=True, description="HOA stated (false: 'no HOA')")
    AssociationFee: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, le=5000, description="HOA fee stated (USD/month)"
    )
    NewConstructionYN: Optional[pl.Boolean] = pa.Field(
        nullable=True, description="New construction stated (model only)"
    )
    Condition: Optional[str] = pa.Field(nullable=True, isin=CONDITIONS, description="Condition label (model only)")
    RenovationYear: Optional[pl.Int32] = pa.Field(
        nullable=True, ge=1900, description="Year of a stated remodel (rules only)"
    )
    NotableFeatures: pl.List(pl.String) = pa.Field(description="Short notable features (model only)")
    evidence: str = pa.Field(description="JSON object: field → the words that state it (model only)")
    rejected: pl.List(pl.String) = pa.Field(description="Values found but outside bounds, with the reason")
    fallback_reason: Optional[str] = pa.Field(nullable=True, description="Why the rules answered instead of the model")
    prompt_tokens: pl.Int64 = pa.Field(ge=0, description="Prompt tokens of the model call (0 unless method llm)")
    completion_tokens: pl.Int64 = pa.Field(ge=0, description="Completion tokens of the model call")
    model_seconds: pl.Float64 = pa.Field(ge=0, description="Model time of the call (Ollama total_duration)")

    class Config:
        strict = True
        unique = ["source", "ListingKey"]


class EnrichedProperties(IntPropertiesResolved):
    """enriched_properties: int_properties_resolved with text facts filling what sources left empty."""

    RenovationYear: Optional[pl.Int32] = pa.Field(nullable=True, ge=1900, description="Stated remodel year (text)")
    Condition: Optional[str] = pa.Field(nullable=True, description="Condition label read from the text (model)")
    NewConstructionYN: Optional[pl.Boolean] = pa.Field(nullable=True, description="New construction (text)")
    enrichment_method: str = pa.Field(isin=ENRICHMENT_METHODS, description="How listing text was read for this row")
    enriched_fields: pl.List(pl.String) = pa.Field(description="Columns whose value came from listing text")
    text_disagreements: pl.List(pl.String) = pa.Field(
        description="Where the source's value and the text differ (the source's is kept)"
    )
