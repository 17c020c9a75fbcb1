"""Sensors: the alerting sensor (this file) reads the ops tables and the check history."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import polars as pl

from phoenix_dagster.alerts import find_alerts
from phoenix_dagster.partitions import TIMEZONE
from phoenix_dagster.resources.alerting import AlertChannelsResource
from phoenix_dagster.resources.warehouse import WarehouseResource


def failed_checks_today(instance: dg.DagsterInstance, check_keys, day) -> list[str]:
    failed = []
    for key in check_keys:
        record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key]).get(key)
        if record is None or record.evaluation is None or record.evaluation.passed:
            continue
        when = datetime.fromtimestamp(record.create_timestamp, timezone.utc).astimezone(ZoneInfo(TIMEZONE)).date()
        if when == day:
            failed.append(f"{key.asset_key.to_user_string()}:{key.name}")
    return failed


@dg.sensor(minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.STOPPED)
def quality_and_budget_alerts(context: dg.SensorEvaluationContext, warehouse: WarehouseResource,
                              alert_channels: AlertChannelsResource):
    """Failed checks, quality below fair (POOR), stale data and budget thresholds: one alert per
    condition per day, to the Dagster log and to the configured webhook and e-mail."""
    day = datetime.now(ZoneInfo(TIMEZONE)).date()
    target = float(os.environ.get("PHOENIX_FRESHNESS_TARGET_HOURS", "24") or 24)
    try:
        quality = warehouse.query("select * from ops.quality_daily where date = (select max(date) from ops.quality_daily)")
        budget = (warehouse.query("select * from ops.budget_status where month = ?", [day.strftime("%Y-%m")])
                  if warehouse.has_table("budget_status") else pl.DataFrame())
        sent = set(warehouse.query("select condition from ops.alerts where day = ?", [day])["condition"].to_list())
    except duckdb.Error as exc:  # a run holds the warehouse: look again next tick
        return dg.SkipReason(f"warehouse busy: {exc}")
    check_keys = context.repository_def.asset_graph.asset_check_keys if context.repository_def else []
    alerts = find_alerts(day=day, quality=quality, budget=budget, freshness_target_hours=target,
                         failed_checks=failed_checks_today(context.instance, check_keys, day))
    new = [a for a in alerts if a.condition not in sent]
    if not new:
        return dg.SkipReason(f"{len(alerts)} condition(s), all alerted already today" if alerts else "all clear")
    rows = [{"day": day, "condition": a.condition, "severity": a.severity, "message": a.message,
             "channels": alert_channels.deliver(a, day, context.log), "sent_at": datetime.now(timezone.utc)}
            for a in new]
    warehouse.append_rows("ops.alerts", pl.DataFrame(rows))
    return dg.SkipReason(f"sent {len(new)} alert(s): {', '.join(a.condition for a in new)}")


RUN_METRICS = dg.AssetKey("run_metrics")
TUNED_STAGES = ("collection:assessor", "enrichment")


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def retune_from_run_metrics(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    """Reads every run_metrics materialization since the last one it saw (a storage-id cursor,
    not @asset_sensor, which sees only the latest between ticks) and lets the controller decide
    each tuned stage's next batch size and concurrency into ops.batch_tuning."""
    from phoenix_dagster.tuning.controller import decide
    from phoenix_dagster.tuning.state import current_setting

    cursor = int(context.cursor) if context.cursor else None
    result = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=RUN_METRICS, after_storage_id=cursor), limit=1000, ascending=True)
    if not result.records:
        return dg.SkipReason("no new run metrics")
    decisions = []
    try:
        for record in result.records:
            materialization = record.asset_materialization
            stages = materialization.metadata["stages"].data if "stages" in materialization.metadata else []
            for metrics in stages:
                if metrics["stage"] not in TUNED_STAGES:
                    continue
                batch, concurrency, origin = current_setting(warehouse, metrics["stage"])
                decision = decide(batch, concurrency, metrics)
                row = {"decided_at": datetime.now(timezone.utc), "stage": metrics["stage"], "run_id": record.run_id,
                       "batch_size_old": batch, "batch_size_new": decision.batch_size, "concurrency_old": concurrency,
                       "concurrency_new": decision.concurrency, "reason": decision.reason}
                warehouse.append_rows("ops.batch_tuning", pl.DataFrame([row]))
                decisions.append(row)
    except duckdb.Error as exc:
        return dg.SkipReason(f"warehouse busy, will read these metrics again: {exc}")
    context.update_cursor(str(result.records[-1].storage_id))
    return dg.SkipReason(f"{len(result.records)} run metrics read, {len(decisions)} decisions: "
                         + "; ".join(f"{d['stage']} {d['batch_size_new']}/{d['concurrency_new']}" for d in decisions))
