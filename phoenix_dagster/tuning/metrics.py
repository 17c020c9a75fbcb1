"""One stage's run metrics, from what the stage observed; attached to its materialization as
`stage_metrics` and collected by the run_metrics asset."""

from __future__ import annotations

import polars as pl

from phoenix_dagster.sources.base import RequestRecord

FAILED = {"server_error", "client_error", "timeout", "connection", "undecodable", "auth"}


def stage_metrics(
    stage: str,
    *,
    items: int,
    duration_s: float,
    latencies_s: list[float],
    errors: int,
    retries: int,
    rate_limited: int,
    timeouts: int,
    batch_size: int | None,
    concurrency: int | None,
    cpu_pct: float,
    peak_rss_mb: float,
    bytes_received: int | None = None,
) -> dict:
    latencies = pl.Series(latencies_s, dtype=pl.Float64)
    return {
        "stage": stage,
        "items": items,
        "duration_s": round(duration_s, 4),
        "items_per_s": round(items / duration_s, 3) if duration_s > 0 else 0.0,
        "p50_ms": round(latencies.quantile(0.5) * 1000, 3) if latencies.len() else None,
        "p95_ms": round(latencies.quantile(0.95) * 1000, 3) if latencies.len() else None,
        "error_rate": round(errors / items, 4) if items else 0.0,
        "retry_rate": round(retries / items, 4) if items else 0.0,
        "rate_limited": rate_limited,
        "timeouts": timeouts,
        "cpu_pct": round(cpu_pct, 1),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "batch_size": batch_size,
        "concurrency": concurrency,
        "bytes_received": bytes_received,
    }


def from_requests(stage: str, records: list[RequestRecord], **common) -> dict:
    first = [r for r in records if r.attempt == 1]
    return stage_metrics(
        stage,
        items=len(first),
        latencies_s=[r.seconds for r in records],
        errors=sum(r.outcome in FAILED for r in records),
        retries=len(records) - len(first),
        rate_limited=sum(r.outcome == "rate_limited" for r in records),
        timeouts=sum(r.outcome == "timeout" for r in records),
        bytes_received=sum(r.bytes for r in records),
        **common,
    )
