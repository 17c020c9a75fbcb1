"""A `daily_refresh` run with PHOENIX_EXECUTOR=celery executes its steps on two Celery worker
processes consuming from the machine's RabbitMQ, and the warehouse built after it equals the one
built after the same run in-process. The broker's URL (with its password) stays a secret."""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import psutil
import pytest
from services import service_url
from shared_demo import DAY, ZIP, copy_of
from test_concurrent_runs import warehouse_contents

from phoenix_dagster.graph.pools import run_worker
from phoenix_dagster.settings import PROJECT_ROOT

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(600),
]  # worker start-up and two runs: 151 s in the whole suite on 2026-12-03

WORKER_READY_S = 60


def start_run(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "phoenix_dagster.cli", "run", "--date", DAY, "--zip", ZIP],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen) -> str:
    output, _ = process.communicate(timeout=240)
    assert process.returncode == 0 and "0 failed" in output, output
    return output


def start_worker(name: str, queue: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    """One Celery worker process (its own process group, so it and its pool child die together)
    executing one step at a time from the queue."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "phoenix_dagster.celery_worker",
        "worker",
        "-Q",
        queue,
        "-n",
        f"{name}@%h",
        "--concurrency",
        "1",
        "--prefetch-multiplier",
        "1",
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "INFO",
    ]
    with open(log, "w") as out:
        return subprocess.Popen(
            command, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_until_ready(workers: dict[str, subprocess.Popen], logs: dict[str, Path]) -> None:
    deadline = time.monotonic() + WORKER_READY_S
    waiting = set(workers)
    while waiting and time.monotonic() < deadline:
        for name in list(waiting):
            assert workers[name].poll() is None, f"worker {name} exited:\n{logs[name].read_text()}"
            if f"{name}@{socket.gethostname()} ready." in logs[name].read_text():
                waiting.discard(name)
        time.sleep(0.3)
    assert not waiting, {name: logs[name].read_text()[-2000:] for name in waiting}


def stop(workers: dict[str, subprocess.Popen]) -> None:
    for process in workers.values():
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def delete_queue(broker: str, queue: str) -> None:
    from kombu import Connection

    with Connection(broker) as connection:
        connection.default_channel.queue_delete(queue)


def worker_processes(workers: dict[str, subprocess.Popen]) -> dict[int, str]:
    """pid → worker name, for each worker and its pool process."""
    pids = {}
    for name, process in workers.items():
        main = psutil.Process(process.pid)
        pids.update({p.pid: name for p in [main, *main.children(recursive=True)]})
    return pids


def partition_run(data_dir: Path) -> tuple[dg.DagsterRun, list]:
    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        [run] = instance.get_runs(dg.RunsFilter(job_name="daily_refresh"))
        return run, list(instance.all_logs(run.run_id))


def steps_by_celery_worker(events: list) -> dict[str, str]:
    """Step key → the Celery worker that executed it, from dagster-celery's engine events."""
    executed = {}
    for entry in events:
        event = entry.dagster_event
        if event is not None and event.event_type_value == "ENGINE_EVENT" and event.step_key:
            metadata = event.engine_event_data.metadata or {}
            if "Celery worker" in metadata:
                executed[event.step_key] = metadata["Celery worker"].value.split("@")[0]
    return executed


def files_containing(root: Path, secret: bytes) -> list[str]:
    return [str(path) for path in root.rglob("*") if path.is_file() and secret in path.read_bytes()]


def test_celery_workers_execute_the_partition_and_build_the_same_warehouse_as_in_process(tmp_path, shared_demo):
    broker = service_url("rabbitmq")  # skips, naming the address, when no RabbitMQ answers
    credentials = broker.split("//", 1)[1].split("@", 1)[0]
    queue = f"phoenix_test_{uuid.uuid4().hex[:12]}"  # no other test's (or leftover) worker consumes it
    names = [f"phoenix-a-{queue[-6:]}", f"phoenix-b-{queue[-6:]}"]
    # The same run in-process: the session's demo run (tests/shared_demo.py), in the same deployment.
    in_process = copy_of(shared_demo, tmp_path / "in_process")
    celery_dir = tmp_path / "celery"
    env = {
        **in_process.env,
        "PHOENIX_DATA_DIR": str(celery_dir),
        "DAGSTER_HOME": str(celery_dir / "dagster_home"),
        "PHOENIX_EXECUTOR": "celery",
        "PHOENIX_CELERY_QUEUE": queue,
        "PHOENIX_CELERY_BROKER": broker,
    }
    logs = {name: tmp_path / f"{name}.log" for name in names}
    workers = {}
    try:
        for name in names:
            workers[name] = start_worker(name, queue, env, logs[name])
        wait_until_ready(workers, logs)
        started = time.perf_counter()
        output = finish(start_run(env))
        print(f"celery: {time.perf_counter() - started:.1f}s for the run command\n{output}")
        worker_pids = worker_processes(workers)
    finally:
        stop(workers)
        delete_queue(broker, queue)

    run, events = partition_run(celery_dir)
    assert run.is_success
    executed = steps_by_celery_worker(events)
    succeeded = {
        entry.dagster_event.step_key: entry.dagster_event.pid
        for entry in events
        if entry.dagster_event is not None and entry.dagster_event.is_step_success
    }
    assert set(executed) == set(succeeded) and len(succeeded) > 20  # every step, as a Celery task
    assert set(executed.values()) == set(names), executed  # on both workers
    assert {worker_pids.get(pid) for pid in succeeded.values()} == set(names)  # in their processes
    assert (
        run_worker(run.tags) is None
    )  # steps run in Celery workers (any machine): the run names no worker to judge  # a step worker is not the run's worker

    celery_warehouse, in_process_warehouse = warehouse_contents(celery_dir), warehouse_contents(in_process.data_dir)
    assert celery_warehouse.keys() == in_process_warehouse.keys()
    for table, frame in in_process_warehouse.items():
        assert celery_warehouse[table].equals(frame), table
    assert celery_warehouse["marts.properties"].height == 255

    if credentials.count(":") == 1:  # the broker URL holds a password: in no file, log or output
        assert not files_containing(celery_dir, credentials.encode()), "the broker's password was written"
        assert all(credentials not in log.read_text() for log in logs.values()) and credentials not in output
