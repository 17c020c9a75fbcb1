"""Alert delivery: the small run the alert sensor requests. The sensor only decides (no side
effects while it is evaluated, so "Preview tick result" in the UI sends nothing); this asset
sends each alert to the channels that still owe it and records every delivery in the control
state, where the next tick reads what is still owed."""

from datetime import date, datetime, timezone

import dagster as dg
import polars as pl

from phoenix_dagster.alerts import Alert
from phoenix_dagster.resources.alerting import AlertChannelsResource
from phoenix_dagster.resources.control_state import ControlStateResource
from phoenix_dagster.schemas import column_docs
from phoenix_dagster.schemas.ops import Alerts


class AlertToDeliver(dg.Config):
    condition: str  # a stable key: the same problem on the same day has the same key
    severity: str
    message: str
    channels: list[str]  # the channels that have not taken it yet


class AlertDeliveryConfig(dg.Config):
    day: str  # the alerts' day (America/Phoenix), ISO
    alerts: list[AlertToDeliver]


@dg.asset(group_name="operations", kinds={"python"},
          metadata={"dagster/column_schema": column_docs(Alerts)})  # the control table it writes
def alert_deliveries(context: dg.AssetExecutionContext, config: AlertDeliveryConfig,
                     alert_channels: AlertChannelsResource, control_state: ControlStateResource) -> dg.MaterializeResult:
    """Sends each alert the sensor found to every channel that has not taken it today (re-executing
    the run sends nothing twice) and records, per alert, the channels that took it. A channel that
    failed fails the run, naming the channel; the alert sensor requests another delivery next tick."""
    day = date.fromisoformat(config.day)
    before = control_state.alerts_delivered(day)
    rows, owed = [], {}
    for item in config.alerts:
        alert = Alert(item.condition, item.severity, item.message)
        already = before.get(alert.condition, [])
        took = alert_channels.deliver(alert, day, context.log, channels=[c for c in item.channels if c not in already])
        rows.append({"day": day, "condition": alert.condition, "severity": alert.severity, "message": alert.message,
                     "channels": sorted(set(already) | set(took)), "sent_at": datetime.now(timezone.utc)})
        missing = sorted(set(item.channels) - set(already) - set(took))
        if missing:
            owed[alert.condition] = missing
    if rows:
        control_state.record_alerts(pl.DataFrame(rows))
    delivered = {row["condition"]: ", ".join(row["channels"]) for row in rows}
    if owed:
        raise dg.Failure(
            description="not delivered: " + "; ".join(f"{c} → {', '.join(ch)}" for c, ch in owed.items())
                        + " (the alert sensor requests another delivery next tick)",
            metadata={"delivered": dg.MetadataValue.json(delivered), "undelivered": dg.MetadataValue.json(owed)})
    return dg.MaterializeResult(metadata={"alerts": len(rows), "delivered": dg.MetadataValue.json(delivered)})
