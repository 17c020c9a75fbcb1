"""The code location: every asset, check, job, schedule and resource, assembled once.

``dagster dev -w workspace.yaml`` and ``phoenix-estate run`` both load ``defs`` from here.
"""

from __future__ import annotations

import os
from datetime import timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from assets import enriched, intermediate, raw, rollups, serving, staging
from assets.checks import schema_checks
from assets.warehouse import sql_model_assets
from phoenix_dagster.partitions import TIMEZONE, ZIP_DAY_PARTITIONS, partition_key
from phoenix_dagster.resources.alerting import AlertChannelsResource
from phoenix_dagster.resources.lake import LakeIOManager, LakeResource
from phoenix_dagster.resources.mongo import MongoResource
from phoenix_dagster.resources.ollama import OllamaResource
from phoenix_dagster.resources.sources import MaricopaResource, MlsHtmlResource, ResoResource, SourcesResource
from phoenix_dagster.resources.warehouse import WarehouseResource
from phoenix_dagster.sensors import quality_and_budget_alerts, retune_from_run_metrics
from phoenix_dagster.settings import Settings

DAILY_REFRESH = "daily_refresh"

daily_refresh = dg.define_asset_job(
    DAILY_REFRESH,
    selection=dg.AssetSelection.all(),  # partitioned day × ZIP, inferred from the assets
    # DuckDB takes one writer process: run every step in the run's own process.
    executor_def=dg.in_process_executor,
    description="Collect, stage, resolve, enrich, build the marts and serve one day × ZIP partition.",
)


@dg.schedule(job=daily_refresh, cron_schedule="0 3 * * *", execution_timezone=TIMEZONE,
             default_status=dg.DefaultScheduleStatus.STOPPED)
def daily_refresh_schedule(context: dg.ScheduleEvaluationContext):
    """03:00 in Phoenix: one run per configured ZIP code for that day."""
    day = context.scheduled_execution_time.astimezone(ZoneInfo(TIMEZONE)).date()
    for zip_code in ZIP_DAY_PARTITIONS.get_partitions_def_for_dimension("zip").get_partition_keys():
        key = partition_key(day, zip_code)
        yield dg.RunRequest(run_key=f"{day}|{zip_code}", partition_key=key)


@dg.schedule(job=daily_refresh, cron_schedule="0 4 * * 0", execution_timezone=TIMEZONE,
             default_status=dg.DefaultScheduleStatus.STOPPED)
def weekly_full_assessor_refresh(context: dg.ScheduleEvaluationContext):
    """Sundays at 04:00 in Phoenix: every ZIP with every parcel's detail fetched again."""
    day = context.scheduled_execution_time.astimezone(ZoneInfo(TIMEZONE)).date()
    config = {"ops": {"raw_assessor_payloads": {"config": {"full_refresh": True}}}}
    for zip_code in ZIP_DAY_PARTITIONS.get_partitions_def_for_dimension("zip").get_partition_keys():
        yield dg.RunRequest(run_key=f"full|{day}|{zip_code}", partition_key=partition_key(day, zip_code),
                            run_config=config, tags={"phoenix/refresh": "full"})


def build_resources(settings: Settings) -> dict:
    database = settings.mongodb_database
    mongo = (MongoResource(uri=dg.EnvVar("MONGODB_URI"), database=database) if os.environ.get("MONGODB_URI")
             else MongoResource(database=database))
    lake = LakeResource(base_dir=str(settings.lake_dir))
    return {
        "lake": lake,
        "io_manager": LakeIOManager(lake=lake),
        "warehouse": WarehouseResource(database=str(settings.warehouse_path)),
        "mongo": mongo,
        "alert_channels": alert_channels(),
        "ollama": OllamaResource(host=settings.ollama.host, model=settings.ollama.model,
                                 timeout_s=settings.ollama.timeout_s, batch_size=settings.ollama.batch_size,
                                 concurrency=settings.ollama.concurrency),  # None: the tuning state decides
        "sources": SourcesResource(
            assessor=settings.assessor_source,
            listings=list(settings.listing_sources),
            assessor_property_types=list(settings.residential_types),
            refresh_days=settings.maricopa.refresh_days,
            concurrency=settings.maricopa.concurrency,
            maricopa=maricopa_resource(settings),
            inbox_dir=str(settings.inbox_dir),
            reso=reso_resource(settings),
            mls_html=mls_html_resource(settings),
        ),
    }


