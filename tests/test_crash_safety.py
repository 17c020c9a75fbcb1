"""A run killed with SIGKILL in the middle of collection, then run again, ends with the same
marts as a run that was never interrupted (run in-process: the same job, without the command's
process starts): nothing lost, duplicated or half-written. The second run takes up what the killed
one landed: the county is asked, over both, at most 2% more than by the uninterrupted run."""

import os
import signal
import subprocess
import sys
import time

import duckdb
import polars as pl
import pytest
from platform_harness import first_date, make_platform
from servers.maricopa import MaricopaContractServer, delay

from phoenix_dagster.settings import SAMPLE_DIR

pytestmark = pytest.mark.integration

TOKEN = "crash-test-token"
DAY, ZIP = "2026-11-28", "85031"
MARTS = ("marts.properties", "marts.zip_market_stats", "marts.listing_facts", "marts.listing_match_rates")
WHEN = ("first_seen_at", "last_seen_at")  # sightings: when the county was asked


def county_settings(server) -> dict[str, str]:
    return {
        "PHOENIX_ASSESSOR_SOURCE": "maricopa",
        "MARICOPA_API_URL": server.url,
        "MARICOPA_API_TOKEN": TOKEN,
        "MARICOPA_RATE_LIMIT_PER_HOUR": "1000000",
        "MARICOPA_CONCURRENCY": "2",
        "OLLAMA_HOST": "http://127.0.0.1:9",
        # A part every 2 replies: a kill loses at most one landed-but-unwritten reply and the two in
        # flight (the default, 250 replies or 30 s, is the same bound at a county's scale).
        "PHOENIX_RAW_PART_REPLIES": "2",
    }


def collection_requests(server) -> int:
    """Requests the collections made (search pages and details; not the services' probes)."""
    return len(server.requests_to("/search/property")) + len(server.requests_to("/parcel/"))


def start(data_dir, server) -> subprocess.Popen:
    env = {
        **os.environ,
        "PHOENIX_FIRST_DATE": first_date(),
        "PHOENIX_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(data_dir / "home"),
        **county_settings(server),
    }
    env.pop("MONGODB_URI", None)
    return subprocess.Popen(
        [sys.executable, "-m", "phoenix_dagster.cli", "run", "--date", DAY, "--zip", ZIP],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the command and the run worker it launches
    )


def marts(data_dir) -> dict[str, pl.DataFrame]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as conn:
        frames = {table: conn.execute(f"select * from {table}").pl() for table in MARTS}
    return {
        table: frame.drop([c for c in WHEN if c in frame.columns]).sort(frame.columns[0])
        for table, frame in frames.items()
    }


def test_a_run_killed_mid_collection_and_run_again_equals_an_uninterrupted_one(tmp_path, monkeypatch):
    monkeypatch.setenv("MARICOPA_API_TOKEN", TOKEN)  # the in-process run's resources read it through EnvVar
    with MaricopaContractServer.from_sample(SAMPLE_DIR, token=TOKEN) as server:
        for apn in server.parcels:
            server.fail(f"/parcel/{apn}", delay(0.02))  # slow enough to be caught in the middle
        killed = start(tmp_path / "crashed", server)
        deadline = time.monotonic() + 120
        while len(server.requests_to("/parcel/")) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(
            killed.pid, signal.SIGKILL
        )  # the command and its run's worker, as a lost machine or the OOM killer would
        killed.wait(timeout=30)
        assert killed.returncode == -signal.SIGKILL
        assert len(server.requests_to("/parcel/")) < 200  # it really died in the middle
        raw = tmp_path / "crashed" / "lake" / "raw_assessor_payloads"
        assert list(raw.rglob("part-*.parquet")) and not list(raw.rglob("_collected.parquet"))  # landed, not ended
        again = start(tmp_path / "crashed", server)
        output, _ = again.communicate(timeout=300)
        assert again.returncode == 0, output
        interrupted_requests = collection_requests(server)
        whole = make_platform(tmp_path / "whole", env=county_settings(server))
        [outcome] = whole.run(day=DAY, zip_codes=[ZIP])
        assert outcome.success and whole.builds[-1].success, (outcome.error, whole.builds[-1].error)
        clean_requests = collection_requests(server) - interrupted_requests
    print(f"county collection requests: killed + resumed {interrupted_requests}, uninterrupted {clean_requests}")
    assert interrupted_requests <= 1.02 * clean_requests, (interrupted_requests, clean_requests)
    killed_run, resumed_run = sorted(path for path in raw.rglob("runs/*") if path.is_dir())
    assert not (killed_run / "_collected.parquet").exists()  # left as it was: the raw layer is append-only
    listed = pl.read_parquet(resumed_run / "_collected.parquet")
    assert set(listed["resumed_from"]) == {killed_run.name.split("__", 1)[1]}
    recovered, uninterrupted = marts(tmp_path / "crashed"), marts(tmp_path / "whole")
    for table in MARTS:
        assert recovered[table].equals(uninterrupted[table]), table
    assert recovered["marts.properties"].height == 255
