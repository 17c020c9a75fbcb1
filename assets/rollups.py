"""Rollups: what each day × ZIP produced, from the data itself."""

import os
from datetime import date, datetime, timezone
from pathlib import Path

import dagster as dg
import polars as pl

from phoenix_dagster.partitions import ZIP_DAY_PARTITIONS, date_and_zip
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.warehouse import WarehouseResource
from phoenix_dagster.run_log import AssetRun
from phoenix_dagster.schemas import column_docs
from phoenix_dagster.resources.mongo import MongoResource
from phoenix_dagster.schemas.ops import PartitionCounts, QualityDaily, RunMetrics
from phoenix_dagster.serving.daily_report import COLLECTION as REPORTS
from phoenix_dagster.serving.daily_report import report_update, upsert_report
from phoenix_dagster.transforms.costs import (BUDGET_STATUS_SQL, COST_DAILY_SQL, load_prices, partition_cost_events,
                                              stamp, storage_cost_events)
from phoenix_dagster.transforms.quality import QualityTargets, quality_rows


def quality_targets() -> QualityTargets:
    hours = os.environ.get("PHOENIX_FRESHNESS_TARGET_HOURS", "").strip()
    return QualityTargets(freshness_target_hours=float(hours)) if hours else QualityTargets()


def directory_bytes(path: str) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


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


@dg.asset(group_name="rollups", partitions_def=ZIP_DAY_PARTITIONS, kinds={"duckdb"},
          deps=["int_assessor_parcels", "stg_assessor__search_results", "stg_listings__listings",
                "int_listings_matched", "enriched_properties", "listing_text_facts"],
          metadata={"dagster/column_schema": column_docs(QualityDaily), "dagster/table_name": "ops.quality_daily"})
def quality_daily(context: dg.AssetExecutionContext, lake: LakeResource,
                  warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Completeness, validity, freshness, duplicates, cross-source agreement and enrichment
    per source for the partition, with an overall score and status, into ops.quality_daily."""
    run = AssetRun(context, warehouse)
    day, zip_code = date_and_zip(context)
    read = lambda name: lake.read(name, day, zip_code)  # noqa: E731
    quarantine = warehouse.query("select asset, source, count(*) as n from ops.quarantine where partition = ? "
                                 "group by all", [context.partition_key])
    by_label: dict[str, int] = {}
    for asset, source, n in quarantine.iter_rows():
        label = f"{'assessor' if 'assessor' in asset else 'listing'}:{source}"
        by_label[label] = by_label.get(label, 0) + int(n)
    rows = quality_rows(
        day=date.fromisoformat(day), zip_code=zip_code, evaluated_at=datetime.now(timezone.utc),
        search=read("stg_assessor__search_results"), parcels=read("int_assessor_parcels"),
        listing_records=read("stg_listings__listings"), listings=read("int_listings_matched"),
        properties=read("enriched_properties"), facts=read("listing_text_facts"), quarantined=by_label,
        targets=quality_targets())
    warehouse.replace_rows("ops.quality_daily", rows, where={"date": date.fromisoformat(day), "PostalCode": zip_code})
    scores = {f"score_{r['source']}": r["overall_score"] for r in rows.iter_rows(named=True)}
    statuses = {f"status_{r['source']}": r["status"] for r in rows.iter_rows(named=True)}
    return dg.MaterializeResult(metadata=run.finish(rows_in=0, rows_out=rows.height, **scores, **statuses))


@dg.asset(group_name="rollups", partitions_def=ZIP_DAY_PARTITIONS, kinds={"duckdb"},
          deps=["partition_counts", "quality_daily"], metadata={"dagster/table_name": "ops.cost_events"})
def cost_ledger(context: dg.AssetExecutionContext, lake: LakeResource, warehouse: WarehouseResource,
                mongo: MongoResource) -> dg.MaterializeResult:
    """The run's billable events (requests per source, model tokens and seconds, compute
    seconds of the run's assets, the day's storage) priced from data/unit_prices.yaml into
    ops.cost_events; ops.cost_daily and ops.budget_status rebuilt from them."""
    run = AssetRun(context, warehouse)
    day, zip_code = date_and_zip(context)
    prices, now = load_prices(), datetime.now(timezone.utc)
    requests = warehouse.query("select source, endpoint, requests, bytes from ops.source_requests "
                               "where run_id = ? and partition = ?",
                               [context.run.run_id, context.partition_key])
    seconds = dict(warehouse.query("select asset, sum(duration_s) from ops.run_log where run_id = ? and "
                                   "partition = ? group by 1", [context.run.run_id, context.partition_key]).iter_rows())
    events = partition_cost_events(prices, requests=requests, facts=lake.read("listing_text_facts", day, zip_code),
                                   asset_seconds=seconds)
    stamp_args = dict(day=date.fromisoformat(day), run_id=context.run.run_id, when=now)
    warehouse.replace_rows("ops.cost_events", stamp(events, partition=context.partition_key, **stamp_args),
                           where={"partition": context.partition_key})
    stored = storage_cost_events(prices, day=date.fromisoformat(day), lake_bytes=directory_bytes(lake.base_dir),
                                 warehouse_bytes=warehouse.size_bytes(), mongodb_bytes=mongo.data_bytes())
    warehouse.replace_rows("ops.cost_events", stamp(stored, partition=day, **stamp_args), where={"partition": day})
    with warehouse.connect() as conn:
        conn.execute(COST_DAILY_SQL)
        conn.execute(BUDGET_STATUS_SQL, {"budget": prices["monthly_budget_usd"]})
    budget = warehouse.query("select * from ops.budget_status where month = ?", [day[:7]]).row(0, named=True)
    return dg.MaterializeResult(metadata=run.finish(
        rows_in=0, rows_out=len(events) + len(stored), partition_cost_usd=round(sum(e["cost_usd"] for e in events), 6),
        month_to_date_usd=round(budget["month_to_date_usd"], 6), budget_level=budget["level"],
        cost_per_property_usd=round(budget["cost_per_property_usd"] or 0.0, 8)))


@dg.asset(group_name="rollups", partitions_def=ZIP_DAY_PARTITIONS, kinds={"mongodb"},
          deps=["cost_ledger", "quality_daily", "partition_counts"])
def daily_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                 mongo: MongoResource) -> dg.MaterializeResult:
    """The day's report in MongoDB ``daily_reports`` (unique by date): this ZIP's counts by
    source, quality per source, cost and errors, and the month's budget status."""
    run = AssetRun(context, warehouse)
    day, zip_code = date_and_zip(context)
    partition = context.partition_key
    counts = warehouse.query("select * exclude (run_id, recorded_at, date, PostalCode) from ops.partition_counts "
                             "where date = ? and PostalCode = ?", [date.fromisoformat(day), zip_code])
    quality = warehouse.query("select source, records, completeness, validity, freshness_hours, duplicate_rate, "
                              "agreement, overall_score, status, issues from ops.quality_daily "
                              "where date = ? and PostalCode = ?", [date.fromisoformat(day), zip_code])
    cost = warehouse.query("select coalesce(sum(cost_usd), 0) as usd from ops.cost_events where partition = ?",
                           [partition])["usd"][0]
    errors = warehouse.query("select asset, reason, count(*) as records from ops.quarantine where partition = ? "
                             "group by all order by records desc limit 20", [partition])
    budget = warehouse.query("select * from ops.budget_status where month = ?", [day[:7]])
    update = report_update(
        zip_code=zip_code, counts=counts.to_dicts()[0] if counts.height else {},
        sources={r["source"]: r["records"] for r in quality.iter_rows(named=True)}, quality=quality.to_dicts(),
        cost_usd=float(cost), errors=errors.to_dicts(), budget=budget.to_dicts()[0] if budget.height else None)
    upsert_report(mongo.db()[REPORTS], date.fromisoformat(day), update)
    return dg.MaterializeResult(metadata=run.finish(rows_in=quality.height, rows_out=1, target=mongo.describe()))


