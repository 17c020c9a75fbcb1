"""Serving: the marts and the day's reports written to MongoDB for applications, from the
warehouse build (these run in the build, after the models they read)."""

import dagster as dg
import polars as pl
from pymongo.errors import PyMongoError

from phoenix_dagster.bookkeeping import Bookkeeping, bookkept, recording
from phoenix_dagster.documents.daily_report import COLLECTION as REPORTS
from phoenix_dagster.documents.daily_report import ensure_indexes, report_updates
from phoenix_dagster.documents.properties import COLLECTION, upsert_properties
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.mongo import MongoResource
from phoenix_dagster.resources.warehouse import WarehouseBuildResource
from phoenix_dagster.tuning.metrics import stage_metrics


SERVED = "Every {what} reached MongoDB (WARN when MongoDB failed: the warehouse is still published; serving " \
         "catches up at the next build)"


def served_check(asset: str, what: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec("documents_served", asset=asset, description=SERVED.format(what=what))


def served_result(sent: int, wanted: int, error: str | None) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(check_name="documents_served", passed=error is None and sent == wanted,
                               severity=dg.AssetCheckSeverity.WARN,
                               metadata={"documents": sent, "wanted": wanted, "error": error or "none"})


def failure_text(mongo: MongoResource, exc: Exception) -> str:
    return f"{mongo.describe()} failed: {type(exc).__name__}: {str(exc)[:200]}"


@dg.asset(deps=[dg.AssetKey(["marts", "properties"])], kinds={"mongodb"},
          check_specs=[served_check("mongo_properties", "marts.properties row")],
          metadata=recording("served_documents", "stage_metrics"))
@bookkept
def mongo_properties(context: dg.AssetExecutionContext, warehouse_build: WarehouseBuildResource, lake: LakeResource,
                     mongo: MongoResource) -> dg.MaterializeResult:
    """marts.properties upserted into the MongoDB collection `properties` (unique on
    property_id; first/last seen kept; price history appended on change). MongoDB is optional
    for the build: when it fails, the reason is recorded and a WARN check says so."""
    books = Bookkeeping(context, lake)
    rows = warehouse_build.build_query("select * from marts.properties")
    counts = {"matched": 0, "modified": 0, "upserted": 0}
    served, error = [], None
    try:
        collection = mongo.db()[COLLECTION]
        for (zip_code,), part in rows.group_by("PostalCode", maintain_order=True):
            done = upsert_properties(collection, part)
            counts = {k: counts[k] + done[k] for k in counts}
            served.append({"PostalCode": zip_code, "documents": part.height, "upserted": done["upserted"],
                           "modified": done["modified"], "target": mongo.describe()})
    except PyMongoError as exc:
        error = failure_text(mongo, exc)
        context.log.error(f"serving: {error}")
    books.record("served_documents", pl.DataFrame(served, schema={
        "PostalCode": pl.String, "documents": pl.Int64, "upserted": pl.Int64, "modified": pl.Int64, "target": pl.String}))
    if mongo.is_stand_in:
        context.log.warning("MONGODB_URI is not set: documents went to an in-process stand-in and are not persisted")
    sent = sum(s["documents"] for s in served)
    metrics = books.stage_metrics(stage_metrics(
        "serving", items=rows.height, duration_s=books.elapsed_s,
        latencies_s=[books.elapsed_s / rows.height] if rows.height else [], errors=rows.height - sent, retries=0,
        rate_limited=0, timeouts=0, batch_size=rows.height, concurrency=1, cpu_pct=books.cpu_pct(),
        peak_rss_mb=books.peak_rss_mb()))
    return dg.MaterializeResult(metadata=books.finish(rows_in=rows.height, rows_out=sent, target=mongo.describe(),
                                                      **counts) | metrics,
                                check_results=[served_result(sent, rows.height, error)])


@dg.asset(deps=[dg.AssetKey(["ops", name]) for name in
                ("partition_counts", "quality_daily", "cost_events", "quarantine", "budget_status")],
          kinds={"mongodb"}, check_specs=[served_check("daily_report", "day's report")])
def daily_report(context: dg.AssetExecutionContext, warehouse_build: WarehouseBuildResource,
                 mongo: MongoResource) -> dg.MaterializeResult:
    """One report per partition day in MongoDB `daily_reports` (unique by date): each ZIP's
    counts, quality per source, cost and quarantine reasons, and the month's budget status."""
    counts = warehouse_build.build_query("select * exclude (run_id, recorded_at) from ops.partition_counts")
    quality = warehouse_build.build_query("select date, PostalCode, source, records, completeness, validity, "
                                    "freshness_hours, duplicate_rate, agreement, overall_score, status, issues "
                                    "from ops.quality_daily")
    cost = warehouse_build.build_query("select partition, sum(cost_usd) as usd from ops.cost_events group by 1")
    errors = warehouse_build.build_query("select partition, asset, reason, count(*) as records from ops.quarantine "
                                   "group by all order by records desc")
    budget = warehouse_build.build_query("select * from ops.budget_status")
    updates = report_updates(counts=counts, quality=quality, cost=cost, errors=errors, budget=budget)
    written, error = 0, None
    try:
        collection = mongo.db()[REPORTS]
        ensure_indexes(collection)
        for day, update in updates.items():
            collection.update_one({"date": day}, update, upsert=True)
            written += 1
    except PyMongoError as exc:
        error = failure_text(mongo, exc)
        context.log.error(f"daily report: {error}")
    return dg.MaterializeResult(metadata={"reports": written, "target": mongo.describe(),
                                          "latest_day": max(updates) if updates else ""},
                                check_results=[served_result(written, len(updates), error)])
