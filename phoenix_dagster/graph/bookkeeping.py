"""What every asset records about its own work, declared where the asset is defined.

`lake_asset(records=(...))` declares a lake asset with its column docs (from its table's
schema) and the bookkeeping tables it writes; `Bookkeeping`, a context manager around the
body, collects those rows while the body runs and writes them as lake partitions when it
finishes, the `run_log` row last. When the body raises instead, leaving the `with` block writes
what was recorded so far with a failed run-log row: requests made and model time spent are
costed either way.
An asset can only record what it declared, so the warehouse's ops models — which read the
bookkeeping — take their dependencies from the declarations, and the lineage graph is true.
"""

from __future__ import annotations

import resource
import shutil
import time
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import polars as pl
import psutil

from phoenix_dagster.graph.partitions import ALL_ZIPS, day_and_county
from phoenix_dagster.redact import mask_url
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.schemas import column_docs
from phoenix_dagster.schemas.tables import BOOKKEEPING_TABLES, lake_table
from phoenix_dagster.storage.lake_storage import is_object_storage
from phoenix_dagster.transforms.costs import request_usage
from phoenix_dagster.transforms.privacy import quarantine_rows

RECORDS = "phoenix/bookkeeping"  # asset metadata: the bookkeeping tables it writes, comma separated
QUARANTINE_LOG_LINES = 20
ERROR_CHARS = 500  # of a failure's reason kept in run_log (our own words: no record's content)


def recording(*tables: str) -> dict:
    """Asset metadata declaring the bookkeeping tables an asset writes (run_log always)."""
    unknown = set(tables) - set(BOOKKEEPING_TABLES)
    if unknown:
        raise ValueError(f"unknown bookkeeping table(s): {', '.join(sorted(unknown))}")
    return {RECORDS: ", ".join(dict.fromkeys(("run_log", *tables)))}


def recorded_tables(metadata: dict) -> tuple[str, ...]:
    value = metadata.get(RECORDS)
    text = getattr(value, "value", value) or ""
    return tuple(t.strip() for t in str(text).split(",") if t.strip())


def lake_asset(*, records: tuple[str, ...] = (), kinds: tuple[str, ...] = ("polars", "parquet"), **kwargs):
    """A partitioned lake asset named after its function, stored by the lake IO manager."""

    def decorate(fn):
        metadata = {"dagster/column_schema": column_docs(lake_table(fn.__name__)), **recording(*records)}
        return dg.asset(name=fn.__name__, kinds=set(kinds), metadata=metadata, **kwargs)(fn)

    return decorate


def upstream_assets(context: dg.AssetExecutionContext) -> list[str]:
    """The asset's declared upstream assets, by name: the only ones whose bookkeeping it may read."""
    return sorted(key.to_user_string() for key in context.assets_def.asset_deps[context.asset_key])


