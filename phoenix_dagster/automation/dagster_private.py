"""Every use of Dagster's private modules (`dagster._…`), in one place: what the platform needs
and Dagster's public API does not offer (as of 1.13.27). An upgrade that changes any of it breaks
this module's pinning test (tests/test_dagster_private.py), not the code spread around it.

- Runs created from the code location as `dagster dev` creates them (the job's remote origin
  and snapshot, so the UI lists them on the job's page and re-executes the same version):
  `WorkspaceProcessContext`, the workspace targets, `JobSubsetSelector`, `recon_job_from_origin`.
- The run queue without a daemon: the daemon's own dequeuing (`QueuedRunCoordinatorDaemon`),
  limited to this process's runs by overriding its `_get_runs_to_dequeue`; whether a healthy
  daemon serves the instance (`get_daemon_statuses`).
- A sensor's cursor kept where the daemon keeps it (`InstigatorState`, `SensorInstigatorData`).
- A check's execution status filter (`AssetCheckExecutionRecordStatus`) for the event log's
  check history.
- A Dagster config resolved as a run's start resolves it (`post_process_config`: environment
  variables read), and validated (`validate_config`) — the Celery executor's.
- For the tests: the instance config reader, the queued coordinator, serialisation and a
  check evaluation's target materialization, as the documented deployments load them.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterable
from pathlib import Path

import dagster as dg
from dagster._config import post_process_config, validate_config
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)
from dagster._core.definitions.selector import JobSubsetSelector
from dagster._core.instance.config import dagster_instance_config
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.scheduler.instigation import (
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    SensorInstigatorData,
)
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import ModuleTarget, WorkspaceFileTarget
from dagster._daemon.controller import get_daemon_statuses
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon
from dagster._serdes import serialize_value
from dagster._utils.hosted_user_process import recon_job_from_origin

__all__ = [
    "AssetCheckEvaluationTargetMaterializationData",
    "AssetCheckExecutionRecordStatus",
    "InstigatorState",
    "InstigatorStatus",
    "InstigatorType",
    "JobSubsetSelector",
    "ModuleTarget",
    "OwnRunsDequeuer",
    "QueuedRunCoordinator",
    "QueuedRunCoordinatorDaemon",
    "SensorInstigatorData",
    "WorkspaceFileTarget",
    "WorkspaceProcessContext",
    "daemon_dequeues",
    "dagster_instance_config",
    "finished_check_statuses",
    "recon_job_from_origin",
    "resolved_config",
    "serialize_value",
    "validate_config",
]

TESTED_VERSION = "1.13.27"  # the version whose private API this module was checked against
DEQUEUER = QueuedRunCoordinatorDaemon.daemon_type()


def daemon_dequeues(instance: dg.DagsterInstance) -> bool:
    """Whether a healthy `dagster-daemon` serves this instance's run queue."""
    status = get_daemon_statuses(instance, [DEQUEUER], ignore_errors=True).get(DEQUEUER)
    return bool(status and status.healthy)


def finished_check_statuses() -> set[AssetCheckExecutionRecordStatus]:
    """The statuses of a check execution that has a result (not planned, not skipped)."""
    return {AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED}


def resolved_config(config_schema, value: dict) -> dict:
    """`value` resolved against a definition's config schema as a run's start resolves it:
    defaults filled in, `{"env": NAME}` read from the environment."""
    return post_process_config(config_schema.config_type, value).value


class OwnRunsDequeuer(QueuedRunCoordinatorDaemon):
    """The daemon's dequeuing, for the runs of `run_ids` only: this process launches them through
    its own code server and waits for them, so it must not adopt another process's runs. Two
    processes dequeue in turn under a file lock (the daemon's check that a run is still queued
    and its STARTING mark happen inside it), so the queue's limits hold across them."""

    def __init__(self, run_ids: Iterable[str]):
        super().__init__(interval_seconds=1)
        self.run_ids = run_ids

    def _get_runs_to_dequeue(self, instance, concurrency_config, fixed_iteration_time=None):
        allowed = super()._get_runs_to_dequeue(instance, concurrency_config, fixed_iteration_time=fixed_iteration_time)
        return [run for run in allowed if run.run_id in self.run_ids]

    def dequeue(self, process: WorkspaceProcessContext, *, lock_dir: Path) -> None:
        with open(lock_dir / ".dequeue.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            for _ in self.run_iteration(process):
                pass
