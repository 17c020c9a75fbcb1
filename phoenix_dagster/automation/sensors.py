"""Sensors: build the warehouse after the day's partitions, alert on what the published
warehouse and the check history show, and re-tune from run metrics.

None of them opens the warehouse's build file: they read the published copy, the Dagster
instance, and the control state under the data directory.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import dagster as dg
import polars as pl
import psutil

from phoenix_dagster.automation.dagster_private import finished_check_statuses
from phoenix_dagster.graph.job_names import (
    ASSET_JOB,
    BUILD_WAREHOUSE,
    BUILT_BY_COMMAND_TAG,
    DAILY_REFRESH,
    DELIVER_ALERTS,
    PROBE_SERVICES,
    REPORT_DAYS_TAG,
    TUNE_BATCHES,
)
from phoenix_dagster.graph.partitions import ZIPS_TAG, day_of_key
from phoenix_dagster.markets.market import today_in_zone
from phoenix_dagster.monitoring.alerts import disk_alerts, find_alerts, still_owed, system_alerts
from phoenix_dagster.resources.alerting import AlertChannelsResource
from phoenix_dagster.resources.control_state import ControlStateResource
from phoenix_dagster.resources.quality_targets import QualityTargetsResource
from phoenix_dagster.resources.warehouse import PublishedWarehouseResource
from phoenix_dagster.tuning.state import TUNED_STAGES
from phoenix_dagster.warehouse.queries import query as sql

IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]
LAKE_WRITING_JOBS = (DAILY_REFRESH, ASSET_JOB)  # the partition job, and what the UI launches from the asset graph


def warehouse_after_partitions(interval_s: int = 60) -> dg.SensorDefinition:
    """The build sensor, evaluated at most every `interval_s` seconds (PHOENIX_BUILD_SENSOR_INTERVAL_S)."""

    @dg.sensor(
        name="warehouse_after_partitions",
        job_name=BUILD_WAREHOUSE,
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Requests one warehouse build once runs that wrote lake partitions have finished — a "
            "daily_refresh run, or a launch from the asset graph (__ASSET_JOB), whatever the job — and "
            "none of them is queued or running: the day's ZIPs are built together, not once per run. "
            "Passes over check-only runs (the 5-minute service probes) and the partition runs of a "
            "`phoenix-estate run` that builds by itself. The build rewrites the HTML report of every "
            "day whose lake data changed. Running by default; stop it in Automation to build by hand."
        ),
    )
    def sensor(context: dg.SensorEvaluationContext):
        return after_partition_runs(context)

    return sensor


def after_partition_runs(context: dg.SensorEvaluationContext):
    """The build sensor's evaluation: one build request once the runs that wrote lake partitions
    have finished and none is in flight, naming the days they wrote."""
    since = float(context.cursor) if context.cursor else None
    finished = context.instance.get_run_records(
        dg.RunsFilter(
            job_name=None, statuses=FINISHED, updated_after=datetime.fromtimestamp(since, UTC) if since else None
        ),
        limit=500,
    )
    finished = [
        r
        for r in finished
        if r.end_time is not None
        and (since is None or r.end_time > since)
        and r.dagster_run.job_name in LAKE_WRITING_JOBS
    ]
    if not finished:
        return dg.SkipReason("no run that could write the lake finished since the last build")
    waiting = sum(
        context.instance.get_runs_count(dg.RunsFilter(job_name=job, statuses=IN_FLIGHT)) for job in LAKE_WRITING_JOBS
    )
    if waiting:
        return dg.SkipReason(f"{len(finished)} run(s) finished; waiting for {waiting} still queued or running")
    newest = max(r.end_time for r in finished)
    context.update_cursor(str(newest))  # read once: a check-only run is not looked at again
    wrote = [r for r in finished if BUILT_BY_COMMAND_TAG not in r.dagster_run.tags]
    days = sorted({day for r in wrote for day in lake_days_written(context.instance, r.dagster_run.run_id)})
    if not days:
        return dg.SkipReason(
            f"{len(finished)} run(s) finished, none wrote a lake partition to build "
            "(check-only runs, or partitions their command builds itself)"
        )
    return dg.RunRequest(
        run_key=f"after-partitions-{newest}",
        tags={"phoenix/after_partition_runs": str(len(wrote)), REPORT_DAYS_TAG: ",".join(days)},
    )


def lake_days_written(instance: dg.DagsterInstance, run_id: str) -> set[str]:
    """The partition days (of `county|day` keys) whose lake assets the run materialized; empty for a
    run that only executed checks."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    days = {
        day_of_key(event.dagster_event.partition)
        for event in (r.event_log_entry for r in records)
        if event.dagster_event is not None and event.dagster_event.partition
    }
    return days - {None}


