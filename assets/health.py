"""Service health as data: the probes of phoenix_dagster/monitoring/health.py, recorded as
control state (ops.service_health after the next build) and shown as a `<service>_up` check on
the asset that uses the service, so a red check sits next to that asset in the lineage view:

- `county_api_up` on raw_assessor_payloads, `reso_up` / `mls_html_up` on their listing source's
  raw asset: required (unless named in PHOENIX_OPTIONAL_SOURCES), a failure is an ERROR;
- `ollama_up` on listing_text_facts and `mongodb_up` on mongo_properties: optional, a WARN (the
  rules extractor and the mongoimport export take over).

Three things probe: `service_preflight`, the first step of every partition run, which fails the
run before any collection when a required service is down, misconfigured or refuses us;
`service_health`, which the 5-minute sensor's probe_services run materializes; and each check on
its own when executed from the UI. mongo_properties probes MongoDB before it writes (serving)."""

from dataclasses import asdict, replace

import dagster as dg
import polars as pl

from assets.raw import listing_asset_name
from phoenix_dagster.graph.bookkeeping import Bookkeeping, recording
from phoenix_dagster.monitoring.health import ProbeResult, configured_services, first_required_failure, probe_all
from phoenix_dagster.resources.control_state import ControlStateResource
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.mongo import MongoResource
from phoenix_dagster.resources.source_clients import SourcesResource
from phoenix_dagster.settings import Settings
from phoenix_dagster.sources.registry import descriptors, services

OWN_SERVICE_USERS = {"ollama": "listing_text_facts", "mongodb": "mongo_properties"}
PREFLIGHT_SERVICES = (*services(), "ollama")  # what a partition run uses: every source's, and the model


def service_user(service: str) -> str:
    """The asset whose `<service>_up` check reports the service: a source's raw asset, the
    enrichment for Ollama, serving for MongoDB."""
    if service in OWN_SERVICE_USERS:
        return OWN_SERVICE_USERS[service]
    source = next((source for source in descriptors() if source.service == service), None)
    if source is None:
        raise KeyError(f"no source probes a service named {service!r} (known: {', '.join(services())})")
    return "raw_assessor_payloads" if source.kind == "assessor" else listing_asset_name(source.name)


def probed_services(settings: Settings) -> list[str]:
    """The services these settings configure (each gets a `<service>_up` check)."""
    return configured_services(
        settings, mongo_configured=settings.has_secret("MONGODB_URI") or settings.mongodb_stand_in
    )


def check_key(service: str) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(dg.AssetKey(service_user(service)), f"{service}_up")


def verdict(result: ProbeResult, **metadata) -> dict:
    """A probe as a check's outcome: passed only when up; ERROR for a failing required service."""
    return dict(
        passed=result.state == "up",
        severity=dg.AssetCheckSeverity.ERROR if result.required and result.failing else dg.AssetCheckSeverity.WARN,
        description=f"{result.service} {result.state}: {result.detail}",
        metadata={
            "state": result.state,
            "required": result.required,
            "latency_ms": result.latency_ms or 0.0,
            **metadata,
        },
    )


def check_evaluation(result: ProbeResult, **metadata) -> dg.AssetCheckEvaluation:
    """The probe as an evaluation of `<service>_up`, for a step other than the check's own to log."""
    key = check_key(result.service)
    return dg.AssetCheckEvaluation(asset_key=key.asset_key, check_name=key.name, **verdict(result, **metadata))


def as_the_resources_say(settings: Settings, sources: SourcesResource) -> Settings:
    """The settings with the sources' places taken from the sources resource the collectors use
    (the same, unless a deployment or a test hands in its own resource): probe what is collected."""
    listings = replace(
        settings.listings,
        reso_url=sources.reso.url if sources.reso else settings.listings.reso_url,
        mls_url=sources.mls_html.url if sources.mls_html else settings.listings.mls_url,
    )
    maricopa = replace(settings.maricopa, url=sources.maricopa.url) if sources.maricopa else settings.maricopa
    return replace(settings, assessor_source=sources.assessor, maricopa=maricopa, listings=listings)


def probe_and_record(
    context,
    settings: Settings,
    sources: SourcesResource,
    mongo: MongoResource,
    control_state: ControlStateResource,
    prober: str,
    services=None,
    zip_code: str | None = None,
) -> list[ProbeResult]:
    """Probe (all configured services, or `services` of them) and keep the round as control state."""
    settings = as_the_resources_say(settings, sources)
    secrets = {
        "MARICOPA_API_TOKEN": sources.maricopa.token if sources.maricopa else None,
        "RESO_API_TOKEN": sources.reso.token if sources.reso else None,
        "MONGODB_URI": mongo.uri,
    }
    client = mongo.client() if mongo.is_stand_in else None
    county = sources.maricopa.limiter() if sources.maricopa and sources.assessor == "maricopa" else None
    results = probe_all(
        settings, secrets, mongo_client=client, services=services, zip_code=zip_code, county_limiter=county
    )
    run_id = context.run.run_id  # an asset's or a check's context alike (a check's has no run_id)
    rows = pl.DataFrame([asdict(r) | {"run_id": run_id} for r in results])
    control_state.record_probes(rows, f"{run_id}-{prober}")
    return results


