"""The code location, assembled from settings: every asset with its group and partitions, the
checks generated from the table schemas, the jobs, schedules, sensors and the resources of
this deployment.

`build_definitions(settings)` is the only path from settings to definitions; nothing here
reads the environment. `code_location.py` builds the `defs` Dagster loads from the process's
environment; `phoenix-estate` and the tests build their own.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

import dagster as dg

from assets import (
    alert_delivery,
    batch_tuning,
    enriched,
    health,
    intermediate,
    partition_rollups,
    raw,
    report,
    retention,
    serving,
    staging,
    warehouse_build,
)
from phoenix_dagster.automation.executors import partition_executor
from phoenix_dagster.automation.run_worker import RunWorkerResource
from phoenix_dagster.automation.schedules import build_schedules, retention_schedule
from phoenix_dagster.automation.sensors import (
    alert_on_run_failure,
    probe_services_every_5_minutes,
    quality_and_budget_alerts,
    retune_from_run_metrics,
    warehouse_after_partitions,
)
from phoenix_dagster.graph.bookkeeping import recorded_tables
from phoenix_dagster.graph.check_factories import (
    lake_schema_check,
    quarantine_rate_check,
    records_accounted_for_check,
    search_complete_check,
    sources_delivered_check,
    zips_collected_check,
)
from phoenix_dagster.graph.job_names import (
    BUILD_WAREHOUSE,
    COMPACT_RAW_BODIES,
    DAILY_REFRESH,
    DELIVER_ALERTS,
    PROBE_SERVICES,
    TUNE_BATCHES,
    WAREHOUSE_WRITER_TAG,
)
from phoenix_dagster.graph.lake_io import LakeIOManager
from phoenix_dagster.graph.partitions import county_day_partitions
from phoenix_dagster.resources.alerting import AlertChannelsResource
from phoenix_dagster.resources.control_state import ControlStateResource
from phoenix_dagster.resources.lake import lake_resource
from phoenix_dagster.resources.mongo import MongoResource
from phoenix_dagster.resources.ollama import OllamaResource
from phoenix_dagster.resources.quality_targets import QualityTargetsResource
from phoenix_dagster.resources.source_clients import SourcesResource
from phoenix_dagster.resources.warehouse import PublishedWarehouseResource, WarehouseBuildResource
from phoenix_dagster.schemas.tables import lake_table
from phoenix_dagster.settings import SQL_DIR, Settings
from phoenix_dagster.warehouse.sql_project import discover_models

# Groups are assigned here, where the graph is assembled: lake layers (partitioned county × day)
# and warehouse layers (built once after the day's partitions) each in groups of their own.
LAKE_GROUPS = {
    raw: "lake_raw",
    staging: "lake_staging",
    intermediate: "lake_intermediate",
    enriched: "lake_enriched",
    partition_rollups: "lake_rollups",
}
WAREHOUSE_OPS, SERVING = "warehouse_ops", "serving"
LEDGERED_ASSETS = ("stg_assessor__search_results", "stg_assessor__parcels", "stg_listings__listings")

# Cross-cutting policy, applied once to the whole graph (not repeated on every asset): the
# partition rollups follow their inputs for every updated partition once the blocking checks
# upstream have passed; marts say how fresh they must be.
FOLLOW_INPUTS = (
    dg.AutomationCondition.eager().without(dg.AutomationCondition.in_latest_time_window())
    & dg.AutomationCondition.all_deps_blocking_checks_passed()
)
MART_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=26), warn_window=timedelta(hours=25))


def lake_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    """The partitioned assets, in their layers' groups. Each configured listing source gets a raw
    asset of its own; the assets that read those assets' bookkeeping are built knowing them."""
    partitions = county_day_partitions(settings)
    listing_assets = [raw.listing_asset_name(source) for source in settings.listing_sources]
    built_here = {
        raw: [
            health.service_preflight_asset(settings),
            *(
                raw.raw_assessor_payloads_asset(source)
                if source.kind == "assessor"
                else raw.raw_listing_payloads_asset(source)
                for source in settings.configured_sources
            ),
        ],
        staging: [staging.stg_listings_asset(list(settings.listing_sources))],
        intermediate: [intermediate.int_listings_matched_asset(listing_assets)],
        partition_rollups: [
            partition_rollups.quality_daily_asset(listing_assets),
            partition_rollups.run_metrics_asset(listing_assets),
        ],
    }
    assets = []
    for module, group in LAKE_GROUPS.items():

        def policy(spec: dg.AssetSpec, group=group) -> dg.AssetSpec:
            return spec.replace_attributes(
                group_name=group,
                partitions_def=partitions,
                automation_condition=FOLLOW_INPUTS if group == "lake_rollups" else spec.automation_condition,
            )

        module_assets = [a for a in dg.load_assets_from_modules([module]) if isinstance(a, dg.AssetsDefinition)]
        assets += dg.map_asset_specs(policy, [*module_assets, *built_here.get(module, [])])
    return assets