def delivery_config(day, alerts: list[dict]) -> dict:
    """The run config of a deliver_alerts run: the day, and each alert with the channels owed."""
    return {"ops": {"alert_deliveries": {"config": {"day": day.isoformat(), "alerts": alerts}}}}


def failed_checks_today(instance: dg.DagsterInstance, check_keys, day, timezone: str) -> list[str]:
    """ "asset:check [partition]" for every partition whose latest finished evaluation of the check
    today failed with severity ERROR. Evaluations still planned (a run queued or in progress, or
    checks left unexecuted after a blocking check failed upstream) have no result yet and are
    passed over. A lake check names the ZIPs it checked (`zips_checked`) and those that failed
    (`zips_failing`): each ZIP of a county's day is judged by the latest evaluation that checked it
    (`[<day>|<ZIP>]`), so a later run of another ZIP does not hide its failure. The partition is
    the check's, else its `partition` metadata, else its run's."""
    finished = finished_check_statuses()
    run_partitions: dict[str, str | None] = {}
    failed = []
    for key in check_keys:
        latest: dict[str | None, tuple[bool, str]] = {}  # partition (or day|ZIP) → (failed, severity)
        for record in instance.event_log_storage.get_asset_check_execution_history(key, limit=200, status=finished):
            when = datetime.fromtimestamp(record.create_timestamp, UTC).astimezone(ZoneInfo(timezone)).date()
            if when < day:
                break  # newest first: the rest are older
            evaluation = record.event.dagster_event.event_specific_data if record.event else None
            if when > day or evaluation is None:
                continue
            partition = record.partition or _metadata_text(evaluation.metadata.get("partition"))
            if partition is None:
                if record.run_id not in run_partitions:
                    run = instance.get_run_by_id(record.run_id)
                    run_partitions[record.run_id] = run.tags.get("dagster/partition") if run else None
                partition = run_partitions[record.run_id]
            checked = _metadata_list(evaluation.metadata.get("zips_checked"))
            if checked and partition:
                failing = set(_metadata_list(evaluation.metadata.get("zips_failing")))
                as_error = evaluation.metadata.get("zips_failing_error")  # each ZIP's own severity
                errors = set(_metadata_list(as_error)) if as_error is not None else failing
                day_of = day_of_key(partition) or partition
                for zip_code in checked:
                    did_fail = zip_code in failing and not evaluation.passed
                    severity = "ERROR" if zip_code in errors and evaluation.severity.value == "ERROR" else "WARN"
                    latest.setdefault(f"{day_of}|{zip_code}", (did_fail, severity))
            else:
                latest.setdefault(partition, (not evaluation.passed, evaluation.severity.value))
        failed += [
            f"{key.asset_key.to_user_string()}:{key.name}" + (f" [{partition}]" if partition else "")
            for partition, (did_fail, severity) in sorted(latest.items(), key=lambda item: str(item[0]))
            if did_fail and severity == "ERROR"
        ]
    return failed


def _metadata_list(value) -> list[str]:
    text = _metadata_text(value)
    return [] if not text or text == "none" else [item.strip() for item in text.split(",")]


def _metadata_text(value) -> str | None:
    return None if value is None else str(getattr(value, "value", value))


