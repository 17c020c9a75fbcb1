"""The alert sensors when it matters: check results read per partition through every record
state (a check still planned has no result), and a failed run alerts."""

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from platform_harness import DAY, make_platform

import assets.staging
from phoenix_dagster.automation.dagster_private import AssetCheckExecutionRecordStatus
from phoenix_dagster.automation.sensors import failed_checks_today
from phoenix_dagster.markets.market import market
from phoenix_dagster.transforms.assessor import stage_search_results

pytestmark = pytest.mark.integration


def lossy(pages):
    """A transform that loses a record without a word: the blocking ledger check fails."""
    staged, rejected = stage_search_results(pages)
    return staged.slice(1), rejected


def test_a_failed_check_is_read_per_partition_and_planned_checks_are_passed_over(tmp_path, monkeypatch):
    platform = make_platform(tmp_path)
    with monkeypatch.context() as patch:
        patch.setattr(assets.staging, "stage_search_results", lossy)
        [failed] = platform.run(zip_codes=["85031"], build=False)
    [passed] = platform.run(zip_codes=["85033"], build=False)  # the same check passes later, for another ZIP
    assert not failed.success and passed.ok
    instance, keys = platform.instance, platform.defs.resolve_asset_graph().asset_check_keys
    states = {
        record.status
        for key in keys
        for record in instance.event_log_storage.get_asset_check_execution_history(key, limit=10)
    }
    assert AssetCheckExecutionRecordStatus.PLANNED in states  # left planned downstream of the blocking failure
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("stg_assessor__search_results"), "records_accounted_for")]
    )
    assert next(iter(latest.values())).evaluation.passed  # the latest alone would hide 85031's failure
    today = datetime.now(ZoneInfo(market().timezone)).date()
    assert failed_checks_today(instance, keys, today, market().timezone) == [
        f"stg_assessor__search_results:records_accounted_for [{DAY}|85031]"
    ]


def test_a_failed_run_requests_an_alert_naming_it(tmp_path, monkeypatch):
    platform = make_platform(tmp_path)
    with monkeypatch.context() as patch:
        patch.setattr(assets.staging, "stage_search_results", lossy)
        [failed] = platform.run(zip_codes=["85031"], build=False)
    run = platform.instance.get_run_by_id(failed.run_id)
    request = platform.run_failure_alert(run)
    [alert] = request.run_config["ops"]["alert_deliveries"]["config"]["alerts"]
    assert alert["severity"] == "CRITICAL" and alert["channels"] == ["log"]
    assert alert["message"].startswith(f"Run {run.run_id[:8]} of daily_refresh for 04013|{DAY} (ZIP 85031) failed")
    assert request.run_key == f"run-failed:{run.run_id}"  # one alert per failed run