def bookkeeping_writers(assets: list[dg.AssetsDefinition]) -> dict[str, list[dg.AssetKey]]:
    """Bookkeeping table → the assets that declare they record it."""
    writers: dict[str, list[dg.AssetKey]] = {}
    for asset in assets:
        for spec in asset.specs:
            for table in recorded_tables(spec.metadata):
                writers.setdefault(table, []).append(spec.key)
    return writers


def warehouse_assets(recorders: list[dg.AssetsDefinition]) -> tuple[list[dg.AssetsDefinition], list]:
    """The SQL models, seeds, storage measurement and published copy, and their checks."""
    models = discover_models(SQL_DIR, seeds=frozenset(warehouse_build.SEEDS))
    writers = bookkeeping_writers(recorders)
    built = [
        dg.map_asset_specs(
            lambda spec, m=m: spec.replace_attributes(
                group_name=f"warehouse_{m.layer}", freshness_policy=MART_FRESHNESS if m.layer == "marts" else None
            ),
            [warehouse_build.sql_model_asset(m, writers)],
        )[0]
        for m in models
    ]
    seeds = [warehouse_build.seed_asset(table) for table in warehouse_build.SEEDS]
    keys = [m.key for m in models] + [key for seed in seeds for key in seed.keys] + [*warehouse_build.degradations.keys]
    published = warehouse_build.published_warehouse_asset(keys)
    ops = dg.map_asset_specs(
        lambda spec: spec.replace_attributes(group_name=WAREHOUSE_OPS),
        [*seeds, warehouse_build.degradations, warehouse_build.storage_measurement, published],
    )
    return built + ops, []  # the models' checks run in their own steps (warehouse_build.sql_model_asset)


def build_resources(settings: Settings) -> dict:
    """This deployment's resources. Secrets go in as EnvVar, so the UI shows their names only."""
    lake = lake_resource(settings)
    secret = lambda name: dg.EnvVar(name) if settings.has_secret(name) else None  # noqa: E731
    alerts, llm, m = settings.alerts, settings.ollama, settings.maricopa
    shared = settings.shared_source_settings
    source_resources = {
        source.resource_key: source.resource(settings.settings_of(source), shared, secret)
        for source in settings.configured_sources
    }
    mls = next((source for source in settings.configured_sources if source.name == "mls_html"), None)
    return {
        "run_worker": RunWorkerResource(executor=settings.executor),
        "lake": lake,
        "io_manager": LakeIOManager(lake=lake),
        "control_state": ControlStateResource(control_dir=str(settings.control_dir), lake=lake),
        "warehouse": PublishedWarehouseResource(
            path=str(settings.warehouse_path), lake=lake, memory_limit_mb=settings.duckdb_memory_mb
        ),
        "warehouse_build": WarehouseBuildResource(
            build_path=str(settings.warehouse_build_path),
            published_path=str(settings.warehouse_path),
            lake=lake,
            memory_limit_mb=settings.duckdb_memory_mb,
        ),
        "mongo": MongoResource(
            uri=secret("MONGODB_URI"),
            database=settings.mongodb_database,
            export_dir=str(settings.serving_dir),
            stand_in=settings.mongodb_stand_in,
        ),
        "alert_channels": AlertChannelsResource(
            webhook_url=secret("PHOENIX_ALERT_WEBHOOK_URL"),
            smtp_host=alerts.smtp_host,
            smtp_port=alerts.smtp_port,
            smtp_user=alerts.smtp_user,
            smtp_password=secret("SMTP_PASSWORD"),
            smtp_ca_file=alerts.smtp_ca_file,
            smtp_implicit_tls={"auto": None, "implicit": True, "starttls": False}[alerts.smtp_tls],
            email_from=alerts.email_from,
            email_to=list(alerts.email_to),
        ),
        "quality_targets": QualityTargetsResource(
            freshness_target_hours=alerts.freshness_target_hours,
            **asdict(alerts.levels),
        ),
        "ollama": OllamaResource(
            host=llm.host,
            model=llm.model,
            timeout_s=llm.timeout_s,
            batch_size=llm.batch_size,
            concurrency=llm.concurrency,
        ),
        "sources": SourcesResource(
            assessor=settings.assessor_source,
            listings=list(settings.listing_sources),
            complete_listings=[source.name for source in settings.configured_sources if source.complete],
            max_search_rows=settings.max_search_rows,
            assessor_property_types=list(settings.residential_types),
            refresh_days=m.refresh_days,
            concurrency=m.concurrency,
            mls_selectors_file=settings.settings_of(mls).selectors_file if mls else None,
        ),
        **source_resources,
    }


