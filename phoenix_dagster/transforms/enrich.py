"""Apply facts read from listing text to resolved properties, where the sources left a gap."""

from __future__ import annotations

import polars as pl

from phoenix_dagster.schemas import conform
from phoenix_dagster.schemas.enriched import EnrichedProperties

# Property column ← fact column. A structured value from a source always wins over text.
# (For unmatched text the model gives BathroomsFull/Half; BathroomsTotal is derived from them.)
FILLABLE = {
    "BedroomsTotal": pl.col("fact_BedroomsTotal"),
    "BathroomsTotalInteger": pl.col("fact_BathroomsTotal").ceil().cast(pl.Int32),
    "LivingArea": pl.col("fact_LivingArea"),
    "YearBuilt": pl.col("fact_YearBuilt"),
    "GarageSpaces": pl.col("fact_GarageSpaces"),
    "PoolPrivateYN": pl.col("fact_PoolPrivateYN"),
    "AssociationYN": pl.col("fact_AssociationYN"),
    "AssociationFee": pl.col("fact_AssociationFee"),
}


# Numeric facts compared with the source's value; a difference is recorded, not resolved.
COMPARED = {"BedroomsTotal", "BathroomsTotalInteger", "LivingArea", "YearBuilt"}


def enrich_properties(properties: pl.DataFrame, facts: pl.DataFrame) -> pl.DataFrame:
    """int_properties_resolved + listing_text_facts → enriched_properties."""
    fact_columns = [name for name in facts.columns if name not in ("source", "ListingKey")]
    renamed = facts.rename({name: f"fact_{name}" for name in fact_columns})
    joined = properties.join(
        renamed, left_on=["listing_source", "ListingKey"], right_on=["source", "ListingKey"], how="left"
    )
    filled_from_text = [
        pl.when(pl.col(name).is_null() & fact.is_not_null()).then(pl.lit(name)).otherwise(None)
        for name, fact in FILLABLE.items()
    ]
    disagreements = [
        pl.when(
            pl.col(name).is_not_null() & fact.is_not_null() & (pl.col(name).cast(pl.Float64) != fact.cast(pl.Float64))
        )
        .then(pl.format("{}: source {} vs text {}", pl.lit(name), pl.col(name), fact))
        .otherwise(None)
        for name, fact in FILLABLE.items()
        if name in COMPARED
    ]
    enriched = joined.with_columns(
        *[pl.coalesce(pl.col(name), fact.cast(joined.schema[name])).alias(name) for name, fact in FILLABLE.items()],
        pl.concat_list(filled_from_text).list.drop_nulls().alias("enriched_fields"),
        pl.concat_list(disagreements).list.drop_nulls().alias("text_disagreements"),
        pl.col("fact_RenovationYear").alias("RenovationYear"),
        pl.col("fact_Condition").alias("Condition"),
        pl.col("fact_NewConstructionYN").alias("NewConstructionYN"),
        pl.col("fact_method").fill_null("none").alias("enrichment_method"),
    )
    return conform(enriched, EnrichedProperties)
