"""Runs made from the code location as the workspace loads it — the same way `dagster dev`, the
schedules and the sensors make them — and executed in this process.

`phoenix-estate run` opens the project's workspace.yaml (a code server is started for it, as the
UI does), creates each run from the code location's job: the run carries the repository origin
and the `.dagster/repository` tag, so it shows on the job's Runs tab and the Overview timeline,
and re-executing it from the UI is the same job version. Sensor ticks read and write the
sensor's own instigator state, so the CLI and the daemon share one cursor."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster._core.definitions.selector import JobSubsetSelector
from dagster._core.execution.api import execute_run
from dagster._core.scheduler.instigation import InstigatorState, InstigatorType, SensorInstigatorData
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import ModuleTarget, WorkspaceFileTarget
from dagster._utils.hosted_user_process import recon_job_from_origin

from phoenix_dagster.local_runs import SensorTick

PROJECT_WORKSPACE = Path(__file__).resolve().parents[1] / "workspace.yaml"
LOCATION_NAME = "phoenix_real_estate"


def workspace_target():
    """The project's workspace.yaml when the package runs from its checkout; otherwise the same
    code location named by module."""
    if PROJECT_WORKSPACE.exists():
        return WorkspaceFileTarget([str(PROJECT_WORKSPACE)])
    return ModuleTarget(module_name="phoenix_dagster.code_location", attribute="defs", working_directory=None,
                        location_name=LOCATION_NAME)


class WorkspaceJobs:
    """The code location's jobs and sensors (use as a context manager: it owns a code server)."""

    def __init__(self, instance: dg.DagsterInstance):
        self.instance = instance
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

    def execute(self, job_name: str, *, run_config: dict, tags: dict, partition_key: str | None = None):
        remote_job = self.location.get_job(JobSubsetSelector(
            location_name=self.location.name, repository_name=self.repository.name, job_name=job_name,
            op_selection=None))
        recon_job = recon_job_from_origin(remote_job.get_python_origin())
        if partition_key is not None:
            tags = {**tags, **recon_job.get_definition().get_tags_for_partition_key(partition_key, None)}
        plan = self.location.get_execution_plan(remote_job, run_config, step_keys_to_execute=None, known_state=None,
                                                instance=self.instance)
        run = self.instance.create_run(
            job_name=job_name, run_id=None, run_config=run_config, resolved_op_selection=None,
            step_keys_to_execute=plan.execution_plan_snapshot.step_keys_to_execute, op_selection=None, status=None,
            root_run_id=None, parent_run_id=None, tags={**remote_job.tags, **tags},
            job_snapshot=remote_job.job_snapshot, execution_plan_snapshot=plan.execution_plan_snapshot,
            parent_job_snapshot=remote_job.parent_job_snapshot, remote_job_origin=remote_job.get_remote_origin(),
            job_code_origin=remote_job.get_python_origin(), asset_selection=None, asset_check_selection=None,
            asset_graph=self.repository.asset_graph)
        return execute_run(recon_job, run, self.instance)

    def _state(self, name: str):
        sensor = self.repository.get_sensor(name)
        return sensor, self.instance.get_instigator_state(sensor.get_remote_origin_id(), sensor.selector_id)

    def evaluate_sensor(self, name: str) -> SensorTick:
        sensor, state = self._state(name)
        data = state.instigator_data if state is not None else None
        result = self.location.get_sensor_execution_data(
            self.instance, self.repository.handle, name,
            last_tick_completion_time=getattr(data, "last_tick_timestamp", None),
            last_run_key=getattr(data, "last_run_key", None), cursor=getattr(data, "cursor", None), log_key=None,
            last_sensor_start_time=getattr(data, "last_sensor_start_timestamp", None))
        return SensorTick(list(result.run_requests or []), result.skip_message, result.cursor)

    def save_cursor(self, name: str, cursor: str | None) -> None:
        """Into the sensor's instigator state, where the daemon keeps it; a sensor never started
        keeps its default status (stopped)."""
        if cursor is None:
            return
        sensor, state = self._state(name)
        if state is None:
            self.instance.add_instigator_state(InstigatorState(
                sensor.get_remote_origin(), InstigatorType.SENSOR, sensor.get_current_instigator_state(None).status,
                SensorInstigatorData(min_interval=sensor.min_interval_seconds, cursor=cursor,
                                     sensor_type=sensor.sensor_type)))
        else:
            self.instance.update_instigator_state(state.with_data(state.instigator_data._replace(cursor=cursor)))
