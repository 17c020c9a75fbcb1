"""Serving: the marts and the day's reports written to MongoDB for applications, from the
warehouse build (these run in the build, after the models they read)."""

import time

import dagster as dg
import polars as pl

from assets.health import check_evaluation
from phoenix_dagster.documents.daily_report import COLLECTION as REPORTS
from phoenix_dagster.documents.daily_report import ensure_indexes as ensure_report_indexes
from phoenix_dagster.documents.daily_report import export_reports, report_updates
from phoenix_dagster.documents.export import DocumentExport, read_fields
from phoenix_dagster.documents.mongo_writes import delete_outside, write_changed
from phoenix_dagster.documents.properties import COLLECTION, documents_by_zip, ensure_indexes
from phoenix_dagster.graph.bookkeeping import Bookkeeping, recording
from phoenix_dagster.monitoring.health import DEFAULT_TIMEOUT_S, probe_mongodb
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.mongo import EXPORT, MongoResource, mongo_error
from phoenix_dagster.resources.warehouse import WarehouseBuildResource
from phoenix_dagster.schemas import column_docs
from phoenix_dagster.schemas.tables import SERVING_DOCUMENTS
from phoenix_dagster.tuning.metrics import stage_metrics
from phoenix_dagster.warehouse.queries import query

SERVED = (
    "Every {what} reached MongoDB, or the export without it (WARN when the target failed: the warehouse "
    "is still published; serving catches up at the next build)"
)


def served_check(asset: str, what: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec("documents_served", asset=asset, description=SERVED.format(what=what))


def served_result(sent: int, wanted: int, error: str | None) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name="documents_served",
        passed=error is None and sent == wanted,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"documents": sent, "wanted": wanted, "error": error or "none"},
    )


def served_in_mart_check() -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        "documents_match_the_mart",
        asset="mongo_properties",
        description="Read back from the target: every served document has its property in "
        "marts.properties (no orphan) and every property is served",
    )


def served_in_mart_result(mongo: MongoResource, mart_ids: pl.DataFrame, error: str | None) -> dg.AssetCheckResult:
    """`mart_ids`: marts.properties' property_id column, as a frame (anti-joins, not Python sets:
    a million ids)."""
    if error is not None:  # not read back: the target just failed
        return dg.AssetCheckResult(
            check_name="documents_match_the_mart",
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"not served: {error}",
        )
    try:
        if mongo.target == EXPORT:
            path = mongo.export_path(COLLECTION)
            served = (
                read_fields(path, {"property_id": pl.String})
                if path.exists()
                else pl.DataFrame(schema={"property_id": pl.String})
            )
        else:
            cursor = mongo.db()[COLLECTION].find({}, {"property_id": 1, "_id": 0})
            served = pl.DataFrame(
                {"property_id": [d["property_id"] for d in cursor]}, schema={"property_id": pl.String}
            )
    except (mongo_error(), OSError) as exc:
        return dg.AssetCheckResult(
            check_name="documents_match_the_mart",
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=failure_text(mongo, exc),
        )
    orphans = served.join(mart_ids, on="property_id", how="anti")["property_id"].sort()
    missing = mart_ids.join(served, on="property_id", how="anti")["property_id"].sort()
    examples = [*orphans.head(5).to_list(), *missing.head(5).to_list()][:5]
    return dg.AssetCheckResult(
        check_name="documents_match_the_mart",
        passed=not orphans.len() and not missing.len(),
        severity=dg.AssetCheckSeverity.WARN,
        description=None
        if not (orphans.len() or missing.len())
        else f"{orphans.len()} document(s) without a property in the mart, {missing.len()} propert(ies) not served",
        metadata={
            "documents": served.height,
            "orphans": orphans.len(),
            "missing": missing.len(),
            "examples": ", ".join(examples) or "none",
        },
    )


def mongodb_unreachable(context: dg.AssetExecutionContext, mongo: MongoResource, *, as_check: bool) -> str | None:
    """MongoDB pinged before serving: why it cannot be written to (the export is written
    instead), or None; nothing to ping for the export. `as_check`: report the ping as the
    `mongodb_up` check (assets/health.py), which mongo_properties carries."""
    if mongo.target == EXPORT:
        return None
    result = probe_mongodb(
        mongo.client() if mongo.is_stand_in else mongo.uri,
        mongo.database,
        expected_indexes=(),
        timeout_s=min(DEFAULT_TIMEOUT_S, mongo.server_selection_timeout_ms / 1000),
    )
    if as_check:
        context.log_event(check_evaluation(result, probed_by="mongo_properties"))
    return f"MongoDB {result.state}: {result.detail}" if result.failing else None


def failure_text(mongo: MongoResource, exc: Exception) -> str:
    return f"{mongo.describe()} failed: {type(exc).__name__}: {str(exc)[:200]}"