def conditions_found(
    context: dg.SensorEvaluationContext,
    warehouse: PublishedWarehouseResource,
    quality_targets: QualityTargetsResource,
    day,
    timezone: str,
) -> list:
    """Every alert condition the published warehouse and today's check results show."""
    quality = warehouse.query(sql("alerts__latest_quality"))
    budget = warehouse.query(sql("alerts__budget_of_month"), [day.strftime("%Y-%m")])
    match_rates = (
        warehouse.query(sql("alerts__latest_match_rates")) if warehouse.has_table("marts.listing_match_rates") else None
    )
    degradations = (
        warehouse.query(sql("alerts__latest_degradations")) if warehouse.has_table("ops.degradations") else None
    )
    check_keys = context.repository_def.asset_graph.asset_check_keys if context.repository_def else []
    alerts = find_alerts(
        day=day,
        quality=quality,
        budget=budget,
        match_rates=match_rates,
        degradations=degradations,
        freshness_target_hours=quality_targets.freshness_target_hours,
        failed_checks=failed_checks_today(context.instance, check_keys, day, timezone),
    )
    stages = (
        warehouse.query(sql("alerts__latest_stage_peaks"))
        if warehouse.has_table("ops.stage_metrics")
        else pl.DataFrame(schema={"stage": pl.String})
    )
    # Stages under a second are left out: CPU time counts in 10 ms ticks, so a 3 ms stage can
    # measure 150% of the machine (seen on the sample's listing stage).
    alerts += system_alerts(
        stages, quality_targets.system_levels(), total_memory_mb=psutil.virtual_memory().total / 2**20
    )
    disk = (
        warehouse.query(sql("alerts__least_free_disk_per_day"))
        if warehouse.has_table("ops.stage_metrics")
        else pl.DataFrame(schema={"day": pl.Date, "disk_free_mb": pl.Float64})
    )
    alerts += disk_alerts(disk, quality_targets.system_levels())
    return alerts


@dg.sensor(
    job_name=DELIVER_ALERTS,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Failed checks, quality below fair (POOR) or without data, stale data, a listing match rate 5 "
        "points below its 14-day median, a stage degraded against its own baseline, a stage's CPU or "
        "memory past its warning or critical level, and budget thresholds: "
        "one alert per condition per day. Decides only: it requests a deliver_alerts run for the "
        "alerts some configured channel (log, webhook, e-mail) has not taken yet — today's, and any "
        "earlier alert still owed, a failed run's included — so a channel that failed is retried every "
        "tick for 7 days (then the alert is recorded as undeliverable), and previewing a tick sends "
        "nothing."
    ),
)
def quality_and_budget_alerts(
    context: dg.SensorEvaluationContext,
    warehouse: PublishedWarehouseResource,
    control_state: ControlStateResource,
    quality_targets: QualityTargetsResource,
    alert_channels: AlertChannelsResource,
):
    zone = control_state.lake.market_timezone  # alerts' days are the market's
    day = date.fromisoformat(today_in_zone(zone))
    alerts = conditions_found(context, warehouse, quality_targets, day, zone) if warehouse.is_published else []
    delivered = control_state.alerts_delivered(day)  # condition → channels that took it today
    wanted = alert_channels.configured()
    due = [(a, [c for c in wanted if c not in delivered.get(a.condition, [])]) for a in alerts]
    owed = [
        {"condition": a.condition, "severity": a.severity, "message": a.message, "channels": missing}
        for a, missing in due
        if missing
    ]
    # … and whatever an earlier delivery still owes (a failed run's alert included), for ALERT_RETRY_DAYS
    owed += still_owed(
        control_state.alerts_owed(),
        wanted,
        datetime.now(UTC),
        already_due={(str(day), item["condition"]) for item in owed},
    )
    if not owed:
        if not warehouse.is_published:
            return dg.SkipReason("no warehouse published yet, and no alert owed")
        return dg.SkipReason(f"{len(alerts)} condition(s), all delivered already today" if alerts else "all clear")
    in_flight = context.instance.get_runs_count(dg.RunsFilter(job_name=DELIVER_ALERTS, statuses=IN_FLIGHT))
    if in_flight:
        return dg.SkipReason(f"{len(owed)} alert(s) owed; a {DELIVER_ALERTS} run is already queued or running")
    return dg.RunRequest(run_config=delivery_config(day, owed), tags={"phoenix/alerts": str(len(owed))})


RUN_METRICS = dg.AssetKey("run_metrics")
MEASURED = ("p95_ms", "error_rate", "rate_limited", "timeouts", "cpu_pct", "peak_rss_mb", "batch_size", "concurrency")


def tuning_config(measurements: list[dict]) -> dict:
    """The run config of a tune_batches run: the measurements its batch_tuning asset decides on."""
    return {"ops": {"batch_tuning": {"config": {"measurements": measurements}}}}


