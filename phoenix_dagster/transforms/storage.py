"""What each store holds, measured for the cost ledger."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import polars as pl


def directory_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def storage_rows(*, lake_dir: Path, warehouse_bytes: int, mongodb_bytes: int) -> pl.DataFrame:
    now = datetime.now(timezone.utc)
    return pl.DataFrame([{"store": "lake", "bytes": directory_bytes(lake_dir) if lake_dir.exists() else 0},
                         {"store": "warehouse", "bytes": warehouse_bytes},
                         {"store": "mongodb", "bytes": mongodb_bytes}],
                        schema={"store": pl.String, "bytes": pl.Int64}).with_columns(
        pl.lit(now).alias("measured_at"))
