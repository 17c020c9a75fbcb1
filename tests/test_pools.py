"""Concurrency pools on a real instance (SQLite storage under DAGSTER_HOME, as `make ui` uses):
the project sets their limits at start-up, two runs started together take turns on the county,
and a run killed with SIGKILL does not keep its slot."""

import os
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit

import dagster as dg
import pytest
from platform_harness import first_date
from servers.maricopa import MaricopaContractServer, delay

from phoenix_dagster.cli.local_runs import local_instance
from phoenix_dagster.graph.pools import (
    WORKER_TAG,
    apply_pool_limits,
    free_slots_of_dead_runs,
    run_worker,
    worker_is_gone,
    worker_tags,
)
from phoenix_dagster.settings import SAMPLE_DIR, Settings

pytestmark = pytest.mark.integration

TOKEN = "pool-test-token"
DAY = "2026-11-28"


def env_for(data_dir, server, **extra) -> dict:
    env = {
        **os.environ,
        "PHOENIX_FIRST_DATE": first_date(),
        "PHOENIX_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(data_dir / "home"),
        "PHOENIX_ASSESSOR_SOURCE": "maricopa",
        "MARICOPA_API_URL": server.url,
        "MARICOPA_API_TOKEN": TOKEN,
        "MARICOPA_RATE_LIMIT_PER_HOUR": "1000000",
        "MARICOPA_CONCURRENCY": "2",
        "OLLAMA_HOST": "http://127.0.0.1:9",
        **extra,
    }
    env.pop("MONGODB_URI", None)
    return env