@dg.asset(
    deps=[dg.AssetKey(["marts", "properties"]), dg.AssetKey(["marts", "listing_events"])],
    kinds={"mongodb"},
    check_specs=[served_check("mongo_properties", "marts.properties row"), served_in_mart_check()],
    metadata=recording("served_documents", "stage_metrics")
    | {"dagster/column_schema": column_docs(SERVING_DOCUMENTS["properties"])},
)
def mongo_properties(
    context: dg.AssetExecutionContext, warehouse_build: WarehouseBuildResource, lake: LakeResource, mongo: MongoResource
) -> dg.MaterializeResult:
    """marts.properties as the properties documents (with their price history from
    marts.listing_events and a GeoJSON location): into MongoDB when MONGODB_URI is set — only the
    documents whose content hash changed are written, sightings move in bulk, indexes (parcel
    number, ZIP + status, 2dsphere location) are created idempotently first — else into a
    mongoimport-ready export under serving/. MongoDB is optional for the build: it is pinged
    first (its `mongodb_up` check), and when it does not answer or refuses us the documents go
    to the export instead; a failure while writing is recorded. Either way a WARN check says so."""
    with Bookkeeping(context, lake) as books:
        mart_ids = warehouse_build.build_query(query("serving__property_ids"))
        served, calls, extra, error = [], [], {}, None
        unreachable = mongodb_unreachable(context, mongo, as_check=True)
        if unreachable:
            context.log.warning(f"serving: {unreachable}; writing the mongoimport export instead")
        try:
            if mongo.target == EXPORT or unreachable:
                with DocumentExport(mongo.export_path(COLLECTION), key="property_id") as export:
                    for zip_code, docs in documents_by_zip(warehouse_build.build_query):
                        started = time.perf_counter()
                        changed = export.write(docs)
                        calls.append(time.perf_counter() - started)
                        served.append((zip_code, docs.height, changed.len()))
                counts = export.counts
                extra = {
                    "content_writes": counts.content_writes,
                    "deleted": counts.deleted,
                    "export": str(counts.path),
                    "export_bytes": counts.bytes,
                }
            else:
                collection = mongo.db()[COLLECTION]
                ensure_indexes(collection)
                totals = {"content_writes": 0, "sightings_moved": 0, "deleted": 0}
                for zip_code, docs in documents_by_zip(warehouse_build.build_query):
                    counts = write_changed(collection, docs, key="property_id", scope={"PostalCode": zip_code})
                    calls.extend(counts.call_seconds)
                    served.append((zip_code, docs.height, counts.content_writes))
                    totals = {name: totals[name] + getattr(counts, name) for name in totals}
                totals["deleted"] += delete_outside(collection, "PostalCode", [row[0] for row in served])
                extra = totals
        except (mongo_error(), OSError) as exc:
            error = failure_text(mongo, exc)
            context.log.error(f"serving: {error}")
        if unreachable and error is None:
            error = f"{unreachable}; served to the export {mongo.export_path(COLLECTION)} instead"
        sent = 0 if error else mart_ids.height
        books.record(
            "served_documents",
            pl.DataFrame(
                served if not error else [],
                orient="row",
                schema={"PostalCode": pl.String, "documents": pl.Int64, "content_writes": pl.Int64},
            )
            .with_columns(pl.lit(mongo.describe()).alias("target"))
            .sort("PostalCode"),
        )
        if mongo.is_stand_in:
            context.log.warning("MONGODB_STAND_IN: documents went to an in-process stand-in and are not persisted")
        metrics = books.stage_metrics(
            stage_metrics(
                "serving",
                items=mart_ids.height,
                duration_s=books.elapsed_s,
                latencies_s=calls,
                errors=mart_ids.height - sent,
                retries=0,  # no write is retried: a failed build serves again next time
                rate_limited=0,
                timeouts=int(error is not None and "Timeout" in error),
                batch_size=None,
                concurrency=1,
                cpu_pct=books.cpu_pct(),
                peak_rss_mb=books.peak_rss_mb(),
            )
        )
        return dg.MaterializeResult(
            metadata=books.finish(rows_in=mart_ids.height, rows_out=sent, target=mongo.describe(), **extra) | metrics,
            check_results=[served_result(sent, mart_ids.height, error), served_in_mart_result(mongo, mart_ids, error)],
        )


@dg.asset(
    deps=[
        dg.AssetKey(["ops", name])
        for name in ("partition_counts", "quality_daily", "cost_events", "quarantine", "budget_status")
    ],
    kinds={"mongodb"},
    check_specs=[served_check("daily_report", "day's report")],
    metadata={"dagster/column_schema": column_docs(SERVING_DOCUMENTS["daily_reports"])},
)
def daily_report(
    context: dg.AssetExecutionContext, warehouse_build: WarehouseBuildResource, mongo: MongoResource
) -> dg.MaterializeResult:
    """One report per partition day in MongoDB daily_reports (unique by date), or in the export's
    daily_reports.jsonl without MongoDB: each ZIP's counts, quality per source, cost and
    quarantine reasons, and the month's budget status."""
    read = warehouse_build.build_query
    updates = report_updates(
        counts=read(query("daily_report__partition_counts")),
        quality=read(query("daily_report__quality")),
        cost=read(query("daily_report__cost")),
        errors=read(query("daily_report__quarantine_reasons")),
        budget=read(query("daily_report__budget")),
    )
    written, error = 0, None
    unreachable = mongodb_unreachable(context, mongo, as_check=False)
    try:
        if mongo.target == EXPORT or unreachable:
            written = export_reports(updates, mongo.export_path(REPORTS))
        else:
            collection = mongo.db()[REPORTS]
            ensure_report_indexes(collection)
            for day, update in updates.items():
                collection.update_one({"date": day}, update, upsert=True)
                written += 1
    except (mongo_error(), OSError) as exc:
        error = failure_text(mongo, exc)
        context.log.error(f"daily report: {error}")
    if unreachable and error is None:
        error, written = f"{unreachable}; written to the export {mongo.export_path(REPORTS)} instead", 0
    return dg.MaterializeResult(
        metadata={"reports": written, "target": mongo.describe(), "latest_day": max(updates) if updates else ""},
        check_results=[served_result(written, len(updates), error)],
    )
