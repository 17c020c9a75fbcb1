"""A snapshot of the asset graph: an accidental change to keys, deps, groups or checks shows
up here in review. After an intended change: UPDATE_SNAPSHOTS=1 pytest tests/test_asset_graph.py"""

import json
import os
from pathlib import Path

from phoenix_dagster.definitions import defs

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"


def graph_snapshot() -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "partitioned": node.partitions_def is not None,
            "checks": sorted(f"{check.name}{' (blocking)' if graph.get_check_spec(check).blocking else ''}"
                             for check in node.check_keys),
            "has_description": bool(node.description),
        }
    return assets


def test_asset_graph_matches_snapshot():
    current = graph_snapshot()
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert current == json.loads(SNAPSHOT.read_text())


def test_every_asset_is_described_and_grouped_by_layer():
    layers = {"raw", "staging", "intermediate", "enriched", "marts", "serving", "rollups"}
    for key, node in graph_snapshot().items():
        assert node["has_description"], key
        assert node["group"] in layers, key


def test_the_main_job_and_its_schedule():
    job = defs.resolve_job_def("daily_refresh")
    assert len(job.asset_layer.executable_asset_keys) == len(graph_snapshot())
    schedule = defs.resolve_schedule_def("daily_refresh_schedule")
    assert schedule.cron_schedule == "0 3 * * *" and schedule.execution_timezone == "America/Phoenix"
