"""A one-time import of the history held by a warehouse written in place (versions before the
one-writer build kept run logs, quarantine, requests, costs, quality, run metrics, the model's
reply cache, tuning decisions and alerts only in `warehouse.duckdb`).

The first run that finds such a file — `ops.run_log` without the `succeeded` column — copies
that history into the lake's bookkeeping (`zip=legacy/date=legacy`), the lake's
`quality_daily` partitions and the control state before its assets start, so the first
publish does not drop it: cached replies are not paid for again, tuning and today's alerts
carry on, and the month's cost keeps its earlier days. The old file is left as it is until
the publish replaces it. A marker (`control/.in_place_warehouse_checked`) is written once there
is nothing (more) to import, so later runs never open the published file.

Not carried over: the old `partition_counts.served` (serving is recorded anew by each build),
and quarantine rows of whole-table assets (they had no partition). The old cost ledger kept
usage for each partition's latest run only, while compute is rebuilt from every run in the
old run log, so the upgrade month's total can rise by that compute.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from phoenix_dagster.resources.lake import LakeResource, write_parquet_atomically
from phoenix_dagster.resources.warehouse import in_utc, open_duckdb
from phoenix_dagster.schemas import conform, with_missing_as_null
from phoenix_dagster.schemas.tables import CONTROL_TABLES, LAKE_TABLES
from phoenix_dagster.transforms.privacy import quarantine_rows

LEGACY = "legacy"
ASSET = "legacy_warehouse"
STAGE_ASSETS = {"collection:assessor": "raw_assessor_payloads", "collection:listings": "raw_listing_payloads",
                "enrichment": "listing_text_facts", "serving": "mongo_properties"}
DERIVED_COSTS = ("compute_hour", "storage_gb_month", "mongodb_gb_month")  # rebuilt from run log and storage

# What each old ops table becomes: (bookkeeping table, query over the old file).
BOOKKEEPING_QUERIES = {
    "run_log": """
        select run_id, asset, partition,
               coalesce(try_cast(split_part(partition, '|', 1) as date), cast(finished_at as date)) as date,
               true as succeeded, rows_in, rows_out, rows_quarantined, duration_s, finished_at
        from ops.run_log""",
    "quarantine": """
        select coalesce(latest.run_id, 'legacy') as run_id, q.source, q.asset, q.partition, q.record_key,
               q.reason, q.raw_record, null::varchar as payload_sha256, null::bigint as raw_bytes, q.quarantined_at
        from ops.quarantine as q
        left join (select asset, partition, arg_max(run_id, finished_at) as run_id from ops.run_log group by all)
            as latest using (asset, partition)""",
    "source_requests": """
        select run_id,
               case when endpoint in ('search', 'parcel') and source <> 'mls_html' then 'raw_assessor_payloads'
                    else 'raw_listing_payloads' end as asset,
               partition, source, endpoint, outcome, status, requests, retries, bytes, seconds,
               rate_limit_wait_s, recorded_at
        from ops.source_requests""",
    "usage": """
        select run_id, 'legacy_warehouse' as asset, partition, date, service, item, quantity, recorded_at
        from ops.cost_events where service not in (select unnest($derived))""",
    "storage_usage": """
        select run_id, date, item as store, cast(round(quantity * 1e9 * day(last_day(date))) as bigint) as bytes,
               recorded_at as measured_at
        from ops.cost_events where service in ('storage_gb_month', 'mongodb_gb_month')""",
    "stage_metrics": "select * from ops.run_metrics",  # each stage's asset is added below
    "llm_replies": "select * from ops.llm_cache",
}


CONTROL_KEYS = {"batch_tuning": ["stage", "run_id"], "alerts": ["day", "condition"]}


def written_in_place(conn: duckdb.DuckDBPyConnection) -> bool:
    """An older version's warehouse: it has `ops.run_log`, without the `succeeded` column."""
    columns = {name for (name,) in conn.execute(
        "select column_name from information_schema.columns where table_schema = 'ops' and table_name = 'run_log'"
    ).fetchall()}
    return bool(columns) and "succeeded" not in columns


def is_in_place_warehouse(path: Path) -> bool:
    if not path.exists():
        return False
    with duckdb.connect(str(path), read_only=True) as conn:
        return written_in_place(conn)


def _tables(conn: duckdb.DuckDBPyConnection) -> set[str]:
    return {name for (name,) in conn.execute(
        "select table_name from information_schema.tables where table_schema = 'ops'").fetchall()}


def import_history(path: Path, lake: LakeResource, control_dir: Path) -> dict[str, int]:
    """Copy an in-place warehouse's history into the lake and control state; returns rows per table
    ({} when the file is not one). Idempotent: a second call writes the same files again."""
    imported: dict[str, int] = {}
    with open_duckdb(str(path), read_only=True) as conn:
        if not written_in_place(conn):  # checked on the connection that reads it: a publish may have landed
            return imported
        present = _tables(conn)
        params = {"derived": list(DERIVED_COSTS)}
        sources = {"run_log": "run_log", "quarantine": "quarantine", "source_requests": "source_requests",
                   "usage": "cost_events", "storage_usage": "cost_events", "stage_metrics": "run_metrics",
                   "llm_replies": "llm_cache"}
        for table, query in BOOKKEEPING_QUERIES.items():
            if sources[table] not in present:
                continue
            used = {k: v for k, v in params.items() if f"${k}" in query}
            frame = in_utc(conn.execute(query, used).pl())
            if table == "quarantine":  # the old warehouse kept records as received: withhold as staging does now
                frame = quarantine_rows(frame)
            if table == "stage_metrics" and frame.height:
                frame = frame.with_columns(pl.col("stage").replace_strict(STAGE_ASSETS, default=ASSET).alias("asset"))
            if frame.height:
                lake.write_bookkeeping(table, frame, asset=ASSET, day=LEGACY, zip_code=LEGACY, run_id="import")
            imported[table] = frame.height
        if "quality_daily" in present:
            quality = in_utc(conn.execute("select * from ops.quality_daily").pl())
            for (day, zip_code), rows in quality.group_by("date", "PostalCode"):
                if not lake.is_materialized("quality_daily", str(day), zip_code):  # a partition run since has its own
                    lake.write(conform(rows, LAKE_TABLES["quality_daily"]), "quality_daily", str(day), zip_code)
            imported["quality_daily"] = quality.height
        for table, key in CONTROL_KEYS.items():
            if table in present:
                frame = in_utc(conn.execute(f"select * from ops.{table}").pl())
                order = "decided_at" if table == "batch_tuning" else "sent_at"
                frame = frame.sort(order).unique(key, keep="last")  # the old sensors could write a key twice
                existing = _control_keys(control_dir / table, key)
                if existing is not None:  # what the sensors decided since the upgrade wins
                    frame = frame.join(existing, on=key, how="anti")
                if frame.height:
                    write_parquet_atomically(conform(with_missing_as_null(frame, CONTROL_TABLES[table]),
                                                     CONTROL_TABLES[table]),
                                             control_dir / table / f"{LEGACY}__import.parquet")
                imported[table] = frame.height
    return imported


def _control_keys(folder: Path, key: list[str]) -> pl.DataFrame | None:
    files = [p for p in sorted(folder.glob("*.parquet")) if not p.name.startswith(LEGACY)]
    return pl.read_parquet(files, columns=key).unique() if files else None
