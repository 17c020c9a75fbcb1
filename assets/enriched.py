"""Enriched layer: facts read from listing text, applied where the sources left gaps."""

from datetime import date

import dagster as dg
import polars as pl

from phoenix_dagster.partitions import ZIP_DAY_PARTITIONS, date_and_zip
from phoenix_dagster.resources.warehouse import WarehouseResource
from phoenix_dagster.run_log import AssetRun
from phoenix_dagster.schemas import column_docs
from phoenix_dagster.schemas.enriched import EnrichedProperties, ListingTextFacts
from phoenix_dagster.transforms.enrich import enrich_properties
from phoenix_dagster.transforms.listing_text_rules import extract_listing_facts


@dg.asset(group_name="enriched", partitions_def=ZIP_DAY_PARTITIONS, kinds={"polars", "parquet"},
          metadata={"dagster/column_schema": column_docs(ListingTextFacts)})
def listing_text_facts(context: dg.AssetExecutionContext, stg_listings__listings: pl.DataFrame,
                       warehouse: WarehouseResource) -> pl.DataFrame:
    """Facts each listing's description states (beds, baths, area, year, garage, pool, HOA,
    remodel), read by the rules extractor; the method is recorded per row."""
    run = AssetRun(context, warehouse)
    day, _ = date_and_zip(context)
    facts = extract_listing_facts(stg_listings__listings, today=date.fromisoformat(day))
    methods = dict(facts.group_by("method").len().iter_rows())
    context.add_output_metadata(run.finish(rows_in=stg_listings__listings.height, rows_out=facts.height,
                                           **{f"method_{m}": n for m, n in sorted(methods.items())},
                                           values_rejected=int(facts["rejected"].list.len().sum())))
    return facts


@dg.asset(group_name="enriched", partitions_def=ZIP_DAY_PARTITIONS, kinds={"polars", "parquet"},
          metadata={"dagster/column_schema": column_docs(EnrichedProperties)})
def enriched_properties(context: dg.AssetExecutionContext, int_properties_resolved: pl.DataFrame,
                        listing_text_facts: pl.DataFrame, warehouse: WarehouseResource) -> pl.DataFrame:
    """Resolved properties with listing-text facts filling what no source gave; a source's
    structured value always wins. ``enriched_fields`` names what came from text."""
    run = AssetRun(context, warehouse)
    enriched = enrich_properties(int_properties_resolved, listing_text_facts)
    filled = int(enriched["enriched_fields"].list.len().sum())
    context.add_output_metadata(run.finish(rows_in=int_properties_resolved.height, rows_out=enriched.height,
                                           values_filled_from_text=filled))
    return enriched