def start(env: dict, zip_code: str) -> subprocess.Popen:
    """Partitions only: the pools concern collection, and two builds would only take turns."""
    return subprocess.Popen(
        [sys.executable, "-m", "phoenix_dagster.cli", "run", "--date", DAY, "--zip", zip_code, "--no-build"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def test_pool_limits_are_set_in_the_instance_database_at_start_up(tmp_path):
    settings = Settings.from_env(
        {
            "PHOENIX_DATA_DIR": str(tmp_path),
            "MARICOPA_POOL_LIMIT": "2",
            "PHOENIX_ASSESSOR_SOURCE": "maricopa",
            "PHOENIX_LISTING_SOURCE": "sample,csv_inbox",
        }
    )
    instance = local_instance(settings)
    limits = {pool.name: pool.limit for pool in instance.event_log_storage.get_pool_limits()}
    # one pool per source that calls out or shares files; the embedded sample needs none
    assert limits == {"maricopa_api": 2, "listing_source_csv_inbox": 1}
    assert [source.pool for source in settings.configured_sources] == [
        "maricopa_api",
        None,  # the sample listings
        "listing_source_csv_inbox",
    ]  # each source's pool is its descriptor's
    assert apply_pool_limits(instance, {"maricopa_api": 1}) == {"maricopa_api": 1}  # a changed setting is applied
    assert "concurrency" in (settings.dagster_home / "dagster.yaml").read_text()


def test_a_worker_is_gone_only_when_its_process_is(tmp_path):
    assert not worker_is_gone(worker_tags())  # this process
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    host, pid, started = worker_tags()[WORKER_TAG].split(":", 2)
    assert (host, pid) == (socket.gethostname(), str(os.getpid())) and started.startswith("20")
    assert worker_is_gone({WORKER_TAG: f"{host}:{child.pid}:{started}"})
    assert worker_is_gone({WORKER_TAG: f"{host}:{pid}:2001-01-01T00:00:00.000+00:00"})  # the pid reused
    assert not worker_is_gone({WORKER_TAG: f"another-machine:{child.pid}:{started}"})  # not judged from here
    assert not worker_is_gone({}) and not worker_is_gone({WORKER_TAG: "garbled"})
    legacy = {"phoenix/worker_pid": str(child.pid), "phoenix/worker_host": host, "phoenix/worker_started": started}
    assert worker_is_gone(legacy)  # a run started before the upgrade, its worker dead since


def zip_of_request(server: MaricopaContractServer, path: str) -> str:
    if path.startswith("/search"):
        return parse_qs(urlsplit(path).query)["q"][0]
    apn = path.rsplit("/", 1)[-1]
    return next(z for z, rows in server.search_rows.items() if any(r["APN"].replace("-", "") == apn for r in rows))


def test_two_runs_started_together_take_turns_on_the_county(tmp_path):
    with MaricopaContractServer.from_sample(SAMPLE_DIR, token=TOKEN) as server:
        for apn in server.parcels:
            server.fail(f"/parcel/{apn}", delay(0.005))
        env = env_for(tmp_path, server, MARICOPA_POOL_LIMIT="1")  # with 2 the spans overlap (checked)
        runs = [start(env, z) for z in ("85031", "85033")]  # one data dir, one instance
        outputs = [run.communicate(timeout=400)[0] for run in runs]
        assert [run.returncode for run in runs] == [0, 0], outputs
        seen = list(server.seen)
    spans, probed = {}, set()
    for request in seen:
        zip_code = zip_of_request(server, request.path)
        if zip_code not in probed:  # each run's first request is service_preflight's probe (page 1 of its
            probed.add(zip_code)  # ZIP), which holds no slot: a run's go/no-go waits for no collection
            assert "page=1" in request.path, request.path
            continue
        first, last = spans.get(zip_code, (request.at, request.at))
        spans[zip_code] = (min(first, request.at), max(last, request.at))
    assert set(spans) == {"85031", "85033"}
    (_a_start, a_end), (b_start, _b_end) = sorted(spans.values())
    assert a_end < b_start, spans  # the pool's one slot: the second collection began after the first ended
    expected = {z: sum(1 for r in seen if zip_of_request(server, r.path) == z) for z in spans}
    assert all(count > 100 for count in expected.values())  # each really collected its ZIP
    instance = dg.DagsterInstance.from_config(str(tmp_path / "home"))
    assert not instance.event_log_storage.get_concurrency_run_ids()  # every slot given back


def test_a_run_killed_holding_the_county_slot_does_not_keep_it(tmp_path):
    with MaricopaContractServer.from_sample(SAMPLE_DIR, token=TOKEN) as server:
        for apn in server.parcels:
            server.fail(f"/parcel/{apn}", delay(0.05))
        env = env_for(tmp_path, server)
        killed = start(env, "85031")
        deadline = time.monotonic() + 120
        while len(server.requests_to("/parcel/")) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        instance = dg.DagsterInstance.from_config(str(tmp_path / "home"))
        [held_by] = instance.event_log_storage.get_concurrency_run_ids()
        worker = run_worker(instance.get_run_by_id(held_by).tags).pid  # the run's process, launched by the queue
        assert worker != killed.pid
        os.kill(worker, signal.SIGKILL)
        os.killpg(killed.pid, signal.SIGKILL)  # and the command (its code server stops when it stops hearing it)
        killed.wait(timeout=30)
        deadline = time.monotonic() + 30  # SIGKILL takes effect asynchronously (a loaded machine: not at once)
        while not worker_is_gone(instance.get_run_by_id(held_by).tags) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert worker_is_gone(instance.get_run_by_id(held_by).tags)
        assert held_by in instance.event_log_storage.get_concurrency_run_ids()  # the dead run still holds the slot
        assert instance.get_run_by_id(held_by).status == dg.DagsterRunStatus.STARTED
        for apn in server.parcels:
            server.faults.pop(f"/parcel/{apn}", None)
        again = start(env, "85033")  # would wait forever for the slot if nobody freed it
        output, _ = again.communicate(timeout=300)
    assert again.returncode == 0, output
    dead = instance.get_run_by_id(held_by)
    assert dead.status == dg.DagsterRunStatus.FAILURE
    assert not instance.event_log_storage.get_concurrency_run_ids()
    assert free_slots_of_dead_runs(instance) == {}  # nothing left to free


def test_a_dead_run_that_holds_no_slot_is_ended_so_it_leaves_the_queue(tmp_path):
    """A sample run killed with its command holds no pool slot: it is ended anyway, so it does not
    stay STARTED for good, one of the queue's places taken forever."""
    import psutil

    instance = dg.DagsterInstance.ephemeral()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    tags = worker_tags(psutil.Process(child.pid))
    child.kill()
    child.wait()

    @dg.op
    def nothing():
        pass

    @dg.job
    def job():
        nothing()

    dead = instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED, tags=tags)
    alive = instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED, tags=worker_tags())
    assert free_slots_of_dead_runs(instance) == {dead.run_id: "worker gone; marked failed"}
    assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
    assert instance.get_run_by_id(alive.run_id).status == dg.DagsterRunStatus.STARTED  # this process lives
