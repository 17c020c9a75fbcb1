"""What a person launches from the Dagster UI reaches the warehouse: the build sensor (RUNNING by
default) follows every finished run that wrote lake partitions — daily_refresh runs and launches
from the asset graph (__ASSET_JOB) alike — once they are all done, names the days whose reports
the build rewrites, and passes over check-only runs and the partitions a command builds itself;
a service's `<service>_up` check executed on its own (its "Execute" button) probes and records."""

from __future__ import annotations

import dagster as dg
import pytest
from platform_harness import make_platform

from phoenix_dagster.automation.sensors import after_partition_runs
from phoenix_dagster.definitions import build_definitions
from phoenix_dagster.graph.job_names import BUILT_BY_COMMAND_TAG, REPORT_DAYS_TAG
from phoenix_dagster.settings import Settings

pytestmark = pytest.mark.integration  # Dagster runs

PARTITIONS = dg.StaticPartitionsDefinition(["04013|2026-11-27", "04013|2026-11-28"])  # county|day, as the lake's


@dg.asset(partitions_def=PARTITIONS)
def lake_table() -> int:
    return 1


@dg.asset
def unpartitioned() -> int:  # what a run that writes no lake partition materializes, if anything
    return 1


DEFS = dg.Definitions(
    assets=[lake_table, unpartitioned],
    jobs=[dg.define_asset_job("daily_refresh", selection=[lake_table], partitions_def=PARTITIONS)],
)


def test_the_build_follows_any_run_that_wrote_the_lake_and_names_its_days():
    instance = dg.DagsterInstance.ephemeral()
    daily, from_the_graph = DEFS.resolve_job_def("daily_refresh"), DEFS.get_implicit_global_asset_job_def()
    assert from_the_graph.name == "__ASSET_JOB"
    cursor = None

    def tick():
        nonlocal cursor
        with dg.build_sensor_context(instance=instance, cursor=cursor) as context:
            result = after_partition_runs(context)
            cursor = context.cursor
        return result

    assert "no run that could write the lake" in tick().skip_message
    daily.execute_in_process(instance=instance, partition_key="04013|2026-11-27")
    still = instance.create_run_for_job(job_def=from_the_graph, status=dg.DagsterRunStatus.STARTED)
    assert "waiting for 1 still queued or running" in tick().skip_message and cursor is None
    instance.report_run_failed(still)  # a failed run does not hold the build back
    from_the_graph.execute_in_process(
        instance=instance, partition_key="04013|2026-11-28", asset_selection=[lake_table.key]
    )  # "Materialize" in the asset graph
    request = tick()
    assert isinstance(request, dg.RunRequest), request
    assert request.tags[REPORT_DAYS_TAG] == "2026-11-27,2026-11-28"  # both days' reports rewritten
    assert "no run that could write the lake" in tick().skip_message  # one build, not one per run
    from_the_graph.execute_in_process(instance=instance, asset_selection=[unpartitioned.key])
    assert "none wrote a lake partition" in tick().skip_message  # a probe's check-only run builds nothing
    assert "no run that could write the lake" in tick().skip_message  # and is not looked at again
    daily.execute_in_process(instance=instance, partition_key="04013|2026-11-28", tags={BUILT_BY_COMMAND_TAG: "true"})
    assert "none wrote a lake partition" in tick().skip_message  # `phoenix-estate run` builds those itself


def test_the_sensor_runs_by_default(tmp_path):
    defs = build_definitions(Settings.from_env({"PHOENIX_DATA_DIR": str(tmp_path)}))  # the code location's own
    assert defs.resolve_sensor_def("warehouse_after_partitions").default_status == dg.DefaultSensorStatus.RUNNING


def test_a_service_check_executed_alone_probes_and_records(tmp_path):
    """The check's own "Execute" button runs it without the asset (an asset check's context has no
    run_id: `AttributeError` failed every such run, and every "Materialize all" that included it)."""
    platform = make_platform(tmp_path / "data")
    key = dg.AssetCheckKey(dg.AssetKey("listing_text_facts"), "ollama_up")
    defs = dg.Definitions.merge(
        platform.defs,
        dg.Definitions(jobs=[dg.define_asset_job("check_alone", selection=dg.AssetSelection.checks(key))]),
    )
    result = defs.resolve_job_def("check_alone").execute_in_process(instance=platform.instance, raise_on_error=False)
    assert result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.check_name == "ollama_up" and not evaluation.passed  # no model here: a WARN, recorded
    probes = platform.defs.resources["control_state"].read("service_health")
    assert probes["run_id"].to_list() == [result.run_id]
