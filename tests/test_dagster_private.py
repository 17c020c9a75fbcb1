"""Dagster's private API, pinned: only phoenix_dagster/automation/dagster_private.py imports
`dagster._…`, and what it relies on still behaves so. A Dagster upgrade that moves or changes any
of it fails here, naming the piece, before the CLI's runs, the sensors or the Celery executor do."""

from __future__ import annotations

import ast
import inspect

import dagster as dg
import pytest

from phoenix_dagster.automation import dagster_private
from phoenix_dagster.automation.dagster_private import (
    AssetCheckExecutionRecordStatus,
    InstigatorState,
    OwnRunsDequeuer,
    QueuedRunCoordinatorDaemon,
    SensorInstigatorData,
    WorkspaceProcessContext,
    finished_check_statuses,
    resolved_config,
)
from phoenix_dagster.settings import PROJECT_ROOT

pytestmark = pytest.mark.unit

CONFINED = PROJECT_ROOT / "phoenix_dagster" / "automation" / "dagster_private.py"


def private_imports(path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dagster._"):
            found.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {node.module}")
        elif isinstance(node, ast.Import):
            found += [
                f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {a.name}"
                for a in node.names
                if a.name.startswith("dagster._")
            ]
    return found


def test_only_the_confined_module_imports_dagsters_private_modules():
    paths = [p for folder in ("phoenix_dagster", "assets", "tests") for p in (PROJECT_ROOT / folder).rglob("*.py")]
    found = [line for path in paths if path != CONFINED for line in private_imports(path)]
    assert found == [], f"import these through {CONFINED.name}: {found}"
    assert private_imports(CONFINED), "the confined module imports nothing private: delete it"


def test_the_dagster_version_is_the_one_the_private_api_was_checked_against():
    assert dg.__version__ == dagster_private.TESTED_VERSION, (
        f"Dagster {dg.__version__}: re-check every use in {CONFINED.name}, then its TESTED_VERSION"
    )


def test_the_daemons_dequeue_step_still_takes_what_our_override_passes():
    parameters = list(inspect.signature(QueuedRunCoordinatorDaemon._get_runs_to_dequeue).parameters)
    assert parameters[:3] == ["self", "instance", "concurrency_config"] and "fixed_iteration_time" in parameters
    assert callable(QueuedRunCoordinatorDaemon.run_iteration)


def test_our_dequeuer_takes_only_its_own_runs(monkeypatch):
    class Run:
        def __init__(self, run_id):
            self.run_id = run_id

    monkeypatch.setattr(
        QueuedRunCoordinatorDaemon,
        "_get_runs_to_dequeue",
        lambda self, instance, config, fixed_iteration_time=None: [Run("mine"), Run("theirs")],
    )
    dequeuer = OwnRunsDequeuer({"mine"})
    assert [r.run_id for r in dequeuer._get_runs_to_dequeue(None, None)] == ["mine"]


def test_a_sensors_state_is_still_built_from_what_we_pass():
    assert {"min_interval", "cursor", "sensor_type"} <= set(inspect.signature(SensorInstigatorData).parameters)
    assert hasattr(InstigatorState, "with_data") and "_replace" in dir(SensorInstigatorData(cursor="c"))
    assert hasattr(WorkspaceProcessContext, "__enter__") and hasattr(WorkspaceProcessContext, "create_request_context")


def test_a_finished_check_execution_is_succeeded_or_failed():
    members = {status.name for status in AssetCheckExecutionRecordStatus}
    assert {"PLANNED", "SUCCEEDED", "FAILED"} <= members
    assert {status.name for status in finished_check_statuses()} == {"SUCCEEDED", "FAILED"}


def test_a_config_is_resolved_as_a_run_start_resolves_it(monkeypatch):
    from dagster_celery import celery_executor

    monkeypatch.setenv("PHOENIX_PINNED_BROKER", "pyamqp://guest@127.0.0.1:5672//")
    config = resolved_config(celery_executor.config_schema, {"broker": {"env": "PHOENIX_PINNED_BROKER"}})
    assert config["broker"] == "pyamqp://guest@127.0.0.1:5672//"
