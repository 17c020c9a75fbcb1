"""Recovering a build whose grain check failed: fix the cause, re-execute the run from failure,
and the model is rebuilt and checked again (its checks run in its own step), then published."""

from datetime import UTC, date, datetime

import dagster as dg
import polars as pl
import pytest
from platform_harness import first_date, make_platform

from phoenix_dagster.definitions import build_definitions
from phoenix_dagster.graph.job_names import BUILD_WAREHOUSE
from phoenix_dagster.settings import Settings

pytestmark = pytest.mark.integration


def build_job() -> dg.JobDefinition:
    """The build job as the code location makes it, from the environment (reconstructable)."""
    return build_definitions(Settings.from_env()).resolve_job_def(BUILD_WAREHOUSE)


def test_a_failed_grain_check_recovers_by_re_executing_from_failure(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("PHOENIX_DATA_DIR", str(data))
    monkeypatch.setenv("PHOENIX_FIRST_DATE", first_date())
    monkeypatch.delenv("MONGODB_URI", raising=False)
    platform = make_platform(data)
    [partition] = platform.run(zip_codes=["85031"], build=False)
    assert partition.ok
    alert = {
        "day": date(2026, 11, 28),
        "condition": "quality:85031:listing:sample",
        "severity": "WARNING",
        "message": "x",
        "channels": ["log"],
        "sent_at": datetime(2026, 11, 28, tzinfo=UTC),
    }
    control = platform.defs.resources["control_state"]
    control.write("alerts", pl.DataFrame([alert]), "first")
    control.write("alerts", pl.DataFrame([alert]), "again")  # the same condition twice: ops.alerts' grain breaks

    (tmp_path / "home").mkdir()
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "home"))
    failed = dg.execute_job(dg.reconstructable(build_job), instance=instance)
    assert not failed.success
    grain = [
        e
        for e in failed.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.event_specific_data.check_name == "unique_grain"
        and not e.event_specific_data.passed
    ]
    assert [e.event_specific_data.asset_key.to_user_string() for e in grain] == ["ops/alerts"]
    assert not (data / "warehouse.duckdb").exists()  # nothing published

    next((data / "control" / "alerts").glob("again*")).unlink()  # the cause, fixed
    recovered = dg.execute_job(
        dg.reconstructable(build_job),
        instance=instance,
        reexecution_options=dg.ReexecutionOptions.from_failure(failed.run_id, instance),
    )
    assert recovered.success
    rebuilt = {e.step_key for e in recovered.all_events if e.is_step_success}
    assert "ops__alerts" in rebuilt and "published_warehouse" in rebuilt  # rebuilt and checked, not re-checked
    assert (data / "warehouse.duckdb").exists()
    instance.dispose()