@dg.sensor(
    job_name=TUNE_BATCHES,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Reads every run_metrics materialization since the last one it saw (a storage-id cursor, not "
        "an asset sensor, which sees only the latest between ticks) and requests a tune_batches run "
        "with the tuned stages' measurements not decided yet. Writes nothing: the batch_tuning asset "
        "decides in that run, so previewing a tick only shows the run it would request."
    ),
)
def retune_from_run_metrics(context: dg.SensorEvaluationContext, control_state: ControlStateResource):
    cursor = int(context.cursor) if context.cursor else None
    result = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=RUN_METRICS, after_storage_id=cursor), limit=1000, ascending=True
    )
    if not result.records:
        return dg.SkipReason("no new run metrics")
    decided = control_state.decided_runs()  # a local set: nothing is written
    measurements, known = [], 0
    for record in result.records:
        metadata = record.asset_materialization.metadata
        stages = metadata["stages"].data if "stages" in metadata else []
        # one measurement per stage and run: a county's run measures each ZIP; its largest (most items) speaks for it
        for metrics in sorted(stages, key=lambda m: -(m.get("items") or 0)):
            measured_by = metrics.get("run_id") or record.run_id
            if metrics["stage"] not in TUNED_STAGES:
                continue
            if (metrics["stage"], measured_by) in decided:  # decided already, or in this request already
                known += 1
                continue
            decided.add((metrics["stage"], measured_by))
            measurements.append(
                {
                    "stage": metrics["stage"],
                    "run_id": measured_by,
                    **{k: metrics[k] for k in MEASURED if metrics.get(k) is not None},
                }
            )
    last = result.records[-1].storage_id
    context.update_cursor(str(last))
    already = f", {known} already decided" if known else ""
    if not measurements:
        return dg.SkipReason(f"{len(result.records)} run metrics read, nothing new to decide{already}")
    return dg.RunRequest(
        run_key=f"run-metrics-to-{last}",
        run_config=tuning_config(measurements),
        tags={"phoenix/measurements": str(len(measurements)), "phoenix/run_metrics_read": str(len(result.records))},
    )


def alert_on_run_failure(
    deliver_alerts: dg.UnresolvedAssetJobDefinition, monitored: list, timezone: str
) -> dg.SensorDefinition:
    """A run of `monitored` that failed requests a delivery of one CRITICAL alert naming it (the
    job, the partition, the first failure's words), filed under the market's day (`timezone`).
    Deciding only, like the alert sensor."""

    @dg.run_failure_sensor(
        monitored_jobs=monitored,
        request_job=deliver_alerts,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=(
            "A failed run of the partitions, the build, the tuning or the retention job "
            "alerts on every configured channel (through a deliver_alerts run)."
        ),
    )
    def alert_on_run_failure(context: dg.RunFailureSensorContext, alert_channels: AlertChannelsResource):
        # One request per failed run; a channel that does not take it leaves it owed in ops.alerts, and
        # the alert sensor asks again every tick (alerts.still_owed).
        run = context.dagster_run
        partition, zips = run.tags.get("dagster/partition"), run.tags.get(ZIPS_TAG)
        where = f"{run.job_name}" + (f" for {partition}" if partition else "") + (f" (ZIP {zips})" if zips else "")
        message = f"Run {run.run_id[:8]} of {where} failed: {context.failure_event.message or 'no message'}"
        day = date.fromisoformat(today_in_zone(timezone))
        alert = {
            "condition": f"run:{run.job_name}:{run.run_id}",
            "severity": "CRITICAL",
            "message": message[:2000],
            "channels": alert_channels.configured(),
        }
        return dg.RunRequest(run_key=f"run-failed:{run.run_id}", run_config=delivery_config(day, [alert]))

    return alert_on_run_failure


@dg.sensor(
    job_name=PROBE_SERVICES,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Every 5 minutes, requests a probe_services run (one probe of each configured dependency, "
        "recorded as ops.service_health and as each service's check on the asset using it), unless one is "
        "still queued or running. Probes nothing itself: previewing a tick only shows the run."
    ),
)
def probe_services_every_5_minutes(context: dg.SensorEvaluationContext):
    if context.instance.get_runs_count(dg.RunsFilter(job_name=PROBE_SERVICES, statuses=IN_FLIGHT)):
        return dg.SkipReason(f"a {PROBE_SERVICES} run is already queued or running")
    return dg.RunRequest(tags={"phoenix/trigger": "sensor"})