def service_health_asset(settings: Settings) -> dg.AssetsDefinition:
    @dg.asset(group_name="operations", kinds={"python"})
    def service_health(
        context: dg.AssetExecutionContext,
        sources: SourcesResource,
        mongo: MongoResource,
        control_state: ControlStateResource,
    ) -> dg.MaterializeResult:
        """One probe of every configured dependency — the county API (one authenticated search;
        a refused token is its own state), a RESO feed or MLS site when configured, Ollama (the
        model listed), MongoDB (ping and the collection's indexes) — recorded with latency and
        state (control/service_health → ops.service_health) and reported as each service's
        `<service>_up` check on the asset that uses it. Requested every 5 minutes by the
        probe_services_every_5_minutes sensor."""
        results = probe_and_record(context, settings, sources, mongo, control_state, prober="service_health")
        for result in results:
            context.log_event(check_evaluation(result, probed_by="service_health"))
        failure = first_required_failure(results)
        if failure:
            context.log.error(failure)
        return dg.MaterializeResult(
            metadata={
                "services": len(results),
                "up": sum(r.state == "up" for r in results),
                "first_required_failure": failure or "none",
                **{f"{r.service}_latency_ms": r.latency_ms for r in results if r.latency_ms is not None},
            }
        )

    return service_health


def service_preflight_asset(settings: Settings) -> dg.AssetsDefinition:
    """The first step of a partition run (the collectors depend on it)."""

    @dg.asset(kinds={"python"}, metadata=recording())
    def service_preflight(
        context: dg.AssetExecutionContext,
        sources: SourcesResource,
        mongo: MongoResource,
        control_state: ControlStateResource,
        lake: LakeResource,
    ) -> dg.MaterializeResult:
        """The services this partition's run uses, probed before any collection: the county API
        (with the maricopa source), each configured RESO feed or MLS site, and Ollama. A required
        one that is down, misconfigured or refuses our credentials fails the run here, in one
        line naming the probe's reason, and no collection starts; an optional one (Ollama) is a
        WARN and enrichment falls back to the rules. Each probe is its service's `<service>_up`
        check on the asset that uses it, and a row of ops.service_health."""
        with Bookkeeping(context, lake) as books:
            results = probe_and_record(
                context,
                settings,
                sources,
                mongo,
                control_state,
                prober="service_preflight",
                services=PREFLIGHT_SERVICES,
                zip_code=books.zip_code,
            )
            for result in results:
                context.log_event(
                    check_evaluation(result, probed_by="service_preflight", partition=context.partition_key)
                )
            metadata = {
                r.service: f"{r.state} ({r.latency_ms:.0f} ms)" if r.latency_ms is not None else r.state
                for r in results
            }
            failure = first_required_failure(results)
            if failure:
                raise books.failure(f"not collecting: {failure}", **metadata)
            return dg.MaterializeResult(metadata=books.finish(rows_in=0, rows_out=len(results)) | metadata)

    return service_preflight


def service_up_checks(settings: Settings) -> list[dg.AssetChecksDefinition]:
    """Each configured service's `<service>_up` check. Partition runs, probe_services and serving
    log its evaluations from their own probes (the jobs leave the check's own step out); run on
    its own (the UI's "Execute"), it probes its service once."""
    return [_service_up_check(service, settings) for service in probed_services(settings)]


def _service_up_check(service: str, settings: Settings) -> dg.AssetChecksDefinition:
    key = check_key(service)

    @dg.asset_check(
        asset=key.asset_key,
        name=key.name,
        blocking=False,
        description=f"The latest probe of {service} found it up (a required service failing is an "
        "ERROR, an optional one a WARN); probed at the start of the runs that use it "
        "and every 5 minutes",
    )
    def service_up(
        context: dg.AssetCheckExecutionContext,
        sources: SourcesResource,
        mongo: MongoResource,
        control_state: ControlStateResource,
    ) -> dg.AssetCheckResult:
        [result] = probe_and_record(
            context, settings, sources, mongo, control_state, prober=key.name, services=[service]
        )
        return dg.AssetCheckResult(**verdict(result, probed_by=key.name))

    return service_up
