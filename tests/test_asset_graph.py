"""A snapshot of the asset graph: an accidental change to keys, deps, groups or checks shows
up here in review. After an intended change: UPDATE_SNAPSHOTS=1 pytest tests/test_asset_graph.py
(which writes the snapshot and then fails, so a run that rewrites it never passes)."""

import ast
import json
import os
from pathlib import Path

import dagster as dg
import pytest

from phoenix_dagster.definitions import build_definitions
from phoenix_dagster.graph.job_names import (
    BUILD_WAREHOUSE,
    COMPACT_RAW_BODIES,
    DAILY_REFRESH,
    DELIVER_ALERTS,
    PROBE_SERVICES,
    TUNE_BATCHES,
)
from phoenix_dagster.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.unit

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"
# The default deployment, whatever this shell's environment says.
defs = build_definitions(Settings.from_env({"PHOENIX_DATA_DIR": str(PROJECT_ROOT / "data")}))
GROUPS = {
    "lake_raw",
    "lake_staging",
    "lake_intermediate",
    "lake_enriched",
    "lake_rollups",
    "warehouse_staging",
    "warehouse_intermediate",
    "warehouse_marts",
    "warehouse_ops",
    "serving",
    "operations",
}


def graph_snapshot() -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "partitioned": node.partitions_def is not None,
            "checks": sorted(
                f"{check.name}{' (blocking)' if graph.get_check_spec(check).blocking else ''}"
                for check in node.check_keys
            ),
            "has_description": bool(node.description),
        }
    return assets


def test_asset_graph_matches_snapshot():
    current = graph_snapshot()
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
        pytest.fail("snapshot rewritten: review the diff, then run again without UPDATE_SNAPSHOTS")
    assert current == json.loads(SNAPSHOT.read_text())


def test_every_asset_is_described_and_in_a_lake_warehouse_serving_or_operations_group():
    for key, node in graph_snapshot().items():
        assert node["has_description"], key
        assert node["group"] in GROUPS, key
        assert node["partitioned"] == node["group"].startswith("lake_"), key  # lake: day × ZIP; warehouse: whole


def test_partitions_write_the_lake_and_one_job_builds_the_warehouse():
    partitioned = defs.resolve_job_def(DAILY_REFRESH).asset_layer.executable_asset_keys
    build = defs.resolve_job_def(BUILD_WAREHOUSE).asset_layer.executable_asset_keys
    alerts = defs.resolve_job_def(DELIVER_ALERTS).asset_layer.executable_asset_keys
    upkeep = defs.resolve_job_def(COMPACT_RAW_BODIES).asset_layer.executable_asset_keys
    tuning = defs.resolve_job_def(TUNE_BATCHES).asset_layer.executable_asset_keys
    probes = defs.resolve_job_def(PROBE_SERVICES).asset_layer.executable_asset_keys
    assert (
        probes == {dg.AssetKey("service_health")} and "service_health" in graph_snapshot()["ops/service_health"]["deps"]
    )
    assert alerts == {dg.AssetKey("alert_deliveries")} and "alert_deliveries" in graph_snapshot()["ops/alerts"]["deps"]
    assert tuning == {dg.AssetKey("batch_tuning")} and "batch_tuning" in graph_snapshot()["ops/batch_tuning"]["deps"]
    assert graph_snapshot()["batch_tuning"]["deps"] == ["run_metrics"]  # run metrics → tuning decision
    assert upkeep == {dg.AssetKey("raw_body_retention")}
    assert not partitioned & build and len(partitioned | build | alerts | upkeep | tuning | probes) == len(
        graph_snapshot()
    )
    groups = {key: node["group"] for key, node in graph_snapshot().items()}
    assert {groups[k.to_user_string()] for k in partitioned} == {g for g in GROUPS if g.startswith("lake_")}
    assert defs.resolve_job_def(BUILD_WAREHOUSE).tags["phoenix/warehouse-writer"] == "true"
    schedule = defs.resolve_schedule_def("daily_refresh_schedule")
    assert schedule.cron_schedule == "0 3 * * *" and schedule.execution_timezone == "America/Phoenix"


def test_ops_rollups_depend_on_every_asset_whose_bookkeeping_they_read():
    snapshot = graph_snapshot()
    lake_assets = {key for key, node in snapshot.items() if node["partitioned"]}
    assert lake_assets <= set(snapshot["ops/run_log"]["deps"])  # every lake asset logs its runs
    assert set(snapshot["ops/source_requests"]["deps"]) == {"raw_assessor_payloads", "raw_listing_payloads__sample"}
    assert set(snapshot["ops/quarantine"]["deps"]) == {
        "ops/asset_runs_latest",
        "raw_assessor_payloads",
        "raw_listing_payloads__sample",
        "stg_assessor__parcels",
        "stg_assessor__search_results",
        "stg_listings__listings",
    }
    assert {"storage_measurement", "mongo_properties", "ops/unit_prices"} <= set(snapshot["ops/cost_events"]["deps"])
    assert snapshot["ops/budget_status"]["deps"] == [
        "ops/cost_events",
        "ops/monthly_budget",
        "staging/stg_lake__enriched_properties",
    ]


def _asset_functions():
    for path in sorted((PROJECT_ROOT / "assets").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                "asset" in ast.unparse(decorator) for decorator in node.decorator_list
            ):
                yield path.name, node


def test_no_asset_reads_a_lake_table_it_does_not_declare():
    """Every `lake.read/history("<asset>", …)` in an asset body names the asset itself or a declared
    upstream asset; control state goes through the control_state resource instead."""
    graph = defs.resolve_asset_graph()
    checked = 0
    for module, function in _asset_functions():
        key = dg.AssetKey(function.name)
        if not graph.has(key):
            continue
        allowed = {function.name} | {parent.to_user_string() for parent in graph.get(key).parent_keys}
        for call in ast.walk(function):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and ast.unparse(call.func.value) == "lake"
                and call.func.attr in ("read", "history")
            ):
                name = call.args[0].value
                assert name in allowed, f"{module}:{function.name} reads lake table {name} it does not declare"
                checked += 1
    assert checked >= 3  # earlier days of their own inputs (intermediate) or of themselves (parcel versions)


def test_schedules_and_sensors_say_what_they_do():
    for definition in [*defs.schedules, *defs.sensors]:
        assert definition.description and len(definition.description) > 30, definition.name
