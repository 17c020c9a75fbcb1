"""Alerts: failed checks, quality below fair, stale data, listing match rates falling and budget
thresholds, found from
the ops tables and the Dagster event log, sent once per condition per day to the Dagster
log, plus a webhook (JSON POST) and e-mail when configured."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage

import httpx
import polars as pl

from phoenix_dagster.settings import SystemLevels

ALERT_RETRY_DAYS = 7  # an alert a channel has not taken is tried again this long, then recorded as undeliverable


@dataclass(frozen=True)
class Alert:
    condition: str  # a stable key: the same problem on the same day has the same key
    severity: str  # WARNING | CRITICAL
    message: str


def still_owed(
    owed_rows: list[dict], configured: list[str], now: datetime, already_due: set[tuple[str, str]]
) -> list[dict]:
    """Deliveries for alerts some channel has not taken yet (ops.alerts rows with status `owed`, of
    any day, a failed run's included), as the alert sensor requests them: each to the channels it
    still owes that are still configured, or given up (recorded as undeliverable) once it has been
    owed for ALERT_RETRY_DAYS or no channel it owes is configured any more. `already_due`: (day,
    condition) the tick delivers anyway."""
    deliveries = []
    for row in owed_rows:
        if (str(row["day"]), row["condition"]) in already_due:
            continue
        channels = [channel for channel in row["owed"] or [] if channel in configured]
        first = row["first_attempt_at"] or row["sent_at"]
        give_up = not channels or now - first >= timedelta(days=ALERT_RETRY_DAYS)
        deliveries.append(
            {
                "condition": row["condition"],
                "severity": row["severity"],
                "message": row["message"],
                "channels": list(row["owed"] or []) if give_up else channels,
                "day": str(row["day"]),
                "give_up": give_up,
            }
        )
    return deliveries


def find_alerts(
    *,
    day: date,
    quality: pl.DataFrame,
    budget: pl.DataFrame,
    failed_checks: list[str],
    freshness_target_hours: float,
    match_rates: pl.DataFrame | None = None,
    degradations: pl.DataFrame | None = None,
) -> list[Alert]:
    """`quality`: ops.quality_daily rows of the day; `budget`: ops.budget_status of the month;
    `failed_checks`: "asset:check" names whose latest evaluation today failed; `match_rates`:
    marts.listing_match_rates rows of the latest day; `degradations`: ops.degradations rows of the
    latest day (one alert per stage, ZIP and metric)."""
    alerts = [
        Alert(f"check:{name}", "CRITICAL", f"Asset check {name} failed on {day}") for name in sorted(failed_checks)
    ]
    dropped = (
        []
        if match_rates is None or match_rates.is_empty()
        else match_rates.filter(pl.col("match_rate_dropped")).sort("PostalCode", "source").iter_rows(named=True)
    )
    worse = (
        []
        if degradations is None or degradations.is_empty()
        else degradations.sort("recorded_at")
        .unique(["stage", "PostalCode", "metric"], keep="last")
        .sort("stage", "PostalCode", "metric", nulls_last=True)
        .iter_rows(named=True)
    )
    for row in worse:
        where = f" in {row['PostalCode']}" if row["PostalCode"] else ""
        alerts.append(
            Alert(
                f"degradation:{row['stage']}:{row['PostalCode'] or 'all'}:{row['metric']}",
                "WARNING",
                f"Degradation of {row['stage']}{where}: {row['likely_cause']}",
            )
        )
    for row in dropped:
        alerts.append(
            Alert(
                f"match_rate:{row['PostalCode']}:{row['source']}",
                "WARNING",
                f"Listing match rate fell for {row['source']} in {row['PostalCode']} on {row['date']}: "
                f"{100 * row['match_rate']:.1f}% vs a 14-day median of {100 * row['match_rate_14d_median']:.1f}% "
                f"({row['ambiguous']} ambiguous, {row['unmatched']} unmatched of {row['listings']})",
            )
        )
    for row in quality.sort("PostalCode", "source").iter_rows(named=True):
        where = f"{row['source']} in {row['PostalCode']} on {row['date']}"
        if row["status"] == "POOR":
            alerts.append(
                Alert(
                    f"quality:{row['PostalCode']}:{row['source']}",
                    "WARNING",
                    f"Data quality POOR ({row['overall_score']:.2f}) for {where}: "
                    + "; ".join(row["issues"] or ["no single metric below fair"]),
                )
            )
        if row["status"] == "NO_DATA":
            alerts.append(
                Alert(
                    f"quality:{row['PostalCode']}:{row['source']}",
                    "WARNING",
                    f"No data: {row['source']} delivered no record in {row['PostalCode']} on {row['date']} "
                    f"({row['quarantined']} quarantined)",
                )
            )
        if row["freshness_hours"] is not None and row["freshness_hours"] > freshness_target_hours:
            alerts.append(
                Alert(
                    f"stale:{row['PostalCode']}:{row['source']}",
                    "WARNING",
                    f"Stale data: newest record {row['freshness_hours']:.1f} h old (target "
                    f"{freshness_target_hours:g} h) for {where}",
                )
            )
    for row in budget.iter_rows(named=True):
        if row["level"] != "OK":
            alerts.append(
                Alert(
                    f"budget:{row['month']}:{row['level']}",
                    row["level"],
                    f"Budget {row['level']}: ${row['month_to_date_usd']:.2f} of ${row['budget_usd']:.2f} "
                    f"spent in {row['month']} (projected ${row['projected_month_usd']:.2f})",
                )
            )
    return alerts


def disk_alerts(disk: pl.DataFrame, levels: SystemLevels) -> list[Alert]:
    """`disk`: per day, the least free disk under the data directory any stage measured
    (`disk_free_mb`, `day`). One alert for the latest day: CRITICAL at or below the critical
    level, else WARNING at or below the warning level."""
    measured = disk.drop_nulls("disk_free_mb").sort("day")
    if measured.is_empty():
        return []
    row = measured.row(-1, named=True)
    free = row["disk_free_mb"]
    if free > levels.disk_free_warn_mb:
        return []
    severity, level = (
        ("CRITICAL", levels.disk_free_critical_mb)
        if free <= levels.disk_free_critical_mb
        else ("WARNING", levels.disk_free_warn_mb)
    )
    return [
        Alert(
            "system:disk",
            severity,
            f"{free:,.0f} MB free under the data directory on {row['day']} ({severity.lower()} level {level:,.0f} MB)",
        )
    ]


def system_alerts(stages: pl.DataFrame, levels: SystemLevels, total_memory_mb: float) -> list[Alert]:
    """`stages`: per stage of the latest day, its highest `cpu_pct` (share of the whole machine)
    and `peak_rss_mb`. One alert per stage and resource, CRITICAL past the critical level, else
    WARNING past the warning level."""
    alerts = []
    for row in stages.sort("stage").iter_rows(named=True):
        measured = (
            ("cpu", row["cpu_pct"], levels.cpu_warn_pct, levels.cpu_critical_pct, "CPU"),
            (
                "memory",
                100 * row["peak_rss_mb"] / total_memory_mb if row["peak_rss_mb"] is not None else None,
                levels.memory_warn_pct,
                levels.memory_critical_pct,
                "memory",
            ),
        )
        for key, value, warn, critical, label in measured:
            if value is None or value < warn:
                continue
            severity, level = ("CRITICAL", critical) if value >= critical else ("WARNING", warn)
            alerts.append(
                Alert(
                    f"system:{key}:{row['stage']}",
                    severity,
                    f"{label} {value:.0f}% during {row['stage']} on {row['day']} ({severity.lower()} level {level:g}%)",
                )
            )
    return alerts


def post_webhook(url: str, alert: Alert, day: date) -> None:
    response = httpx.post(
        url,
        json={
            "day": str(day),
            "condition": alert.condition,
            "severity": alert.severity,
            "message": alert.message,
            "source": "phoenix-real-estate",
        },
        timeout=10,
    )
    response.raise_for_status()


IMPLICIT_TLS_PORT = 465  # SMTPS: TLS from the first byte; any other port starts plain and upgrades


class SmtpNotEncrypted(RuntimeError):
    """The server offers no STARTTLS, and a password would go in the clear."""


def send_email(
    alert: Alert,
    *,
    host: str,
    port: int,
    sender: str,
    recipients: list[str],
    user: str | None,
    password: str | None,
    ca_file: str | None = None,
    implicit_tls: bool | None = None,
) -> None:
    """Over TLS whenever the server offers it, its certificate verified against the system's CAs (or
    `ca_file`, SMTP_CA_FILE, for a private CA): implicit TLS on port 465 (or with `implicit_tls`),
    else STARTTLS when the server offers it — required when a password is set, so it never crosses
    the wire in the clear."""
    implicit = port == IMPLICIT_TLS_PORT if implicit_tls is None else implicit_tls
    message = EmailMessage()
    message["Subject"] = f"[phoenix-estate {alert.severity}] {alert.condition}"
    message["From"], message["To"] = sender, ", ".join(recipients)
    message.set_content(alert.message)
    context = ssl.create_default_context(cafile=ca_file)
    smtp = (
        smtplib.SMTP_SSL(host, port, timeout=10, context=context) if implicit else smtplib.SMTP(host, port, timeout=10)
    )
    with smtp:
        if not implicit:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            elif password:
                raise SmtpNotEncrypted(
                    f"the SMTP server at {host}:{port} offers no STARTTLS; the password is not sent "
                    "in the clear (use port 465 for implicit TLS)"
                )
        if user and password:
            smtp.login(user, password)
        smtp.send_message(message)
