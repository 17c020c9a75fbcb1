"""The warehouse build: every SQL model under sql/ as an asset (one per file), the seeds, the
degradations found in the run metrics, the storage measurement the cost ledger prices, and the
published copy readers open.

These assets are unpartitioned and run together in the `build_warehouse` job, once after the
day's partitions, with the build file's lock making them the warehouse's only writer. A model's
upstream assets come from the tables its SQL reads (phoenix_dagster/warehouse/sql_project.py): a lake
table is its asset, a bookkeeping table is every asset that declares it records it.
"""

from pathlib import Path

import dagster as dg
import polars as pl

from phoenix_dagster.graph.bookkeeping import Bookkeeping, recording
from phoenix_dagster.graph.check_factories import warehouse_check_results, warehouse_check_specs
from phoenix_dagster.monitoring.degradations import find_degradations
from phoenix_dagster.resources.control_state import ControlStateResource
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.mongo import MongoResource, mongo_error
from phoenix_dagster.resources.warehouse import PublishedWarehouseResource, WarehouseBuildResource
from phoenix_dagster.schemas import column_docs, conform
from phoenix_dagster.schemas.ops import Degradations
from phoenix_dagster.schemas.tables import WAREHOUSE_TABLES
from phoenix_dagster.settings import PROJECT_ROOT
from phoenix_dagster.transforms.costs import load_prices, monthly_budget_frame, unit_prices_frame
from phoenix_dagster.transforms.storage import storage_rows
from phoenix_dagster.warehouse.model_metadata import table_figures
from phoenix_dagster.warehouse.queries import query
from phoenix_dagster.warehouse.sql_project import SqlModel, build_model, prune_stale, write_seed

SEEDS = {"ops.unit_prices": unit_prices_frame, "ops.monthly_budget": monthly_budget_frame}


def table_metadata(table: str) -> dict:
    metadata = {"dagster/table_name": table}
    if table in WAREHOUSE_TABLES:
        metadata["dagster/column_schema"] = column_docs(WAREHOUSE_TABLES[table])
    return metadata


# Control tables written by an asset: the warehouse models that read them are downstream of it.
CONTROL_WRITERS = {
    "alerts": [dg.AssetKey("alert_deliveries")],
    "batch_tuning": [dg.AssetKey("batch_tuning")],
    "service_health": [dg.AssetKey("service_health"), dg.AssetKey("service_preflight")],
}


def upstream_keys(model: SqlModel, writers: dict[str, list[dg.AssetKey]]) -> list[dg.AssetKey]:
    """The assets a model reads: lake tables by name, bookkeeping tables by their writers, control
    tables by the asset that writes them, other models and seeds by key."""
    keys: set[dg.AssetKey] = set()
    for schema, name in model.upstream:
        if schema == "lake":
            keys.add(dg.AssetKey(name))
        elif schema == "bookkeeping":
            keys.update(writers.get(name, []))
        elif schema == "control":
            keys.update(CONTROL_WRITERS.get(name, []))
        else:
            keys.add(dg.AssetKey([schema, name]))
    return sorted(keys, key=lambda key: key.to_user_string())


def sql_model_asset(model: SqlModel, writers: dict[str, list[dg.AssetKey]]) -> dg.AssetsDefinition:
    metadata = {
        "sql_file": str(model.path.relative_to(PROJECT_ROOT))
        if model.path.is_relative_to(PROJECT_ROOT)
        else str(model.path),
        "materialization": model.materialization,
        **table_metadata(model.table),
    }

    schema = WAREHOUSE_TABLES.get(model.table)

    @dg.asset(
        key=model.key,
        description=model.description,
        kinds={"duckdb", "sql"},
        deps=upstream_keys(model, writers),
        metadata=metadata,
        check_specs=warehouse_check_specs(model.key, model.table, schema, model.grain),
    )
    def _build(
        warehouse_build: WarehouseBuildResource, lake: LakeResource, control_state: ControlStateResource
    ) -> dg.MaterializeResult:
        with warehouse_build.build_connection() as conn:
            rows = build_model(conn, model, lake.root, Path(control_state.control_dir))
        checks = warehouse_check_results(
            warehouse_build.build_query, model.table, schema, model.grain, batches=warehouse_build.build_batches
        )
        figures = table_figures(warehouse_build.build_query, model.table, with_schema=schema is None)
        return dg.MaterializeResult(
            metadata={"dagster/row_count": rows, **figures, "sql": dg.MetadataValue.md(f"```sql\n{model.sql}\n```")},
            check_results=checks,
        )

    return _build


