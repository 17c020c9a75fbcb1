"""Service health as data: each configured source probed through its own resource (the same URL,
token its collection uses; the county's at its rate limiter), Ollama and MongoDB through theirs, recorded as
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

from dataclasses import asdict
from functools import partial

import dagster as dg
import polars as pl

from assets.raw import listing_asset_name
from phoenix_dagster.graph.bookkeeping import Bookkeeping, recording
from phoenix_dagster.graph.zip_steps import partition_zips
from phoenix_dagster.monitoring.health import (
    DEFAULT_TIMEOUT_S,
    ProbeResult,
    configured_services,
    first_required_failure,
    probe_mongodb,
    probe_ollama,
)
from phoenix_dagster.resources.control_state import ControlStateResource
from phoenix_dagster.resources.mongo import MongoResource
from phoenix_dagster.resources.ollama import OllamaResource
from phoenix_dagster.settings import Settings
from phoenix_dagster.sources.registry import SourceDescriptor, services

OWN_SERVICE_USERS = {"ollama": "listing_text_facts", "mongodb": "mongo_properties"}


def preflight_services(settings: Settings) -> tuple[str, ...]:
    """What a partition run uses: every configured source's service, and the model."""
    return (*services(settings.configured_sources), "ollama")


def service_user(service: str, sources: tuple[SourceDescriptor, ...] = ()) -> str:
    """The asset whose `<service>_up` check reports the service: a source's raw asset, the
    enrichment for Ollama, serving for MongoDB."""
    if service in OWN_SERVICE_USERS:
        return OWN_SERVICE_USERS[service]
    source = next((source for source in sources if source.service == service), None)  # configured sources
    if source is None:
        raise KeyError(f"no source probes a service named {service!r} (known: {', '.join(services(sources))})")
    return "raw_assessor_payloads" if source.kind == "assessor" else listing_asset_name(source.name)


def probed_services(settings: Settings) -> list[str]:
    """The services these settings configure (each gets a `<service>_up` check)."""
    return configured_services(
        settings, mongo_configured=settings.has_secret("MONGODB_URI") or settings.mongodb_stand_in
    )


def check_key(service: str, sources: tuple[SourceDescriptor, ...] = ()) -> dg.AssetCheckKey:
    """`sources`: the configured sources (one of them probes `service`)."""
    return dg.AssetCheckKey(dg.AssetKey(service_user(service, sources)), f"{service}_up")


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


def check_evaluation(
    result: ProbeResult, sources: tuple[SourceDescriptor, ...] = (), **metadata
) -> dg.AssetCheckEvaluation:
    """The probe as an evaluation of `<service>_up`, for a step other than the check's own to log."""
    key = check_key(result.service, sources)
    return dg.AssetCheckEvaluation(asset_key=key.asset_key, check_name=key.name, **verdict(result, **metadata))


