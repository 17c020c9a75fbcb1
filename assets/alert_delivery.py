"""Alert delivery: the small run the alert sensors request. The sensors only decide (no side
effects while they are evaluated, so "Preview tick result" in the UI sends nothing); this asset
sends each alert to the channels that still owe it and records every delivery in the control
state, where the next tick of the alert sensor reads what is still owed — of any alert, a failed
run's included — until every channel took it, or ALERT_RETRY_DAYS have passed and it is recorded
as undeliverable."""

from datetime import UTC, date, datetime

import dagster as dg
import polars as pl

from phoenix_dagster.monitoring.alerts import ALERT_RETRY_DAYS, Alert
from phoenix_dagster.resources.alerting import AlertChannelsResource
from phoenix_dagster.resources.control_state import ControlStateResource
from phoenix_dagster.schemas import column_docs
from phoenix_dagster.schemas.ops import Alerts


class AlertToDeliver(dg.Config):
    condition: str  # a stable key: the same problem on the same day has the same key
    severity: str
    message: str
    channels: list[str]  # the channels that have not taken it yet
    day: str | None = None  # the alert's own day when not the delivery's (an alert still owed from an earlier day)
    give_up: bool = False  # owed for ALERT_RETRY_DAYS: record it as undeliverable, send nothing


class AlertDeliveryConfig(dg.Config):
    day: str  # the alerts' day (America/Phoenix), ISO
    alerts: list[AlertToDeliver]


@dg.asset(
    group_name="operations", kinds={"python"}, metadata={"dagster/column_schema": column_docs(Alerts)}
)  # the control table it writes
def alert_deliveries(
    context: dg.AssetExecutionContext,
    config: AlertDeliveryConfig,
    alert_channels: AlertChannelsResource,
    control_state: ControlStateResource,
) -> dg.MaterializeResult:
    """Sends each alert the sensors found to every channel that has not taken it (re-executing the
    run sends nothing twice) and records, per alert, the channels that took it and those still
    owed. A channel that failed fails the run, naming the channel; the alert sensor asks again
    every tick for ALERT_RETRY_DAYS, then the alert is recorded as undeliverable (ops.alerts, the
    report)."""
    now = datetime.now(UTC)
    rows, owed, given_up = [], {}, []
    for item in config.alerts:
        day = date.fromisoformat(item.day or config.day)
        alert = Alert(item.condition, item.severity, item.message)
        before = control_state.alert_record(day, alert.condition) or {}
        already = list(before.get("channels") or [])
        first = before.get("first_attempt_at") or now
        if item.give_up:
            missing, took = sorted(set(item.channels) - set(already)), []
            context.log.error(
                f"ALERT {alert.condition} ({day}) undeliverable: {', '.join(missing)} did not take it "
                f"in {ALERT_RETRY_DAYS} days"
            )
            given_up.append(alert.condition)
        else:
            took = alert_channels.deliver(
                alert, day, context.log, channels=[c for c in item.channels if c not in already]
            )
            missing = sorted(set(item.channels) - set(already) - set(took))
            if missing:
                owed[alert.condition] = missing
        status = "undeliverable" if item.give_up else ("owed" if missing else "delivered")
        rows.append(
            {
                "day": day,
                "condition": alert.condition,
                "severity": alert.severity,
                "message": alert.message,
                "channels": sorted(set(already) | set(took)),
                "owed": missing,
                "status": status,
                "first_attempt_at": first,
                "sent_at": now,
            }
        )
    if rows:
        control_state.record_alerts(
            pl.DataFrame(rows, schema_overrides={"owed": pl.List(pl.String), "channels": pl.List(pl.String)})
        )
    delivered = {row["condition"]: ", ".join(row["channels"]) for row in rows}
    if owed:
        raise dg.Failure(
            description="not delivered: "
            + "; ".join(f"{c} → {', '.join(ch)}" for c, ch in owed.items())
            + " (the alert sensor requests another delivery next tick)",
            metadata={"delivered": dg.MetadataValue.json(delivered), "undelivered": dg.MetadataValue.json(owed)},
        )
    return dg.MaterializeResult(
        metadata={
            "alerts": len(rows),
            "delivered": dg.MetadataValue.json(delivered),
            "undeliverable": dg.MetadataValue.json(given_up),
        }
    )
