"""A day's county partitions run at once through Dagster's run queue — from one `phoenix-estate
run` (the queue starts PHOENIX_MAX_CONCURRENT_RUNS at a time), and from two commands started
together on one data directory — and the warehouse built after them equals the one built by running
them one after the other (in-process: the same jobs, one run at a time, without the commands'
process starts). The market is tests/fixtures/two_county_market.yaml: the sample's ZIPs 85031 and
85035 in two counties, so one day has two partitions."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from platform_harness import first_date, make_platform
from services import fresh_postgres_database

from phoenix_dagster.schemas.tables import WAREHOUSE_TABLES

pytestmark = pytest.mark.integration

DAY = "2026-11-28"
NO_MODEL = "http://127.0.0.1:9"
TWO_COUNTIES = str(
    Path(__file__).parent / "fixtures" / "two_county_market.yaml"
)  # the same closed port everywhere: the rules' fallback reason names it
# Columns that say when or by which run something happened, or how long it took: they differ
# between any two runs. Everything else must be equal.
RUN_SPECIFIC = {
    "run_id",
    "recorded_at",
    "finished_at",
    "quarantined_at",
    "served_at",
    "measured_at",
    "created_at",
    "evaluated_at",
    "sent_at",
    "decided_at",
    "duration_s",
    "seconds",
    "rate_limit_wait_s",
    "cpu_pct",
    "peak_rss_mb",
    "items_per_s",
    "p50_ms",
    "p95_ms",
    "freshness_hours",
    "first_seen_at",
    "last_seen_at",
}
# Quality is scored with freshness, the hours since the newest record at evaluation time: two
# runs minutes apart score a little differently.
SCORED_AT_EVALUATION = {"ops.quality_daily": {"overall_score", "status", "issues"}}
# Tables that record the runs themselves (their count and timing, the bytes stored, the tuning
# path taken, so the batch size and concurrency each run used) rather than the data: compared by
# what they must agree on below.
RUN_RECORDS = {
    "ops.run_log",
    "ops.run_metrics",
    "ops.stage_metrics",
    "ops.cost_events",
    "ops.cost_daily",
    "ops.budget_status",
    "ops.storage_usage",
    "ops.batch_tuning",
    "ops.alerts",
    "ops.served_documents",
    "ops.asset_runs_latest",
    "ops.service_health",
}


def start(
    data_dir: Path, *zip_codes: str, dagster_postgres: str | None = None, max_concurrent_runs: int = 2
) -> subprocess.Popen:
    env = {
        **os.environ,
        "PHOENIX_FIRST_DATE": first_date(),
        "PHOENIX_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(data_dir / "home"),
        "PHOENIX_MAX_CONCURRENT_RUNS": str(max_concurrent_runs),
        "OLLAMA_HOST": NO_MODEL,
        "PHOENIX_MARKETS_FILE": TWO_COUNTIES,
    }
    env.pop("MONGODB_URI", None)
    env.pop("PHOENIX_DAGSTER_POSTGRES_URL", None)
    if dagster_postgres:
        env["PHOENIX_DAGSTER_POSTGRES_URL"] = dagster_postgres
    return subprocess.Popen(
        [sys.executable, "-m", "phoenix_dagster.cli", "run", "--date", DAY, "--zip", *zip_codes],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


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
            "where partition is not null group by all order by all"
        ).pl()
    return contents


def partition_runs_overlapped(data_dir: Path) -> bool:
    """Whether the two partition runs were both launched (dequeued: PIPELINE_STARTING) before
    either ended: they ran at once, not one after the other."""
    instance = dg.DagsterInstance.from_config(str(data_dir / "home"))
    records = instance.get_run_records(dg.RunsFilter(job_name="daily_refresh"))
    assert len(records) == 2 and all(r.end_time for r in records)
    launched = [
        instance.get_records_for_run(r.dagster_run.run_id, of_type=dg.DagsterEventType.RUN_STARTING)
        .records[0]
        .timestamp
        for r in records
    ]
    return max(launched) < min(r.end_time for r in records)


def run_together(data_dir: Path, dagster_postgres: str | None = None) -> None:
    """Two commands started together, one county each (two terminals, or a schedule and a person)."""
    first = start(data_dir, "85031", dagster_postgres=dagster_postgres)
    second = start(data_dir, "85035", dagster_postgres=dagster_postgres)
    outputs = [finish(first), finish(second)]
    assert all("Checks:" in output and "0 failed" in output for output in outputs), outputs


@pytest.fixture(scope="module")
def one_after_the_other(tmp_path_factory) -> dict[str, pl.DataFrame]:
    """The two ZIPs run in-process one after the other, then one build: what both halves must equal
    (pytest-xdist computes it once per worker that runs a half)."""
    apart = make_platform(
        tmp_path_factory.mktemp("apart") / "data", env={"OLLAMA_HOST": NO_MODEL, "PHOENIX_MARKETS_FILE": TWO_COUNTIES}
    )
    outcomes = apart.run(day=DAY, zip_codes=["85031", "85035"])
    assert len(outcomes) == 2 and all(outcome.success for outcome in outcomes)  # one run per county
    return warehouse_contents(apart.settings.data_dir)


def assert_same_warehouse(data_dir: Path, sequential: dict[str, pl.DataFrame], storage: str) -> None:
    concurrent = warehouse_contents(data_dir)
    assert concurrent.keys() == sequential.keys()
    for table, frame in sequential.items():
        assert concurrent[table].equals(frame), (storage, table)
    assert concurrent["marts.zip_market_stats"]["PostalCode"].to_list() == ["85031", "85035"]
    assert concurrent["marts.properties"].height == 255 + 237
    assert sorted(set(concurrent["marts.properties"]["county_fips"])) == ["04013", "04021"]


@pytest.mark.timeout(600)  # ~100 s alone: a command's process starts, more under the whole suite's load
def test_one_command_runs_a_days_counties_at_once_on_sqlite_and_builds_the_same_warehouse(
    tmp_path, one_after_the_other
):
    """On the default SQLite instance storage: one command whose queue runs the two counties at once."""
    finish(start(tmp_path / "sqlite", "85031", "85035", max_concurrent_runs=2))
    assert partition_runs_overlapped(tmp_path / "sqlite")
    assert_same_warehouse(tmp_path / "sqlite", one_after_the_other, "sqlite")


@pytest.mark.timeout(600)  # ~100 s alone: two commands' process starts, more under the whole suite's load
def test_two_commands_started_together_on_postgresql_build_the_same_warehouse(tmp_path, one_after_the_other):
    """On PostgreSQL (dagster-postgres, as a deployment configures it with
    PHOENIX_DAGSTER_POSTGRES_URL): two commands started together, one county each, on one data directory."""
    with fresh_postgres_database() as database:  # skips, saying why, without PostgreSQL
        run_together(tmp_path / "postgresql", dagster_postgres=database)
        assert "postgres" in (tmp_path / "postgresql" / "home" / "dagster.yaml").read_text()
        assert not (tmp_path / "postgresql" / "home" / "history").exists()  # no SQLite run storage
        import psycopg2

        with psycopg2.connect(database.replace("+psycopg2", "")) as conn, conn.cursor() as cursor:
            cursor.execute("select count(*) from runs where pipeline_name = 'daily_refresh' and status = 'SUCCESS'")
            assert cursor.fetchone()[0] == 2  # the runs are in PostgreSQL
    assert_same_warehouse(tmp_path / "postgresql", one_after_the_other, "postgresql")
