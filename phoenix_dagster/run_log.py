"""Bookkeeping every asset does: time its body, record counts in ops.run_log, and return
the same counts as Dagster metadata."""

from __future__ import annotations

import resource
import time
from datetime import datetime, timezone

import dagster as dg
import polars as pl
import psutil

from phoenix_dagster.resources.warehouse import WarehouseResource


def partition_label(context: dg.AssetExecutionContext) -> str | None:
    return context.partition_key if context.has_partition_key else None


class AssetRun:
    """Started when an asset's body starts; ``finish`` writes its ops.run_log row."""

    def __init__(self, context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        self.context, self.warehouse = context, warehouse
        self.started = time.perf_counter()
        self._cpu_started = sum(psutil.Process().cpu_times()[:2])

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started

    def cpu_pct(self) -> float:
        """Process CPU time over the machine's CPU capacity since the asset started (100 = every core busy)."""
        wall = self.elapsed_s * (psutil.cpu_count() or 1)
        return 100 * (sum(psutil.Process().cpu_times()[:2]) - self._cpu_started) / wall if wall > 0 else 0.0

    @staticmethod
    def peak_rss_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def quarantine(self, rejected: pl.DataFrame) -> int:
        """Replace this asset's quarantine rows for the partition with ``rejected``
        (columns source, record_key, reason, raw_record). Returns how many."""
        asset = self.context.asset_key.to_user_string()
        partition = partition_label(self.context) or ""
        rows = rejected.with_columns(
            pl.lit(asset).alias("asset"), pl.lit(partition).alias("partition"),
            pl.lit(datetime.now(timezone.utc)).alias("quarantined_at"),
        )
        self.warehouse.replace_rows("ops.quarantine", rows, where={"asset": asset, "partition": partition})
        for row in rejected.head(20).iter_rows(named=True):
            self.context.log.warning(f"quarantined {row['source']} record {row['record_key']}: {row['reason']}")
        return rejected.height

    def finish(self, rows_in: int, rows_out: int, rows_quarantined: int = 0, **extra) -> dict:
        duration = time.perf_counter() - self.started
        self.warehouse.append_rows("ops.run_log", pl.DataFrame([{
            "run_id": self.context.run.run_id, "asset": self.context.asset_key.to_user_string(),
            "partition": partition_label(self.context), "rows_in": rows_in, "rows_out": rows_out,
            "rows_quarantined": rows_quarantined, "duration_s": duration,
            "finished_at": datetime.now(timezone.utc),
        }]))
        return {"rows_in": rows_in, "rows_out": rows_out, "rows_quarantined": rows_quarantined,
                "duration_s": round(duration, 3), "cpu_pct": round(self.cpu_pct(), 1),
                "peak_rss_mb": round(self.peak_rss_mb(), 1), **extra}
