"""Runs made from the code location as the workspace loads it — the same way `dagster dev`, the
schedules and the sensors make them — submitted to the instance's run queue and launched each in
its own process by the code server; this process waits for them (and dequeues its own runs when
no daemon serves the queue).

`phoenix-estate run` opens the project's workspace.yaml (a code server is started for it, as the
UI does), creates each run from the code location's job: the run carries the repository origin
and the `.dagster/repository` tag, so it shows on the job's Runs tab and the Overview timeline,
and re-executing it from the UI is the same job version. Sensor ticks read and write the
sensor's own instigator state, so the CLI and the daemon share one cursor."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from phoenix_dagster.automation.dagster_private import (
    InstigatorState,
    InstigatorType,
    JobSubsetSelector,
    ModuleTarget,
    OwnRunsDequeuer,
    SensorInstigatorData,
    WorkspaceFileTarget,
    WorkspaceProcessContext,
    daemon_dequeues,
    recon_job_from_origin,
)
from phoenix_dagster.automation.sensors import FINISHED
from phoenix_dagster.cli.local_runs import FinishedRun, RunSpec, SensorTick
from phoenix_dagster.graph.pools import free_slots_of_dead_runs

PROJECT_WORKSPACE = Path(__file__).resolve().parents[1] / "workspace.yaml"
LOCATION_NAME = "phoenix_real_estate"
POLL_S = 0.5


def workspace_target():
    """The project's workspace.yaml when the package runs from its checkout; otherwise the same
    code location named by module."""
    if PROJECT_WORKSPACE.exists():
        return WorkspaceFileTarget([str(PROJECT_WORKSPACE)])
    return ModuleTarget(
        module_name="phoenix_dagster.code_location",
        attribute="defs",
        working_directory=None,
        location_name=LOCATION_NAME,
    )


class WorkspaceJobs:
    """The code location's jobs and sensors (use as a context manager: it owns a code server)."""

    def __init__(self, instance: dg.DagsterInstance, lock_dir: Path):
        self.instance, self.lock_dir = instance, lock_dir
        self._process: WorkspaceProcessContext | None = None

    def __enter__(self) -> WorkspaceJobs:
        self._process = WorkspaceProcessContext(self.instance, workspace_target(), code_server_log_level="WARNING")
        self._process.__enter__()
        workspace = self._process.create_request_context()
        errors = workspace.get_code_location_error(LOCATION_NAME)
        if errors is not None:
            raise RuntimeError(f"the code location {LOCATION_NAME} did not load: {errors.message.strip()}")
        self.location = workspace.get_code_location(LOCATION_NAME)
        [self.repository] = self.location.get_repositories().values()
        return self

    def __exit__(self, *exc) -> None:
        if self._process is not None:
            self._process.__exit__(*exc)

    @property
    def defs(self) -> dg.Definitions:
        from phoenix_dagster.code_location import defs  # the same module the code server loaded

        return defs

    def run_all(self, specs: list[RunSpec]) -> Iterator[tuple[RunSpec, FinishedRun]]:
        """Submit every run to the instance's run queue, then wait for each to end. The queue
        launches as many at once as the instance's `max_concurrent_runs` (and tag limits) allow,
        each in its own process started by the code server (the DefaultRunLauncher). A running
        `dagster-daemon` dequeues them; without one this process does the daemon's dequeuing."""
        submitted = {self._submit(spec): spec for spec in specs}
        yield from ((submitted[run_id], finished) for run_id, finished in self._wait(list(submitted)))

    def _submit(self, spec: RunSpec) -> str:
        run = self._create_run(
            spec.job_name, run_config=spec.run_config, tags=spec.tags, partition_key=spec.partition_key
        )
        self.instance.submit_run(run.run_id, self._process.create_request_context())
        return run.run_id

    def _wait(self, run_ids: list[str]) -> Iterator[tuple[str, FinishedRun]]:
        waiting = set(run_ids)
        with OwnRunsDequeuer(waiting) as dequeuer:
            while waiting:
                if not daemon_dequeues(self.instance):
                    dequeuer.dequeue(self._process, lock_dir=self.lock_dir)
                free_slots_of_dead_runs(self.instance)  # a killed worker's run is failed, not waited on
                for record in self.instance.get_run_records(dg.RunsFilter(run_ids=list(waiting))):
                    if record.dagster_run.status in FINISHED:
                        waiting.discard(record.dagster_run.run_id)
                        yield record.dagster_run.run_id, self._finished(record)
                if waiting:
                    time.sleep(POLL_S)

    def _finished(self, record) -> FinishedRun:
        run = record.dagster_run
        seconds = (record.end_time or time.time()) - (record.start_time or record.create_timestamp.timestamp())
        events = [entry.dagster_event for entry in self.instance.all_logs(run.run_id) if entry.is_dagster_event]
        return FinishedRun(run.run_id, run.status == dg.DagsterRunStatus.SUCCESS, seconds, events)

    def _create_run(self, job_name: str, *, run_config: dict, tags: dict, partition_key: str | None = None):
        remote_job = self.location.get_job(
            JobSubsetSelector(
                location_name=self.location.name,
                repository_name=self.repository.name,
                job_name=job_name,
                op_selection=None,
            )
        )
        recon_job = recon_job_from_origin(remote_job.get_python_origin())
        if partition_key is not None:
            tags = {**tags, **recon_job.get_definition().get_tags_for_partition_key(partition_key, None)}
        plan = self.location.get_execution_plan(
            remote_job, run_config, step_keys_to_execute=None, known_state=None, instance=self.instance
        )
        run = self.instance.create_run(
            job_name=job_name,
            run_id=None,
            run_config=run_config,
            resolved_op_selection=None,
            step_keys_to_execute=plan.execution_plan_snapshot.step_keys_to_execute,
            op_selection=None,
            status=None,
            root_run_id=None,
            parent_run_id=None,
            tags={**remote_job.tags, **tags},
            job_snapshot=remote_job.job_snapshot,
            execution_plan_snapshot=plan.execution_plan_snapshot,
            parent_job_snapshot=remote_job.parent_job_snapshot,
            remote_job_origin=remote_job.get_remote_origin(),
            job_code_origin=remote_job.get_python_origin(),
            asset_selection=None,
            asset_check_selection=None,
            asset_graph=self.repository.asset_graph,
        )
        return run

    def _state(self, name: str):
        sensor = self.repository.get_sensor(name)
        return sensor, self.instance.get_instigator_state(sensor.get_remote_origin_id(), sensor.selector_id)

    def evaluate_sensor(self, name: str) -> SensorTick:
        _sensor, state = self._state(name)
        data = state.instigator_data if state is not None else None
        result = self.location.get_sensor_execution_data(
            self.instance,
            self.repository.handle,
            name,
            last_tick_completion_time=getattr(data, "last_tick_timestamp", None),
            last_run_key=getattr(data, "last_run_key", None),
            cursor=getattr(data, "cursor", None),
            log_key=None,
            last_sensor_start_time=getattr(data, "last_sensor_start_timestamp", None),
        )
        return SensorTick(list(result.run_requests or []), result.skip_message, result.cursor)

    def save_cursor(self, name: str, cursor: str | None) -> None:
        """Into the sensor's instigator state, where the daemon keeps it; a sensor never started
        keeps its default status (stopped)."""
        if cursor is None:
            return
        sensor, state = self._state(name)
        if state is None:
            self.instance.add_instigator_state(
                InstigatorState(
                    sensor.get_remote_origin(),
                    InstigatorType.SENSOR,
                    sensor.get_current_instigator_state(None).status,
                    SensorInstigatorData(
                        min_interval=sensor.min_interval_seconds, cursor=cursor, sensor_type=sensor.sensor_type
                    ),
                )
            )
        else:
            self.instance.update_instigator_state(state.with_data(state.instigator_data._replace(cursor=cursor)))
