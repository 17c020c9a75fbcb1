"""Two `phoenix-estate run` processes for different ZIPs of one day, started together on one
data directory, both succeed, and the warehouse built after them equals the one built by
running them one after the other."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from phoenix_dagster.schemas.tables import WAREHOUSE_TABLES
from platform_harness import first_date

pytestmark = pytest.mark.integration

DAY = "2026-11-28"
# Columns that say when or by which run something happened, or how long it took: they differ
# between any two runs. Everything else must be equal.
RUN_SPECIFIC = {"run_id", "recorded_at", "finished_at", "quarantined_at", "served_at", "measured_at", "created_at",
                "evaluated_at", "sent_at", "decided_at", "duration_s", "seconds", "rate_limit_wait_s", "cpu_pct",
                "peak_rss_mb", "items_per_s", "p50_ms", "p95_ms", "freshness_hours", "first_seen_at", "last_seen_at"}
# Quality is scored with freshness, the hours since the newest record at evaluation time: two
# runs minutes apart score a little differently.
SCORED_AT_EVALUATION = {"ops.quality_daily": {"overall_score", "status", "issues"}}
# Tables that record the runs themselves (their count and timing, the bytes stored, the tuning
# path taken, so the batch size and concurrency each run used) rather than the data: compared by
# what they must agree on below.
RUN_RECORDS = {"ops.run_log", "ops.run_metrics", "ops.stage_metrics", "ops.cost_events", "ops.cost_daily", "ops.budget_status",
               "ops.storage_usage", "ops.batch_tuning", "ops.alerts", "ops.served_documents", "ops.asset_runs_latest"}


def start(data_dir: Path, *zip_codes: str) -> subprocess.Popen:
    env = {**os.environ, "PHOENIX_FIRST_DATE": first_date(), "PHOENIX_DATA_DIR": str(data_dir), "DAGSTER_HOME": str(data_dir / "home")}
    env.pop("MONGODB_URI", None)
    return subprocess.Popen([sys.executable, "-m", "phoenix_dagster.cli", "run", "--date", DAY, "--zip", *zip_codes],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen) -> str:
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output
    return output


def warehouse_contents(data_dir: Path) -> dict[str, pl.DataFrame]:
    contents = {}
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as conn:
        for table in WAREHOUSE_TABLES:
            frame = conn.execute(f"select * from {table}").pl()
            if table in RUN_RECORDS:
                continue
            kept = [c for c in frame.columns if c not in RUN_SPECIFIC | SCORED_AT_EVALUATION.get(table, set())]
            contents[table] = frame.select(kept).sort(kept, nulls_last=True)
        contents["runs per asset and partition"] = conn.execute(
            "select asset, partition, count(*) as runs, bool_and(succeeded) as succeeded from ops.run_log "
            "where partition is not null group by all order by all").pl()
    return contents


def test_two_zips_run_at_once_build_the_same_warehouse_as_one_after_the_other(tmp_path):
    together, apart = tmp_path / "together", tmp_path / "apart"
    first, second = start(together, "85031"), start(together, "85035")
    outputs = [finish(first), finish(second)]
    assert all("Checks:" in output and "0 failed" in output for output in outputs), outputs
    finish(start(apart, "85031", "85035"))  # one after the other in one process, one build
    concurrent, sequential = warehouse_contents(together), warehouse_contents(apart)
    assert concurrent.keys() == sequential.keys()
    for table, frame in sequential.items():
        assert concurrent[table].equals(frame), table
    zips = concurrent["marts.zip_market_stats"]["PostalCode"].to_list()
    assert zips == ["85031", "85035"]  # both partitions reached the published warehouse
    assert concurrent["marts.properties"].height == 255 + 237
