"""Service health wired into Dagster: the probe_services run records every configured
dependency's probe (control state → ops.service_health) and makes each an asset check; its
sensor only requests runs. The probes themselves: test_health_probes.py."""

import dagster as dg
import pytest

from platform_harness import make_platform
from phoenix_dagster.job_names import PROBE_SERVICES
from phoenix_dagster.resources.source_clients import MaricopaResource, SourcesResource
from phoenix_dagster.sensors import probe_services_every_5_minutes
from phoenix_dagster.settings import SAMPLE_DIR
from servers.maricopa import MaricopaContractServer

pytestmark = pytest.mark.integration

TOKEN = "mc-token-7c2b0d-do-not-leak"


def test_a_refused_county_token_is_a_red_check_and_a_recorded_probe(tmp_path, monkeypatch):
    monkeypatch.setenv("MARICOPA_API_TOKEN", "a-token-the-county-refuses")
    with MaricopaContractServer.from_sample(SAMPLE_DIR, token=TOKEN) as server:
        county = MaricopaResource(url=server.url, token=dg.EnvVar("MARICOPA_API_TOKEN"), backoff_base_s=0.01)
        platform = make_platform(tmp_path / "data", env={"PHOENIX_ASSESSOR_SOURCE": "maricopa",
                                                         "MARICOPA_API_URL": server.url},
                                 sources=SourcesResource(assessor="maricopa", maricopa=county))
        result = platform.defs.resolve_job_def(PROBE_SERVICES).execute_in_process(instance=platform.instance)
    assert result.success  # a measurement: the red check says what is wrong, the run does not fail
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(checks) == {"county_api_up", "ollama_up", "mongodb_up"}
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
