"""Intermediate layer: one resolved property per parcel, whichever sources saw it."""

from datetime import date

import dagster as dg
import polars as pl

from phoenix_dagster.partitions import ZIP_DAY_PARTITIONS, date_and_zip
from phoenix_dagster.resources.sources import SourcesResource
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.warehouse import WarehouseResource
from phoenix_dagster.run_log import AssetRun
from phoenix_dagster.schemas import column_docs
from phoenix_dagster.schemas.intermediate import IntPropertiesResolved
from phoenix_dagster.transforms.resolve import resolve_properties


@dg.asset(group_name="intermediate", partitions_def=ZIP_DAY_PARTITIONS, kinds={"polars", "parquet"},
          metadata={"dagster/column_schema": column_docs(IntPropertiesResolved)})
def int_properties_resolved(context: dg.AssetExecutionContext, stg_assessor__search_results: pl.DataFrame,
                            stg_assessor__parcels: pl.DataFrame, stg_listings__listings: pl.DataFrame,
                            sources: SourcesResource, lake: LakeResource, warehouse: WarehouseResource) -> pl.DataFrame:
    """One row per property in the ZIP: the assessor's residential parcels (each with its
    latest parcel version, whichever day it was fetched) joined to their listings by APN,
    else by normalised address; unmatched listings stay as their own property."""
    run = AssetRun(context, warehouse)
    day, zip_code = date_and_zip(context)
    earlier_versions = lake.history("stg_assessor__parcels", zip_code, before=day)
    parcel_versions = pl.concat([v for v in (earlier_versions, stg_assessor__parcels) if v is not None])
    resolved = resolve_properties(
        stg_assessor__search_results, parcel_versions, stg_listings__listings, zip_code=zip_code,
        observed_date=date.fromisoformat(day), property_types=tuple(sources.assessor_property_types),
    )
    matches = dict(resolved.group_by("match_method").len().iter_rows())
    rows_in = stg_assessor__search_results.height + stg_assessor__parcels.height + stg_listings__listings.height
    context.add_output_metadata(run.finish(rows_in=rows_in, rows_out=resolved.height,
                                           **{f"match_{method}": n for method, n in sorted(matches.items())}))
    return resolved