def reso_resource(settings: Settings) -> ResoResource | None:
    listings = settings.listings
    if not listings.reso_url:
        return None
    token = dg.EnvVar("RESO_API_TOKEN") if os.environ.get("RESO_API_TOKEN") else None
    return ResoResource(url=listings.reso_url, token=token, page_size=listings.reso_page_size,
                        rate_limit_per_minute=listings.reso_rate_limit_per_minute)


def mls_html_resource(settings: Settings) -> MlsHtmlResource | None:
    listings = settings.listings
    if not listings.mls_url:
        return None
    resource = MlsHtmlResource(url=listings.mls_url, selectors_file=listings.mls_selectors_file,
                               rate_limit_per_minute=listings.mls_rate_limit_per_minute,
                               proxies=list(listings.mls_proxies), user_agent=listings.mls_user_agent)
    resource.selectors()  # validated at start-up: a broken selector file stops the code location loading
    return resource


def maricopa_resource(settings: Settings) -> MaricopaResource:
    """The county API's settings; the token comes from the environment through EnvVar, so the
    UI and run metadata show its name, never its value."""
    m = settings.maricopa
    token = dg.EnvVar("MARICOPA_API_TOKEN") if os.environ.get("MARICOPA_API_TOKEN") else None
    return MaricopaResource(url=m.url, token=token, rate_limit_per_hour=m.rate_limit_per_hour, timeout_s=m.timeout_s,
                            retry_budget=m.retry_budget, max_attempts=m.max_attempts)


def alert_channels() -> AlertChannelsResource:
    """PHOENIX_ALERT_WEBHOOK_URL and SMTP_* from the environment; the SMTP password via EnvVar."""
    env = os.environ
    return AlertChannelsResource(
        webhook_url=env.get("PHOENIX_ALERT_WEBHOOK_URL") or None,
        smtp_host=env.get("SMTP_HOST") or None, smtp_port=int(env.get("SMTP_PORT") or 587),
        smtp_user=env.get("SMTP_USER") or None,
        smtp_password=dg.EnvVar("SMTP_PASSWORD") if env.get("SMTP_PASSWORD") else None,
        email_from=env.get("ALERT_EMAIL_FROM") or None,
        email_to=[a.strip() for a in (env.get("ALERT_EMAIL_TO") or "").split(",") if a.strip()],
    )


# Cross-cutting policy, applied once to the whole graph (not repeated on every asset):
# marts and rollups follow their inputs for every updated partition, and only once the
# blocking checks upstream have passed; marts say how fresh they must be.
FOLLOW_INPUTS = (
    dg.AutomationCondition.eager().without(dg.AutomationCondition.in_latest_time_window())
    & dg.AutomationCondition.all_deps_blocking_checks_passed()
)
MART_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=26), warn_window=timedelta(hours=25))
AUTOMATED_GROUPS = {"marts", "rollups", "serving"}


def apply_policies(assets: list) -> list:
    def policy(spec: dg.AssetSpec) -> dg.AssetSpec:
        changes = {}
        if spec.group_name in AUTOMATED_GROUPS:
            changes["automation_condition"] = FOLLOW_INPUTS
        if spec.group_name == "marts":
            changes["freshness_policy"] = MART_FRESHNESS
        return spec.replace_attributes(**changes) if changes else spec

    return dg.map_asset_specs(policy, assets)


def build_definitions(settings: Settings, **resource_overrides) -> dg.Definitions:
    return dg.Definitions(
        assets=apply_policies([
            *dg.load_assets_from_modules([raw, staging, intermediate, enriched, serving, rollups]),
            *sql_model_assets,
        ]),
        asset_checks=schema_checks,
        jobs=[daily_refresh],
        schedules=[daily_refresh_schedule, weekly_full_assessor_refresh],
        sensors=[quality_and_budget_alerts, retune_from_run_metrics],
        resources={**build_resources(settings), **resource_overrides},
    )


defs = build_definitions(Settings.from_env())