def seed_asset(table: str) -> dg.AssetsDefinition:
    doc = (WAREHOUSE_TABLES[table].__doc__ or "").split(":", 1)[-1].strip()

    @dg.asset(
        key=dg.AssetKey(table.split(".")),
        kinds={"duckdb", "yaml"},
        metadata=table_metadata(table),
        description=f"{doc[0].upper()}{doc[1:]}" if doc else f"{table}, seeded from data/unit_prices.yaml",
    )
    def _seed(warehouse_build: WarehouseBuildResource) -> dg.MaterializeResult:
        frame = SEEDS[table](load_prices())
        with warehouse_build.build_connection() as conn:
            rows = write_seed(conn, table, frame)
        return dg.MaterializeResult(metadata={"dagster/row_count": rows})

    return _seed


@dg.asset(
    deps=["mongo_properties"],
    kinds={"parquet"},
    metadata=recording("storage_usage") | {"dagster/column_schema": column_docs(WAREHOUSE_TABLES["ops.storage_usage"])},
)
def storage_measurement(
    context: dg.AssetExecutionContext, lake: LakeResource, warehouse: PublishedWarehouseResource, mongo: MongoResource
) -> dg.MaterializeResult:
    """Bytes the lake, the published warehouse and MongoDB hold now, recorded for the cost ledger."""
    with Bookkeeping(context, lake) as books:
        try:
            mongodb_bytes = mongo.data_bytes()
        except mongo_error() as exc:  # MongoDB is optional for the build: measured next time
            context.log.warning(f"MongoDB size not measured: {type(exc).__name__}: {str(exc)[:200]}")
            mongodb_bytes = None
        rows = storage_rows(
            lake_bytes=lake.storage.total_bytes(), warehouse_bytes=warehouse.size_bytes(), mongodb_bytes=mongodb_bytes
        )
        books.record("storage_usage", rows)
        return dg.MaterializeResult(
            metadata=books.finish(rows_in=0, rows_out=rows.height)
            | {f"{store}_bytes": n for store, n in rows.select("store", "bytes").iter_rows()}
        )


@dg.asset(
    key=dg.AssetKey(["ops", "degradations"]),
    kinds={"duckdb", "python"},
    deps=[dg.AssetKey(["ops", "stage_metrics"]), dg.AssetKey(["ops", "quality_daily"])],
    metadata=table_metadata("ops.degradations"),
)
def degradations(context: dg.AssetExecutionContext, warehouse_build: WarehouseBuildResource) -> dg.MaterializeResult:
    """ops.degradations: each stage's runs (throughput, p95, error rate) and each source's daily
    quality score (dated by its partition day) against the median and MAD of its own last 14 runs
    in that ZIP; a run worse by
    a robust margin is a row, with its likely cause named from the data (e.g. "the county
    assessor is slow: p95 3.1× its baseline while our CPU was idle"). Formulas:
    phoenix_dagster/monitoring/degradations.py. The alert sensor alerts the latest day's."""
    metrics = warehouse_build.build_query(query("degradations__stage_runs"))
    quality = warehouse_build.build_query(query("degradations__quality_scores"))
    found = conform(find_degradations(pl.concat([metrics, quality], how="diagonal_relaxed")), Degradations)
    with warehouse_build.build_connection() as conn:
        rows = write_seed(conn, "ops.degradations", found)
    latest = found.filter(pl.col("recorded_at").dt.date() == found["recorded_at"].max().date()) if rows else found
    context.log.info(
        f"{rows} degradation(s); latest day: "
        + (
            "; ".join(
                f"{r['stage']} {r['PostalCode'] or ''} {r['metric']}: {r['likely_cause']}"
                for r in latest.head(5).iter_rows(named=True)
            )
            or "none"
        )
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "latest_day": latest.height,
            "runs_judged": metrics.height,
            "quality_rows_judged": quality.height,
        }
    )


def published_warehouse_asset(model_keys: list[dg.AssetKey]) -> dg.AssetsDefinition:
    tables = {".".join(key.path) for key in model_keys}

    @dg.asset(deps=model_keys, kinds={"duckdb"}, metadata={"path": "$PHOENIX_DATA_DIR/warehouse.duckdb"})
    def published_warehouse(
        context: dg.AssetExecutionContext, warehouse_build: WarehouseBuildResource
    ) -> dg.MaterializeResult:
        """The copy of the warehouse that analysts, phoenix-estate sql, the summary and the sensors
        read: swapped in atomically once every model is built and its blocking checks have passed,
        so a reader never sees a half-built or failed build and never holds the writer's lock.
        Tables an older version built and nothing builds now are dropped first."""
        with warehouse_build.build_connection() as conn:
            stale = prune_stale(conn, tables)
        if stale:
            context.log.info(f"dropped tables no model builds any more: {', '.join(stale)}")
        size = warehouse_build.publish()
        return dg.MaterializeResult(
            metadata={
                "bytes": size,
                "path": dg.MetadataValue.path(warehouse_build.published_path),
                "tables": len(tables),
                "dropped_stale": ", ".join(stale) or "none",
            }
        )

    return published_warehouse
