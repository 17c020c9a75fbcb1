"""What each store holds, measured for the cost ledger."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl


def storage_rows(*, lake_bytes: int, warehouse_bytes: int, mongodb_bytes: int | None) -> pl.DataFrame:
    """One row per store measured (MongoDB is left out when it could not be measured)."""
    now = datetime.now(UTC)
    measured = [{"store": "lake", "bytes": lake_bytes}, {"store": "warehouse", "bytes": warehouse_bytes}]
    if mongodb_bytes is not None:
        measured.append({"store": "mongodb", "bytes": mongodb_bytes})
    return pl.DataFrame(measured, schema={"store": pl.String, "bytes": pl.Int64}).with_columns(
        pl.lit(now).alias("measured_at")
    )
