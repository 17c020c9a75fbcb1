"""Service health wired into Dagster: the probe_services run records every configured
dependency's probe (control state → ops.service_health) and reports each as the `<service>_up`
check of the asset that uses the service; every partition run probes its services first and
fails before any collection when a required one is refused; the sensor only requests runs.
(Serving's MongoDB ping and its fallback to the export: test_pipeline.py.) The probes themselves:
test_health_probes.py."""

import shutil

import dagster as dg
import pytest
from platform_harness import make_platform
from servers.maricopa import MaricopaContractServer

from phoenix_dagster.automation.dagster_private import AssetCheckExecutionRecordStatus
from phoenix_dagster.automation.sensors import probe_services_every_5_minutes
from phoenix_dagster.graph.job_names import PROBE_SERVICES
from phoenix_dagster.settings import SAMPLE_DIR
from phoenix_dagster.sources.maricopa import MaricopaResource

pytestmark = pytest.mark.integration

TOKEN = "mc-token-7c2b0d-do-not-leak"


def test_a_refused_county_token_is_a_red_check_and_a_recorded_probe(tmp_path, monkeypatch):
    monkeypatch.setenv("MARICOPA_API_TOKEN", "a-token-the-county-refuses")
    with MaricopaContractServer.from_sample(SAMPLE_DIR, token=TOKEN) as server:
        county = MaricopaResource(url=server.url, token=dg.EnvVar("MARICOPA_API_TOKEN"), backoff_base_s=0.01)
        platform = make_platform(
            tmp_path / "data",
            env={"PHOENIX_ASSESSOR_SOURCE": "maricopa", "MARICOPA_API_URL": server.url},
            assessor_source__maricopa=county,
        )
        result = platform.defs.resolve_job_def(PROBE_SERVICES).execute_in_process(instance=platform.instance)
    assert result.success  # a measurement: the red check says what is wrong, the run does not fail
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert {name: e.asset_key.to_user_string() for name, e in checks.items()} == {
        "county_api_up": "raw_assessor_payloads",
        "ollama_up": "listing_text_facts",
        "mongodb_up": "mongo_properties",
    }
    county_check = checks["county_api_up"]
    assert not county_check.passed and county_check.severity == dg.AssetCheckSeverity.ERROR
    assert "refused" in county_check.description
    assert not checks["ollama_up"].passed and checks["ollama_up"].severity == dg.AssetCheckSeverity.WARN
    probes = platform.defs.resources["control_state"].read("service_health")
    states = dict(probes.select("service", "state").iter_rows())
    assert states["county_api"] == "refused" and states["ollama"] == "down"
    assert probes["required"].to_list() == [s == "county_api" for s in probes["service"].to_list()]
    assert not any("a-token-the-county-refuses" in text for text in probes["detail"].to_list())
    materialization = result.asset_materializations_for_node("service_health")[0]
    assert "county_api refused" in materialization.metadata["first_required_failure"].value


def test_the_sensor_requests_a_probe_run_unless_one_is_in_flight(tmp_path):
    platform = make_platform(tmp_path / "data")
    with dg.build_sensor_context(instance=platform.instance, definitions=platform.defs) as context:
        request = probe_services_every_5_minutes.evaluate_tick(context).run_requests
    assert len(request) == 1
    job = platform.defs.resolve_job_def(PROBE_SERVICES)
    platform.instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED)
    with dg.build_sensor_context(instance=platform.instance, definitions=platform.defs) as context:
        tick = probe_services_every_5_minutes.evaluate_tick(context)
    assert not tick.run_requests and "already queued" in tick.skip_message


def latest_check(instance, asset: str, check: str):
    [record] = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey(asset), check), limit=1
    )
    return record


def test_a_partition_run_stops_at_its_preflight_before_any_collection(tmp_path, monkeypatch):
    monkeypatch.setenv("MARICOPA_API_TOKEN", "a-token-the-county-refuses")
    with MaricopaContractServer.from_sample(SAMPLE_DIR, token=TOKEN) as server:
        county = MaricopaResource(url=server.url, token=dg.EnvVar("MARICOPA_API_TOKEN"), backoff_base_s=0.01)
        platform = make_platform(
            tmp_path / "data", env={"PHOENIX_ASSESSOR_SOURCE": "maricopa"}, assessor_source__maricopa=county
        )
        [outcome] = platform.run(day="2026-11-28", zip_codes=["85031"], build=False)
        seen = [r.path for r in server.seen]
    assert not outcome.success
    assert outcome.error.startswith("service_preflight: not collecting: county_api refused")
    assert "check MARICOPA_API_TOKEN" in outcome.error and "a-token-the-county-refuses" not in outcome.error
    assert len(seen) == 1 and seen[0].startswith("/search/property/?q=85031")  # the probe, nothing else
    for asset in ("raw_assessor_payloads", "raw_listing_payloads__sample", "stg_listings__listings"):
        assert platform.instance.get_latest_materialization_event(dg.AssetKey(asset)) is None, asset
    county_up = latest_check(platform.instance, "raw_assessor_payloads", "county_api_up")
    assert county_up.status == AssetCheckExecutionRecordStatus.FAILED and county_up.run_id == outcome.run_id
    evaluation = county_up.event.dagster_event.event_specific_data
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["partition"].value == "04013|2026-11-28"  # the county's day the run was for
    ollama_up = latest_check(platform.instance, "listing_text_facts", "ollama_up")
    assert ollama_up.event.dagster_event.event_specific_data.severity == dg.AssetCheckSeverity.WARN
    probes = platform.defs.resources["control_state"].read("service_health")
    assert dict(probes.select("service", "state").iter_rows()) == {"county_api": "refused", "ollama": "down"}
    assert set(probes["run_id"]) == {outcome.run_id}


def test_an_optional_service_down_warns_and_the_run_goes_on(tmp_path):
    platform = make_platform(tmp_path / "data")  # the sample: Ollama on a closed port
    [outcome] = platform.run(day="2026-11-28", zip_codes=["85031"], build=False)
    assert outcome.success, outcome.error
    ollama_up = latest_check(platform.instance, "listing_text_facts", "ollama_up")
    assert ollama_up.status == AssetCheckExecutionRecordStatus.FAILED and ollama_up.run_id == outcome.run_id
    assert ollama_up.event.dagster_event.event_specific_data.severity == dg.AssetCheckSeverity.WARN
    facts = platform.defs.resources["lake"].read("listing_text_facts", "2026-11-28", "85031")
    assert facts.height and set(facts["method"]) <= {"rules", "none"}
    # each stage also says how much it received and how much disk the data directory had left
    stages = platform.defs.resources["lake"].scan_bookkeeping("stage_metrics").collect()
    by_stage = {row["stage"]: row for row in stages.iter_rows(named=True)}
    assert by_stage["collection:assessor"]["bytes_received"] > 500_000  # the sample's 12 pages and 253 replies
    assert by_stage["collection:listings:sample"]["bytes_received"] > 0
    free = shutil.disk_usage(platform.settings.data_dir).free / 2**20
    assert all(0 < row["disk_free_mb"] <= free * 1.01 + 100 for row in by_stage.values())