@dg.asset(group_name="rollups", partitions_def=ZIP_DAY_PARTITIONS, kinds={"duckdb"},
          deps=["raw_assessor_payloads", "raw_listing_payloads", "listing_text_facts", "mongo_properties"],
          metadata={"dagster/column_schema": column_docs(RunMetrics), "dagster/table_name": "ops.run_metrics"})
def run_metrics(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Per stage of this run (collection per source kind, enrichment, serving): items, duration,
    throughput, p50/p95 latency, error and retry rates, 429s, timeouts, CPU, peak memory, and the
    batch size and concurrency used. Each materialization carries the rows; the tuning sensor
    reads every one of them."""
    run = AssetRun(context, warehouse)
    records = context.instance.get_records_for_run(context.run.run_id,
                                                   of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    stages = []
    for record in records:
        metadata = record.event_log_entry.dagster_event.event_specific_data.materialization.metadata
        if "stage_metrics" in metadata and record.event_log_entry.dagster_event.partition == context.partition_key:
            stages.append(metadata["stage_metrics"].data)
    now = datetime.now(timezone.utc)
    rows = pl.DataFrame([{**s, "run_id": context.run.run_id, "partition": context.partition_key, "recorded_at": now}
                         for s in stages], schema_overrides={"p50_ms": pl.Float64, "p95_ms": pl.Float64,
                                                             "batch_size": pl.Int64, "concurrency": pl.Int64})
    if rows.height:
        warehouse.replace_rows("ops.run_metrics", rows, where={"run_id": context.run.run_id,
                                                              "partition": context.partition_key})
    return dg.MaterializeResult(metadata=run.finish(rows_in=len(stages), rows_out=rows.height)
                                | {"stages": dg.MetadataValue.json(stages)})
