"""Serving: the marts and the day's reports written to MongoDB for applications, from the
warehouse build (these run in the build, after the models they read)."""

from datetime import date

import dagster as dg
import polars as pl

from phoenix_dagster.bookkeeping import Bookkeeping, recording
from phoenix_dagster.documents.daily_report import COLLECTION as REPORTS
from phoenix_dagster.documents.daily_report import ensure_indexes, report_updates
from phoenix_dagster.documents.properties import COLLECTION, upsert_properties
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.mongo import MongoResource
from phoenix_dagster.resources.warehouse import WarehouseResource
from phoenix_dagster.tuning.metrics import stage_metrics


@dg.asset(deps=[dg.AssetKey(["marts", "properties"])], kinds={"mongodb"}, metadata=recording("served_documents"))
def mongo_properties(context: dg.AssetExecutionContext, warehouse: WarehouseResource, lake: LakeResource,
                     mongo: MongoResource) -> dg.MaterializeResult:
    """marts.properties upserted into the MongoDB collection `properties` (unique on
    property_id; first/last seen kept; price history appended on change)."""
    books = Bookkeeping(context, lake)
    rows = warehouse.build_query("select * from marts.properties")
    counts = {"matched": 0, "modified": 0, "upserted": 0}
    served = []
    collection = mongo.db()[COLLECTION]
    for (zip_code,), part in rows.group_by("PostalCode", maintain_order=True):
        done = upsert_properties(collection, part)
        counts = {k: counts[k] + done[k] for k in counts}
        served.append({"PostalCode": zip_code, "documents": part.height, "upserted": done["upserted"],
                       "modified": done["modified"], "target": mongo.describe()})
    books.record("served_documents", pl.DataFrame(served, schema={
        "PostalCode": pl.String, "documents": pl.Int64, "upserted": pl.Int64, "modified": pl.Int64, "target": pl.String}))
    if mongo.is_stand_in:
        context.log.warning("MONGODB_URI is not set: documents went to an in-process stand-in and are not persisted")
    per_item = books.elapsed_s / rows.height if rows.height else 0.0
    metrics = stage_metrics("serving", items=rows.height, duration_s=books.elapsed_s,
                            latencies_s=[per_item] if rows.height else [], errors=0, retries=0, rate_limited=0,
                            timeouts=0, batch_size=rows.height, concurrency=1, cpu_pct=books.cpu_pct(),
                            peak_rss_mb=books.peak_rss_mb())
    return dg.MaterializeResult(metadata=books.finish(rows_in=rows.height, rows_out=rows.height,
                                                      target=mongo.describe(), **counts)
                                | {"stage_metrics": dg.MetadataValue.json(metrics)})


@dg.asset(deps=[dg.AssetKey(["ops", name]) for name in
                ("partition_counts", "quality_daily", "cost_events", "quarantine", "budget_status")],
          kinds={"mongodb"})
def daily_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                 mongo: MongoResource) -> dg.MaterializeResult:
    """One report per partition day in MongoDB `daily_reports` (unique by date): each ZIP's
    counts, quality per source, cost and quarantine reasons, and the month's budget status."""
    counts = warehouse.build_query("select * exclude (run_id, recorded_at) from ops.partition_counts")
    quality = warehouse.build_query("select date, PostalCode, source, records, completeness, validity, "
                                    "freshness_hours, duplicate_rate, agreement, overall_score, status, issues "
                                    "from ops.quality_daily")
    cost = warehouse.build_query("select partition, sum(cost_usd) as usd from ops.cost_events group by 1")
    errors = warehouse.build_query("select partition, asset, reason, count(*) as records from ops.quarantine "
                                   "group by all order by records desc")
    budget = warehouse.build_query("select * from ops.budget_status")
    updates = report_updates(counts=counts, quality=quality, cost=cost, errors=errors, budget=budget)
    collection = mongo.db()[REPORTS]
    ensure_indexes(collection)
    for day, update in updates.items():
        collection.update_one({"date": day}, update, upsert=True)
    return dg.MaterializeResult(metadata={"reports": len(updates), "target": mongo.describe(),
                                          "latest_day": max(updates) if updates else ""})
