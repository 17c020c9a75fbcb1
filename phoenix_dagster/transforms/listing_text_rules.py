"""The rules extractor: facts stated in a listing's PublicRemarks, read with regular expressions.

Deterministic and free; the fallback whenever a model is not used. Every value is checked
against the bounds the platform accepts, and a value out of bounds is dropped with the
reason recorded in `rejected` rather than guessed.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from phoenix_dagster.schemas import conform
from phoenix_dagster.schemas.enriched import ListingTextFacts
from phoenix_dagster.transforms.listings import latest_listing_records

EXTRACTOR_VERSION = "rules-1"
NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6"}

# (?i) everywhere: listings are written in every case.
BEDS = r"(?i)\b(\d{1,2})\s*(?:-\s*)?(?:bed(?:room)?s?|br|bd)\b"
BATHS = r"(?i)\b(\d{1,2}(?:\.\d{1,2})?)\s*(?:-\s*)?(?:bath(?:room)?s?|ba)\b"
AREA = r"(?i)\b(\d{1,2},\d{3}|\d{3,5})\s*(?:\+\s*)?(?:sq\.?\s*f(?:ee)?t\.?|sqft|square\s+feet|sf)\b"
BUILT_CONTEXT = (
    r"(?i)(?:built\s+(?:in\s+)?|year\s+built:?\s*)((?:18|19|20)\d{2})|((?:18|19|20)\d{2})\s+(?:construction|build)\b"
)
GARAGE = r"(?i)\b(\d|one|two|three|four|five|six)[\s-]*car\s+garage"
POOL = r"(?i)\bpool\b"
NO_POOL = r"(?i)\bno\s+pool\b|\bpool[\s-]*sized\b|\bcommunity\s+pool\b|\bpool\s+table\b"
NO_HOA = r"(?i)\bno\s+hoa\b|\bno\s+h\.o\.a\b|\bno\s+association\b"
HOA_FEE = r"(?i)\bhoa\b[^$\d]{0,20}\$?\s*(\d{1,4}(?:\.\d{2})?)\s*(?:/|per\s+)?\s*(?:mo|month)"
HOA = r"(?i)\bhoa\b"
RENOVATED = r"(?i)(?:remodel(?:l)?ed|renovated|updated|rehabbed)\s*(?:in\s*)?:?\s*((?:19|20)\d{2})"

BOUNDS = {
    "BedroomsTotal": (0, 20),
    "BathroomsTotal": (0, 20),
    "LivingArea": (400, 20_000),
    "YearBuilt": (1900, None),  # upper bound: next year, set at call time
    "GarageSpaces": (0, 20),
    "RenovationYear": (1900, None),
}


def _first(text: pl.Expr, pattern: str, group: int = 1) -> pl.Expr:
    return text.str.extract(pattern, group)


def _bounded(name: str, value: pl.Expr, next_year: int) -> tuple[pl.Expr, pl.Expr]:
    low, high = BOUNDS[name]
    high = next_year if high is None else high
    inside = value.is_between(low, high)
    kept = pl.when(inside).then(value).otherwise(None)
    reason = pl.when(value.is_not_null() & ~inside).then(
        pl.format("{}={} outside {}..{}", pl.lit(name), value, pl.lit(low), pl.lit(high))
    )
    return kept, reason


def extract_listing_facts(listings: pl.DataFrame, today: date) -> pl.DataFrame:
    """int_listings_matched → listing_text_facts as the rules read them, one row per listing
    (the latest record of a repeated one); method `rules`, or `none` when there is no text."""
    text = pl.col("PublicRemarks").fill_null("")
    garage_word = _first(text, GARAGE).str.to_lowercase()
    raw = {
        "BedroomsTotal": _first(text, BEDS).cast(pl.Int32, strict=False),
        "BathroomsTotal": _first(text, BATHS).cast(pl.Float64, strict=False),
        "LivingArea": _first(text, AREA).str.replace_all(",", "").cast(pl.Float64, strict=False),
        "YearBuilt": pl.coalesce(_first(text, BUILT_CONTEXT, 1), _first(text, BUILT_CONTEXT, 2)).cast(
            pl.Int32, strict=False
        ),
        "GarageSpaces": garage_word.replace(NUMBER_WORDS).cast(pl.Float64, strict=False),
        "RenovationYear": _first(text, RENOVATED).cast(pl.Int32, strict=False),
    }
    kept, reasons = {}, []
    for name, value in raw.items():
        kept[name], reason = _bounded(name, value, today.year + 1)
        reasons.append(reason)
    pool = (
        pl.when(text.str.contains(NO_POOL))
        .then(
            # "pool-sized lot, no pool" says no; "pool-sized lot with a new pool" is not worth guessing.
            pl.when(text.str.contains(r"(?i)\bno\s+pool\b")).then(False).otherwise(None)
        )
        .when(text.str.contains(POOL))
        .then(True)
        .otherwise(None)
    )
    hoa_fee = _first(text, HOA_FEE).cast(pl.Float64, strict=False)
    hoa = pl.when(text.str.contains(NO_HOA)).then(False).when(text.str.contains(HOA)).then(True).otherwise(None)
    total_baths = pl.col("BathroomsTotal")
    facts = (
        latest_listing_records(listings)
        .select(
            "source",
            "ListingKey",
            "property_id",
            "PostalCode",
            pl.lit(today).alias("observed_date"),
            pl.lit(None, pl.String).alias("text_sha256"),
            pl.when(pl.col("PublicRemarks").str.strip_chars().fill_null("") != "")
            .then(pl.lit("rules"))
            .otherwise(pl.lit("none"))
            .alias("method"),
            pl.lit(None, pl.String).alias("model"),
            pl.lit(None, pl.String).alias("prompt_version"),
            pl.lit(EXTRACTOR_VERSION).alias("extractor_version"),
            *[expr.alias(name) for name, expr in kept.items()],
            pool.alias("PoolPrivateYN"),
            hoa.alias("AssociationYN"),
            pl.when(hoa == False).then(None).otherwise(hoa_fee).alias("AssociationFee"),  # noqa: E712
            pl.lit(None, pl.Boolean).alias("NewConstructionYN"),
            pl.lit(None, pl.String).alias("Condition"),
            pl.lit([], pl.List(pl.String)).alias("NotableFeatures"),
            pl.lit("{}").alias("evidence"),
            pl.concat_list(reasons).list.drop_nulls().alias("rejected"),
            pl.lit(None, pl.String).alias("fallback_reason"),
            pl.lit(0, pl.Int64).alias("prompt_tokens"),
            pl.lit(0, pl.Int64).alias("completion_tokens"),
            pl.lit(0.0).alias("model_seconds"),
        )
        .with_columns(
            total_baths.floor().cast(pl.Int32).alias("BathroomsFull"),
            ((total_baths % 1) > 0).cast(pl.Int32).alias("BathroomsHalf"),
        )
    )
    return conform(facts, ListingTextFacts)
