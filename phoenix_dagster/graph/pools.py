"""Dagster concurrency pools: limits on steps that share an outside service, across every run
of the instance (the CLI's, the schedule's, the UI's).

A pool's limit lives in the instance's database, not in `dagster.yaml`, so the project sets
it when it opens the instance (`apply_pool_limits`, from `local_instance` and `phoenix-estate
instance`). A run that dies without ending (SIGKILL, a lost machine) keeps the slots it
claimed; `free_slots_of_dead_runs` ends such runs as failed and frees their slots. It is
called when a run starts (by the `run_worker` resource) and when the CLI opens the instance;
Dagster's run monitoring (`free_slots_after_run_end_seconds` in `dagster.yaml`) frees the
slots of runs that ended but did not release them.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from typing import NamedTuple

import dagster as dg
import psutil

WORKER_TAG = "phoenix/worker"  # host:pid:start of the process that claims the run's pool slots
# The three tags a run carried before (a run still in progress across the upgrade is judged by them).
LEGACY_PID_TAG, LEGACY_HOST_TAG, LEGACY_STARTED_TAG = (
    "phoenix/worker_pid",
    "phoenix/worker_host",
    "phoenix/worker_started",
)
LAUNCHED_BY_TAG = "phoenix/launched_by"  # runs the command line made (the UI says "Manually launched")


def pool_limits(settings) -> dict[str, int]:
    """The limits this deployment sets on the pools its sources' collection steps wait in (each
    source's descriptor names its pool, and its limit when its own settings say it, as
    MARICOPA_POOL_LIMIT does; PHOENIX_LISTING_POOL_LIMIT otherwise). The embedded sample shares
    nothing and is in no pool, so a day's partitions collect at once."""
    return {
        source.pool: (
            source.pool_limit(settings.settings_of(source)) if source.pool_limit else settings.listing_pool_limit
        )
        for source in settings.configured_sources
        if source.pool
    }


def apply_pool_limits(instance: dg.DagsterInstance, limits: dict[str, int]) -> dict[str, int]:
    """Set each pool's limit in the instance's database; returns the limits now in force."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return {}
    current = {pool.name: pool.limit for pool in storage.get_pool_limits()}
    for pool, limit in limits.items():
        if current.get(pool) != limit:
            storage.set_concurrency_slots(pool, limit)
    return {pool.name: pool.limit for pool in storage.get_pool_limits() if pool.name in limits}


class Worker(NamedTuple):
    host: str
    pid: int
    started: str


def worker_tags(me: psutil.Process | None = None) -> dict[str, str]:
    """The tag naming a run's worker (this process unless given), so a later run can tell whether
    it is alive: one chip in the UI's runs list, `host:pid:start`."""
    me = me or psutil.Process()
    return {WORKER_TAG: f"{socket.gethostname()}:{me.pid}:{_started(me.create_time())}"}


def run_worker(tags: dict[str, str]) -> Worker | None:
    """The worker a run's tags name (None when they name none or cannot be read). A host name
    holds no colon, a pid none: the start time (which does) is the rest."""
    if WORKER_TAG not in tags and LEGACY_PID_TAG in tags:  # a run started before the tags were merged
        host, pid, started = (tags.get(LEGACY_HOST_TAG, ""), tags[LEGACY_PID_TAG], tags.get(LEGACY_STARTED_TAG, ""))
    else:
        host, _, rest = tags.get(WORKER_TAG, "").partition(":")
        pid, _, started = rest.partition(":")
    return Worker(host, int(pid), started) if host and pid.isdigit() and started else None


def _started(timestamp: float) -> str:
    """A process start time as the tag shows it: UTC, to the hundredth of a second (readable in
    the UI, and exact enough to tell a reused pid from the worker)."""
    return datetime.fromtimestamp(round(timestamp, 2), UTC).isoformat(timespec="milliseconds")


def worker_is_gone(tags: dict[str, str]) -> bool:
    """True when the run's worker process ran on this machine and no longer exists (the same pid
    with another start time is another process; a killed one its parent has not reaped yet is a
    zombie). A worker on another machine is not judged."""
    worker = run_worker(tags)
    if worker is None or worker.host != socket.gethostname():
        return False
    try:
        process = psutil.Process(worker.pid)
        return _started(process.create_time()) != worker.started or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def free_slots_of_dead_runs(instance: dg.DagsterInstance, *, except_run: str | None = None) -> dict[str, str]:
    """Runs whose worker is gone, or that have already ended, while holding pool slots: their
    slots are freed, and a run still marked in progress is ended as failed. Runs in progress that
    hold no slot (a sample run, a county run killed outside its collection step) are ended as
    failed too when their worker is gone: otherwise they would count against the run queue's limit
    for good. Returns {run id: what was done}."""
    storage = instance.event_log_storage
    freed = {}
    if storage.supports_global_concurrency_limits:
        for run_id in storage.get_concurrency_run_ids() - {except_run}:
            run = instance.get_run_by_id(run_id)
            if run is None or run.is_finished:
                storage.free_concurrency_slots_for_run(run_id)
                freed[run_id] = "ended; its slots freed"
            elif worker_is_gone(run.tags):
                instance.report_run_failed(
                    run,
                    f"run worker ({run.tags[WORKER_TAG]}) is gone: killed or lost; "
                    "its pool slots were freed by a later run",
                )
                storage.free_concurrency_slots_for_run(run_id)
                freed[run_id] = "worker gone; marked failed, its slots freed"
    in_progress = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]))
    for run in in_progress:
        if run.run_id != except_run and run.run_id not in freed and worker_is_gone(run.tags):
            instance.report_run_failed(
                run,
                f"run worker ({run.tags[WORKER_TAG]}) is gone: killed or lost; "
                "ended by a later run so it no longer holds a place in the run queue",
            )
            freed[run.run_id] = "worker gone; marked failed"
    return freed
