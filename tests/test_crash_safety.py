"""A run killed with SIGKILL in the middle of collection, then run again, ends with the same
marts as a run that was never interrupted (run in-process: the same job, without the command's
process starts): nothing lost, duplicated or half-written."""

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
    }


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
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
        assert killed.returncode == -signal.SIGKILL
        assert len(server.requests_to("/parcel/")) < 200  # it really died in the middle
        assert not (tmp_path / "crashed" / "lake" / "raw_assessor_payloads").exists()  # nothing half-written
        again = start(tmp_path / "crashed", server)
        output, _ = again.communicate(timeout=300)
        assert again.returncode == 0, output
        whole = make_platform(tmp_path / "whole", env=county_settings(server))
        [outcome] = whole.run(day=DAY, zip_codes=[ZIP])
        assert outcome.success and whole.builds[-1].success, (outcome.error, whole.builds[-1].error)
    recovered, uninterrupted = marts(tmp_path / "crashed"), marts(tmp_path / "whole")
    for table in MARTS:
        assert recovered[table].equals(uninterrupted[table]), table
    assert recovered["marts.properties"].height == 255
