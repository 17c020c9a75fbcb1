"""Where alerts go besides the Dagster log: PHOENIX_ALERT_WEBHOOK_URL and SMTP settings."""

from __future__ import annotations

from datetime import date
from typing import Optional

import dagster as dg

from phoenix_dagster.alerts import Alert, post_webhook, send_email


class AlertChannelsResource(dg.ConfigurableResource):
    webhook_url: Optional[str] = None  # PHOENIX_ALERT_WEBHOOK_URL
    smtp_host: Optional[str] = None  # SMTP_HOST
    smtp_port: int = 587  # SMTP_PORT
    smtp_user: Optional[str] = None  # SMTP_USER
    smtp_password: Optional[str] = None  # SMTP_PASSWORD, via EnvVar
    email_from: Optional[str] = None  # ALERT_EMAIL_FROM
    email_to: list[str] = []  # ALERT_EMAIL_TO, comma separated

    def deliver(self, alert: Alert, day: date, log) -> list[str]:
        """Send the alert everywhere configured; returns the channels that took it."""
        channels = ["log"]
        (log.error if alert.severity == "CRITICAL" else log.warning)(f"ALERT {alert.condition}: {alert.message}")
        if self.webhook_url:
            try:
                post_webhook(self.webhook_url, alert, day)
                channels.append("webhook")
            except Exception as exc:  # a channel failing must not stop the others
                log.error(f"alert webhook failed for {alert.condition}: {type(exc).__name__}: {exc}")
        if self.smtp_host and self.email_from and self.email_to:
            try:
                send_email(alert, host=self.smtp_host, port=self.smtp_port, sender=self.email_from,
                           recipients=self.email_to, user=self.smtp_user, password=self.smtp_password)
                channels.append("email")
            except Exception as exc:
                log.error(f"alert e-mail failed for {alert.condition}: {type(exc).__name__}: {exc}")
        return channels
