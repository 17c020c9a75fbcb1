"""Rollups: what each day × ZIP produced, from the data itself."""

from datetime import date, datetime, timezone

import dagster as dg
import polars as pl

from phoenix_dagster.partitions import ZIP_DAY_PARTITIONS, date_and_zip
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.warehouse import WarehouseResource
from phoenix_dagster.run_log import AssetRun
from phoenix_dagster.schemas import column_docs
from phoenix_dagster.schemas.ops import PartitionCounts


@dg.asset(group_name="rollups", partitions_def=ZIP_DAY_PARTITIONS, kinds={"duckdb"},
          deps=["raw_assessor_payloads", "raw_listing_payloads", "mongo_properties"],
          metadata={"dagster/column_schema": column_docs(PartitionCounts), "dagster/table_name": "ops.partition_counts"})
def partition_counts(context: dg.AssetExecutionContext, lake: LakeResource,
                     warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Counts for the partition in ops.partition_counts: payloads landed, records staged,
    properties resolved and matched, records quarantined, documents served."""
    run = AssetRun(context, warehouse)
    day, zip_code = date_and_zip(context)
    frames = {name: lake.read(name, day, zip_code) for name in (
        "raw_assessor_payloads", "raw_listing_payloads", "stg_assessor__parcels", "stg_listings__listings",
        "enriched_properties")}
    properties = frames["enriched_properties"]
    quarantined = warehouse.query("select count(*) as n from ops.quarantine where partition = ?",
                                  [context.partition_key])["n"][0]
    requests = warehouse.query(
        "select coalesce(sum(requests), 0) as n from ops.source_requests where run_id = ? and partition = ? "
        "and endpoint in ('search', 'parcel')", [context.run.run_id, context.partition_key])["n"][0]
    raw = frames["raw_assessor_payloads"]
    collected = raw.filter((pl.col("entity") == "parcel") & (pl.col("http_status") == 200)).height
    served = warehouse.query(
        "select coalesce(sum(rows_out), 0) as n from ops.run_log where run_id = ? and asset = 'mongo_properties'",
        [context.run.run_id])["n"][0]
    counts = {
        "date": date.fromisoformat(day), "PostalCode": zip_code, "run_id": context.run.run_id,
        "raw_payloads": raw.height + frames["raw_listing_payloads"].height,
        "assessor_requests": int(requests), "parcels_collected": collected,
        "requests_per_parcel": round(requests / collected, 4) if collected else None,
        "parcels": frames["stg_assessor__parcels"].height, "listings": frames["stg_listings__listings"].height,
        "properties": properties.height,
        "with_listing": properties.filter(pl.col("ListingKey").is_not_null()).height,
        "unmatched_listings": properties.filter(pl.col("match_method") == "unmatched_listing").height,
        "quarantined": int(quarantined), "served": int(served), "recorded_at": datetime.now(timezone.utc),
    }
    warehouse.replace_rows("ops.partition_counts", pl.DataFrame([counts]),
                           where={"date": counts["date"], "PostalCode": zip_code})
    metadata = {k: v for k, v in counts.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return dg.MaterializeResult(metadata=run.finish(rows_in=sum(f.height for f in frames.values()), rows_out=1,
                                                    **metadata))