def probe_round(
    settings: Settings,
    resources,
    services=None,
    zip_code: str | None = None,
    *,
    http=None,
    mongo_client=None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[ProbeResult]:
    """Probe every configured service (or `services` of them) through the resources the run uses:
    each source's own (its URL and token; the county's at its rate limiter), Ollama's and MongoDB's (when it is
    configured: MONGODB_URI set, the stand-in, or `mongo_client` handed in). `resources` has them
    as attributes (a context's resources). A source named in PHOENIX_OPTIONAL_SOURCES is probed but
    optional. The sources are asked about `zip_code` (default: the first configured ZIP)."""
    zip_code = zip_code or settings.zip_codes[0]
    probes = {}
    for source in settings.configured_sources:
        if source.service and source.service not in probes:
            resource, required = getattr(resources, source.resource_key), source.name not in settings.optional_sources
            probes[source.service] = partial(
                resource.probe, zip_code=zip_code, required=required, timeout_s=timeout_s, http=http
            )
    ollama: OllamaResource = resources.ollama
    probes["ollama"] = partial(probe_ollama, ollama.host, ollama.model, http, timeout_s=timeout_s)
    mongo: MongoResource = resources.mongo
    client = mongo_client if mongo_client is not None else (mongo.client() if mongo.is_stand_in else None)
    if client is not None or mongo.uri:
        probes["mongodb"] = partial(
            probe_mongodb, client if client is not None else mongo.uri, mongo.database, timeout_s=timeout_s
        )
    return [probe() for service, probe in probes.items() if services is None or service in services]


def probe_and_record(
    context, settings: Settings, prober: str, services=None, zip_code: str | None = None
) -> list[ProbeResult]:
    """A probe round (`probe_round`) through the step's resources, kept as control state."""
    results = probe_round(settings, context.resources, services, zip_code)
    run_id = context.run.run_id  # an asset's or a check's context alike (a check's has no run_id)
    rows = pl.DataFrame([asdict(r) | {"run_id": run_id} for r in results])
    control_state: ControlStateResource = context.resources.control_state
    control_state.record_probes(rows, f"{run_id}-{prober}")
    return results


def probe_resource_keys(settings: Settings) -> set[str]:
    """What a probing step uses: the resources of the configured sources that have a service to
    probe (each probes through its own), Ollama's, MongoDB's, and the control state it records in."""
    sources = {source.resource_key for source in settings.configured_sources if source.service}
    return {"ollama", "mongo", "control_state", *sources}


def service_health_asset(settings: Settings) -> dg.AssetsDefinition:
    @dg.asset(group_name="operations", kinds={"python"}, required_resource_keys=probe_resource_keys(settings))
    def service_health(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        """One probe of every configured dependency — the county API (one authenticated search;
        a refused token is its own state), a RESO feed or MLS site when configured, Ollama (the
        model listed), MongoDB (ping and the collection's indexes) — recorded with latency and
        state (control/service_health → ops.service_health) and reported as each service's
        `<service>_up` check on the asset that uses it. Requested every 5 minutes by the
        probe_services_every_5_minutes sensor."""
        results = probe_and_record(context, settings, prober="service_health")
        for result in results:
            context.log_event(check_evaluation(result, settings.configured_sources, probed_by="service_health"))
        failure = first_required_failure(results, settings.configured_sources)
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

    @dg.asset(kinds={"python"}, metadata=recording(), required_resource_keys={"lake", *probe_resource_keys(settings)})
    def service_preflight(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        """The services this partition's run uses, probed before any collection: the county API
        (with the maricopa source), each configured RESO feed or MLS site, and Ollama. A required
        one that is down, misconfigured or refuses our credentials fails the run here, in one
        line naming the probe's reason, and no collection starts; an optional one (Ollama) is a
        WARN and enrichment falls back to the rules. Each probe is its service's `<service>_up`
        check on the asset that uses it, and a row of ops.service_health."""
        lake = context.resources.lake
        asked_about = partition_zips(context, lake).zips[0]  # the sources are asked about the run's first ZIP
        with Bookkeeping(context, lake, zip_code=asked_about) as books:
            results = probe_and_record(
                context,
                settings,
                prober="service_preflight",
                services=preflight_services(settings),
                zip_code=asked_about,
            )
            for result in results:
                context.log_event(
                    check_evaluation(
                        result,
                        settings.configured_sources,
                        probed_by="service_preflight",
                        partition=str(context.partition_key),
                    )
                )
            metadata = {
                r.service: f"{r.state} ({r.latency_ms:.0f} ms)" if r.latency_ms is not None else r.state
                for r in results
            }
            failure = first_required_failure(results, settings.configured_sources)
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
    key = check_key(service, settings.configured_sources)

    @dg.asset_check(
        asset=key.asset_key,
        name=key.name,
        blocking=False,
        required_resource_keys=probe_resource_keys(settings),
        description=f"The latest probe of {service} found it up (a required service failing is an "
        "ERROR, an optional one a WARN); probed at the start of the runs that use it "
        "and every 5 minutes",
    )
    def service_up(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        [result] = probe_and_record(context, settings, prober=key.name, services=[service])
        return dg.AssetCheckResult(**verdict(result, probed_by=key.name))

    return service_up
