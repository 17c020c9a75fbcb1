"""Where alerts go besides the Dagster log: PHOENIX_ALERT_WEBHOOK_URL and SMTP settings."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Optional

import dagster as dg

from phoenix_dagster.monitoring.alerts import Alert, post_webhook, send_email
from phoenix_dagster.redact import MaskedRepr


class AlertChannelsResource(MaskedRepr, dg.ConfigurableResource):
    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset({"webhook_url", "smtp_password"})

    webhook_url: Optional[str] = None  # PHOENIX_ALERT_WEBHOOK_URL
    smtp_host: Optional[str] = None  # SMTP_HOST
    smtp_port: int = 587  # SMTP_PORT
    smtp_user: Optional[str] = None  # SMTP_USER
    smtp_password: Optional[str] = None  # SMTP_PASSWORD, via EnvVar
    smtp_ca_file: Optional[str] = None  # SMTP_CA_FILE: a private CA's bundle to verify the server against
    smtp_implicit_tls: Optional[bool] = None  # SMTP_TLS=implicit|starttls; unset: implicit on port 465
    email_from: Optional[str] = None  # ALERT_EMAIL_FROM
    email_to: list[str] = []  # ALERT_EMAIL_TO, comma separated

    def configured(self) -> list[str]:
        """The channels alerts go to: always the log, plus webhook and e-mail when set up."""
        return (
            ["log"]
            + (["webhook"] if self.webhook_url else [])
            + (["email"] if self.smtp_host and self.email_from and self.email_to else [])
        )

    def deliver(self, alert: Alert, day: date, log, channels: list[str] | None = None) -> list[str]:
        """Send the alert to `channels` (default: every configured one); returns those that took it.
        A failure is logged by its kind only: the webhook URL is a secret, and an error's text can
        carry it."""
        delivered = []
        for channel in channels or self.configured():
            try:
                if channel == "log":
                    (log.error if alert.severity == "CRITICAL" else log.warning)(
                        f"ALERT {alert.condition}: {alert.message}"
                    )
                elif channel == "webhook":
                    post_webhook(self.webhook_url, alert, day)
                elif channel == "email":
                    send_email(
                        alert,
                        host=self.smtp_host,
                        port=self.smtp_port,
                        sender=self.email_from,
                        recipients=self.email_to,
                        user=self.smtp_user,
                        password=self.smtp_password,
                        ca_file=self.smtp_ca_file,
                        implicit_tls=self.smtp_implicit_tls,
                    )
                delivered.append(channel)
            except Exception as exc:  # a channel failing must not stop the others; retried next tick
                status = getattr(getattr(exc, "response", None), "status_code", None)
                log.error(
                    f"alert {channel} delivery failed for {alert.condition}: {type(exc).__name__}"
                    + (f" (HTTP {status})" if status else "")
                    + "; will retry"
                )
        return delivered
