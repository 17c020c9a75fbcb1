"""Service health as data: every configured dependency probed (phoenix_dagster/health.py), the
results kept as control state (ops.service_health after the next build) and each as an asset
check — red for a required service that is down, a WARN for an optional one."""

from dataclasses import asdict

import dagster as dg
import polars as pl

from phoenix_dagster.health import first_required_failure, probe_all
from phoenix_dagster.resources.control_state import ControlStateResource
from phoenix_dagster.resources.mongo import MongoResource
from phoenix_dagster.resources.source_clients import SourcesResource
from phoenix_dagster.settings import Settings


def probed_services(settings: Settings) -> list[str]:
    """What probe_all probes for these settings (the asset declares a check for each)."""
    services = ["county_api"] if settings.assessor_source == "maricopa" else []
    services += [name for name in ("reso", "mls_html") if name in settings.listing_sources]
    services.append("ollama")
    if "MONGODB_URI" in settings.secrets_set or settings.mongodb_stand_in:
        services.append("mongodb")
    return services


def service_health_asset(settings: Settings) -> dg.AssetsDefinition:
    checks = [dg.AssetCheckSpec(f"{service}_up", asset="service_health",
                                description=f"The latest probe of {service} found it up (a required service "
                                            "failing is an ERROR, an optional one a WARN)")
              for service in probed_services(settings)]

    @dg.asset(group_name="operations", kinds={"python"}, check_specs=checks)
    def service_health(context: dg.AssetExecutionContext, sources: SourcesResource, mongo: MongoResource,
                       control_state: ControlStateResource) -> dg.MaterializeResult:
        """One probe of every configured dependency — the county API (one authenticated search;
        a refused token is its own state), a RESO feed or MLS site when configured, Ollama (the
        model listed), MongoDB (ping and the collection's indexes) — recorded with latency and
        state (control/service_health → ops.service_health), each as a check of this asset.
        Requested every 5 minutes by the probe_services_every_5_minutes sensor."""
        secrets = {"MARICOPA_API_TOKEN": sources.maricopa.token if sources.maricopa else None,
                   "RESO_API_TOKEN": sources.reso.token if sources.reso else None, "MONGODB_URI": mongo.uri}
        client = mongo.client() if mongo.is_stand_in else None
        results = probe_all(settings, secrets, mongo_client=client)
        rows = pl.DataFrame([asdict(r) | {"run_id": context.run_id} for r in results])
        control_state.record_probes(rows, context.run_id)
        failure = first_required_failure(results)
        if failure:
            context.log.error(failure)
        declared = {spec.name for spec in checks}
        return dg.MaterializeResult(
            metadata={"services": len(results), "up": sum(r.state == "up" for r in results),
                      "first_required_failure": failure or "none",
                      **{f"{r.service}_latency_ms": r.latency_ms for r in results if r.latency_ms is not None}},
            check_results=[dg.AssetCheckResult(
                check_name=f"{r.service}_up", passed=r.state == "up",
                severity=dg.AssetCheckSeverity.ERROR if r.required and r.failing else dg.AssetCheckSeverity.WARN,
                description=f"{r.service} {r.state}: {r.detail}",
                metadata={"state": r.state, "required": r.required, "latency_ms": r.latency_ms or 0.0})
                for r in results if f"{r.service}_up" in declared])

    return service_health