class Bookkeeping:
    """What one asset records about its own work, as a context manager around the asset's body:

        with Bookkeeping(context, lake) as books:
            books.record("quarantine", rejected)
            return dg.Output(frame, metadata=books.finish(rows_in=n, rows_out=frame.height))

    `finish` (or `failure`) writes what it recorded, the run-log row last; a body that raises
    before either still has what it recorded so far written, with a failed run-log row."""

    def __init__(self, context: dg.AssetExecutionContext, lake: LakeResource, zip_code: str | None = None):
        """`zip_code`: the ZIP of the partition's county this bookkeeping is of (a partitioned
        asset keeps its books per ZIP: graph/zip_steps.for_each_zip)."""
        self.context, self.lake = context, lake
        self.asset = context.asset_key.to_user_string()
        if context.has_partition_key:
            if zip_code is None:
                raise ValueError(f"{self.asset}: a partitioned step keeps its books per ZIP (zip_code)")
            self.day, _ = day_and_county(context)
            self.zip_code, self.partition = zip_code, f"{self.day}|{zip_code}"
        else:
            self.day, self.zip_code, self.partition = lake.today(), ALL_ZIPS, None
        self.declared = recorded_tables(context.assets_def.specs_by_key[context.asset_key].metadata)
        self.frames: dict[str, list[pl.DataFrame]] = {}
        self.quarantined = 0
        self.started = time.perf_counter()
        self._cpu_started = sum(psutil.Process().cpu_times()[:2])
        self._written = False

    def __enter__(self) -> Bookkeeping:
        return self

    def __exit__(self, exc_type, exc, traceback) -> bool:
        if exc_type is not None and not self._written:
            # only its type: a library's message may quote a record (an owner's name); the log has the rest
            self._write(0, 0, succeeded=False, error=f"{exc_type.__name__} (the run's log has its message)")
        return False  # the error goes on

    # Measurements -------------------------------------------------------------------------

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

    # Recording ----------------------------------------------------------------------------

    def record(self, table: str, frame: pl.DataFrame) -> None:
        """Add rows to `table`; run, asset, partition and time columns are filled in."""
        if table not in self.declared:
            raise dg.Failure(f"{self.asset} records {table} but does not declare it (recording({table!r}))")
        columns = BOOKKEEPING_TABLES[table].to_schema().columns
        now = datetime.now(UTC)
        stamps = {
            "run_id": self.context.run.run_id,
            "asset": self.asset,
            "partition": self.partition,
            "date": date.fromisoformat(self.day),
            "recorded_at": now,
            "quarantined_at": now,
            "served_at": now,
        }
        self.frames.setdefault(table, []).append(
            frame.with_columns(
                pl.lit(value).alias(name)
                for name, value in stamps.items()
                if name in columns and name not in frame.columns
            )
        )

    def quarantine(self, rejected: pl.DataFrame) -> int:
        """Records rejected (transforms.payloads.REJECT_SCHEMA), with owners' names and addresses
        withheld and a record that is not JSON reduced to its hash and length (the bytes stay in the
        raw layer only: transforms.privacy.quarantine_rows); returns how many."""
        rejected = quarantine_rows(rejected)
        self.record("quarantine", rejected)
        for row in rejected.head(QUARANTINE_LOG_LINES).iter_rows(named=True):
            self.context.log.warning(f"quarantined {row['source']} record {row['record_key']}: {row['reason']}")
        self.quarantined += rejected.height
        return rejected.height

    def requests(self, source: str, summary: pl.DataFrame) -> dict:
        """A source's request summary (the client's own, `request_summary()`) as `source_requests`
        and `usage`; returns run totals."""
        self.record("source_requests", summary.with_columns(pl.lit(source).alias("source")))
        proxied = int(summary.filter(pl.col("endpoint") == "proxy")["bytes"].sum())
        self.usage(request_usage(source, requests=int(summary["requests"].sum()), proxied_bytes=proxied))
        by_outcome = dict(summary.group_by("outcome").agg(pl.col("requests").sum()).iter_rows())
        return {
            "requests": int(summary["requests"].sum()),
            "retries": int(summary["retries"].sum()),
            "rate_limited": int(by_outcome.get("rate_limited", 0)),
            "bytes_received": int(summary["bytes"].sum()),
            "rate_limit_wait_s": round(float(summary["rate_limit_wait_s"].sum()), 3),
        }

    def usage(self, quantities: list[dict]) -> None:
        """Billable quantities: dicts of service, item, quantity."""
        if quantities:
            self.record(
                "usage",
                pl.DataFrame(quantities, schema={"service": pl.String, "item": pl.String, "quantity": pl.Float64}),
            )

    def disk_free_mb(self) -> float | None:
        """Free disk under the data directory (the lake's root when it is local); None when
        neither is on this machine's disk."""
        where = self.lake.data_dir or (None if is_object_storage(self.lake.root) else self.lake.root)
        if where is None or not Path(where).exists():
            return None
        return round(shutil.disk_usage(where).free / 2**20, 1)

    def stage_metrics(self, metrics: dict) -> dict:
        """Record one stage's metrics (with the free disk under the data directory, measured now)."""
        metrics = {**metrics, "disk_free_mb": self.disk_free_mb()}
        self.record(
            "stage_metrics",
            pl.DataFrame([metrics], schema_overrides={"bytes_received": pl.Int64, "disk_free_mb": pl.Float64}),
        )
        return {"stage_metrics": dg.MetadataValue.json(metrics)}

    # Writing ------------------------------------------------------------------------------

    def _write(self, rows_in: int, rows_out: int, succeeded: bool, error: str | None = None) -> float:
        self._written = True
        run_id = self.context.run.run_id
        where = dict(asset=self.asset, day=self.day, zip_code=self.zip_code, run_id=run_id)
        for table, frames in self.frames.items():
            rows = pl.concat(frames, how="diagonal_relaxed")
            if rows.height:  # nothing recorded, no file: the run_log row says the run happened
                self.lake.write_bookkeeping(table, rows, **where)
        duration = self.elapsed_s
        self.lake.write_bookkeeping(
            "run_log",
            pl.DataFrame(
                [
                    {
                        "run_id": run_id,
                        "asset": self.asset,
                        "partition": self.partition,
                        "date": date.fromisoformat(self.day),
                        "succeeded": succeeded,
                        "error": error,
                        "rows_in": rows_in,
                        "rows_out": rows_out,
                        "rows_quarantined": self.quarantined,
                        "duration_s": duration,
                        "finished_at": datetime.now(UTC),
                    }
                ]
            ),
            **where,
        )
        return duration

    def finish(self, rows_in: int, rows_out: int, **extra) -> dict:
        """Write the bookkeeping; return the counts as the asset's metadata."""
        duration = self._write(rows_in, rows_out, succeeded=True)
        return {
            "rows_in": rows_in,
            "rows_out": rows_out,
            "rows_quarantined": self.quarantined,
            "duration_s": round(duration, 3),
            "cpu_pct": round(self.cpu_pct(), 1),
            "peak_rss_mb": round(self.peak_rss_mb(), 1),
            **extra,
        }

    def failure(self, message: str, **metadata) -> dg.Failure:
        """Write what the failed body did (its requests cost too) and return the Failure to raise."""
        self._write(0, 0, succeeded=False, error=mask_url(message)[:ERROR_CHARS])
        return dg.Failure(message, metadata=metadata)
