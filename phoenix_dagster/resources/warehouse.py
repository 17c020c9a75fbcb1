"""The DuckDB warehouse: marts for analysts and the pipeline's own ops tables.

DuckDB allows one writer process; every write goes through this resource, and the
``daily_refresh`` job runs its steps in one process (see definitions.py).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import pandera.polars as pa
import polars as pl
from dagster_duckdb import DuckDBResource

from phoenix_dagster.schemas import conform, polars_schema
from phoenix_dagster.schemas.ops import (Alerts, BatchTuning, CostEvents, LlmCache, PartitionCounts, QualityDaily,
                                         Quarantine, RunLog, RunMetrics, SourceRequests)

SCHEMAS = ("lake", "staging", "intermediate", "marts", "ops")
OPS_TABLES: dict[str, type[pa.DataFrameModel]] = {
    "ops.run_log": RunLog,
    "ops.quarantine": Quarantine,
    "ops.partition_counts": PartitionCounts,
    "ops.source_requests": SourceRequests,
    "ops.llm_cache": LlmCache,
    "ops.quality_daily": QualityDaily,
    "ops.cost_events": CostEvents,
    "ops.alerts": Alerts,
    "ops.run_metrics": RunMetrics,
    "ops.batch_tuning": BatchTuning,
}


_PREPARED: set[tuple[str, int]] = set()


class WarehouseResource(DuckDBResource):
    """DuckDBResource plus the few write patterns the pipeline uses."""

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        with self.get_connection() as conn:
            conn.execute("set TimeZone = 'UTC'")
            # The schemas and ops tables are created once per warehouse file and process, not on
            # every query; the file's inode tells a file recreated under the same path.
            prepared = (self.database, os.stat(self.database).st_ino)
            if prepared not in _PREPARED:
                for schema in SCHEMAS:
                    conn.execute(f"create schema if not exists {schema}")
                for table, model in OPS_TABLES.items():
                    empty = pl.DataFrame(schema=polars_schema(model))  # noqa: F841 (read by DuckDB below)
                    conn.execute(f"create table if not exists {table} as select * from empty")
                _PREPARED.add(prepared)
            yield conn

    def replace_rows(self, table: str, frame: pl.DataFrame, where: dict[str, object]) -> None:
        """Delete the rows matching ``where`` and insert ``frame``: the idempotent write of a partition."""
        model = OPS_TABLES.get(table)
        rows = conform(frame, model) if model else frame  # noqa: F841 (read by DuckDB below)
        clause = " and ".join(f"{column} is not distinct from ?" for column in where) or "true"
        with self.connect() as conn:
            conn.execute("begin")
            conn.execute(f"delete from {table} where {clause}", list(where.values()))
            conn.execute(f"insert into {table} by name select * from rows")
            conn.execute("commit")

    def upsert_rows(self, table: str, frame: pl.DataFrame, keys: list[str]) -> None:
        """Insert ``frame``, replacing rows with the same ``keys``."""
        rows = conform(frame, OPS_TABLES[table])  # noqa: F841 (read by DuckDB below)
        match = " and ".join(f"{table}.{k} = rows.{k}" for k in keys)
        with self.connect() as conn:
            conn.execute("begin")
            conn.execute(f"delete from {table} where exists (select 1 from rows where {match})")
            conn.execute(f"insert into {table} by name select * from rows")
            conn.execute("commit")

    def append_rows(self, table: str, frame: pl.DataFrame) -> None:
        rows = conform(frame, OPS_TABLES[table])  # noqa: F841 (read by DuckDB below)
        with self.connect() as conn:
            conn.execute(f"insert into {table} by name select * from rows")

    def has_table(self, name: str) -> bool:
        return bool(self.query("select count(*) as n from information_schema.tables where table_name = ?",
                               [name])["n"][0])

    def size_bytes(self) -> int:
        path = Path(self.database)
        return sum(p.stat().st_size for p in (path, path.with_name(path.name + ".wal")) if p.exists())

    def query(self, sql: str, params: list | None = None) -> pl.DataFrame:
        with self.connect() as conn:
            frame = conn.execute(sql, params or []).pl()
        # DuckDB names UTC after the machine's zone database ("Etc/UTC"); the schemas say "UTC".
        return frame.with_columns(pl.col(pl.Datetime("us", "Etc/UTC")).dt.convert_time_zone("UTC"))
