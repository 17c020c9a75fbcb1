"""Serving layer: the marts, upserted into MongoDB for applications."""

import dagster as dg

from phoenix_dagster.partitions import ZIP_DAY_PARTITIONS, date_and_zip
from phoenix_dagster.resources.mongo import MongoResource
from phoenix_dagster.resources.warehouse import WarehouseResource
from phoenix_dagster.run_log import AssetRun
from phoenix_dagster.serving.properties import COLLECTION, upsert_properties
from phoenix_dagster.tuning.metrics import as_metadata, stage_metrics


@dg.asset(group_name="serving", partitions_def=ZIP_DAY_PARTITIONS, kinds={"mongodb"},
          deps=[dg.AssetKey(["marts", "properties"])])
def mongo_properties(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                     mongo: MongoResource) -> dg.MaterializeResult:
    """marts.properties rows of the partition's ZIP, upserted into the MongoDB collection
    ``properties`` (unique on property_id; first/last seen kept; price history appended on change)."""
    run = AssetRun(context, warehouse)
    _, zip_code = date_and_zip(context)
    rows = warehouse.query("select * from marts.properties where PostalCode = ?", [zip_code])
    counts = upsert_properties(mongo.db()[COLLECTION], rows)
    if mongo.is_stand_in:
        context.log.warning("MONGODB_URI is not set: documents went to an in-process stand-in and are not persisted")
    per_item = run.elapsed_s / rows.height if rows.height else 0.0
    return dg.MaterializeResult(metadata=run.finish(
        rows_in=rows.height, rows_out=rows.height, target=mongo.describe(), **counts,
    ) | as_metadata(stage_metrics("serving", items=rows.height, duration_s=run.elapsed_s,
                                  latencies_s=[per_item] if rows.height else [], errors=0, retries=0, rate_limited=0,
                                  timeouts=0, batch_size=rows.height, concurrency=1, cpu_pct=run.cpu_pct(),
                                  peak_rss_mb=run.peak_rss_mb())))