def build_definitions(settings: Settings, **resource_overrides) -> dg.Definitions:
    override = resource_overrides.get("sources")
    if override is not None and list(override.listings) != list(settings.listing_sources):
        raise ValueError(
            f"the sources resource lists {override.listings} but PHOENIX_LISTING_SOURCE says "
            f"{list(settings.listing_sources)}: the graph has one raw asset per configured source"
        )
    lake = lake_assets(settings)
    partitions = county_day_partitions(settings)  # the lake's checks are partitioned like their assets
    served = dg.map_asset_specs(
        lambda spec: spec.replace_attributes(group_name=SERVING), dg.load_assets_from_modules([serving])
    )
    warehouse, warehouse_checks = warehouse_assets([*lake, *served, warehouse_build.storage_measurement])
    daily_html_report = report.daily_html_report_asset(
        settings.reports_dir, settings.maricopa.refresh_days, settings.market
    )
    lake_keys = [key for asset in lake for key in asset.keys]
    build_keys = [key for asset in (*warehouse, *served, daily_html_report) for key in asset.keys]
    service_up_checks = health.service_up_checks(settings)  # evaluated by the steps that probe, not run as steps
    not_as_steps = dg.AssetSelection.checks(*service_up_checks)
    daily_refresh = dg.define_asset_job(
        DAILY_REFRESH,
        selection=dg.AssetSelection.assets(*lake_keys) - not_as_steps,
        executor_def=partition_executor(settings),
        description="Collect, stage, resolve and enrich one county × day partition into the lake, ZIP by ZIP "
        "(all of the county's configured ZIPs, or those the run's phoenix/zips tag names).",
    )
    build_warehouse = dg.define_asset_job(
        BUILD_WAREHOUSE,
        selection=dg.AssetSelection.assets(*build_keys) - not_as_steps,
        executor_def=dg.in_process_executor,
        tags={WAREHOUSE_WRITER_TAG: "true"},
        description="Build the warehouse from the lake (SQL models, ops rollups, checks), serve MongoDB and "
        "publish the read-only copy. The warehouse's only writer; runs once after the day's partitions.",
    )
    deliver_alerts = dg.define_asset_job(
        DELIVER_ALERTS,
        selection=[alert_delivery.alert_deliveries],
        executor_def=dg.in_process_executor,
        description="Send the alerts the alert sensor found to the channels that still owe them, and record it.",
    )
    tune_batches = dg.define_asset_job(
        TUNE_BATCHES,
        selection=[batch_tuning.batch_tuning],
        executor_def=dg.in_process_executor,
        description="Decide the tuned stages' next batch size and concurrency from the run metrics the tuning "
        "sensor passed in, and record the decisions.",
    )
    service_health = health.service_health_asset(settings)
    probe_services = dg.define_asset_job(
        PROBE_SERVICES,
        selection=[service_health],
        executor_def=dg.in_process_executor,
        description="Probe every configured dependency once (county API, RESO feed, MLS site, Ollama, MongoDB), "
        "record state, latency and reason, and report each as its service's check.",
    )
    raw_retention = retention.raw_body_retention_asset(settings.raw_retention_days)
    compact_raw_bodies = dg.define_asset_job(
        COMPACT_RAW_BODIES,
        selection=[raw_retention],
        executor_def=dg.in_process_executor,
        description="Compact raw county replies older than PHOENIX_RAW_RETENTION_DAYS (owners' names dropped).",
    )
    return dg.Definitions(
        assets=[
            *lake,
            *warehouse,
            *served,
            daily_html_report,
            alert_delivery.alert_deliveries,
            batch_tuning.batch_tuning,
            raw_retention,
            service_health,
        ],
        asset_checks=[
            lake_schema_check(key.to_user_string(), lake_table(key.to_user_string()), partitions_def=partitions)
            for key in lake_keys
            if lake_table(key.to_user_string()) is not None
        ]
        + [records_accounted_for_check(name, partitions) for name in LEDGERED_ASSETS]
        + [
            quarantine_rate_check(
                name, settings.quarantine_warn_rate, ledgered=name in LEDGERED_ASSETS, partitions_def=partitions
            )
            for name in (
                *LEDGERED_ASSETS,
                "raw_assessor_payloads",
                *(raw.listing_asset_name(source) for source in settings.listing_sources),
            )
        ]
        + [
            sources_delivered_check(
                "stg_listings__listings",
                [raw.listing_asset_name(source) for source in settings.listing_sources],
                settings.optional_sources,
                partitions,
            ),
            sources_delivered_check("stg_assessor__search_results", [], (), partitions),
        ]
        + [search_complete_check(partitions)]
        + [
            zips_collected_check(name, partitions)
            for name in ("raw_assessor_payloads", *(raw.listing_asset_name(s) for s in settings.listing_sources))
        ]
        + warehouse_checks
        + service_up_checks,
        jobs=[daily_refresh, build_warehouse, deliver_alerts, tune_batches, compact_raw_bodies, probe_services],
        schedules=[
            *build_schedules(daily_refresh, sorted(set(settings.zip_counties.values())), settings.market),
            retention_schedule(compact_raw_bodies, settings.market),
        ],
        sensors=[
            warehouse_after_partitions(settings.build_sensor_interval_s),
            quality_and_budget_alerts,
            retune_from_run_metrics,
            probe_services_every_5_minutes,
            alert_on_run_failure(
                deliver_alerts,
                [daily_refresh, build_warehouse, tune_batches, compact_raw_bodies],
                settings.market.timezone,
            ),
        ],
        resources={**build_resources(settings), **resource_overrides},
        executor=dg.in_process_executor,  # ad hoc materializations too: the build's lock is held per process
    )
