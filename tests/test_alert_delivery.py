"""Every alert arrives: an alert a channel did not take — a failed run's included — is owed and
sent again on the alert sensor's next tick, once; after ALERT_RETRY_DAYS it is recorded as
undeliverable and shown in the report. E-mail goes over verified TLS (STARTTLS, or implicit TLS),
against a real SMTP server on 127.0.0.1 (aiosmtpd) with a certificate from a test CA (trustme)."""

from __future__ import annotations

import json
import smtplib
import socket
import ssl
import threading
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pytest
from platform_harness import make_platform

import assets.retention
from phoenix_dagster.cli.local_runs import tick_sensor
from phoenix_dagster.markets.market import market
from phoenix_dagster.monitoring.alerts import ALERT_RETRY_DAYS, Alert, SmtpNotEncrypted, send_email, still_owed
from phoenix_dagster.report import sections

pytestmark = pytest.mark.integration  # servers on 127.0.0.1, Dagster runs

PASSWORD = "smtp-s3cret"
ALERT = Alert("quality:85031:sample", "WARNING", "Data quality POOR for sample in 85031")


class Webhook:
    """An alert webhook on 127.0.0.1 that is down (503) for its first `down_for` posts."""

    def __init__(self, down_for: int = 0):
        self.received, self.down_for = [], down_for
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if outer.down_for > 0:
                    outer.down_for -= 1
                    self.send_response(503)
                else:
                    outer.received.append(body)
                    self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def broken_cutoff(today, days):
    raise OSError("the disk went away")


def test_a_failed_runs_alert_the_webhook_did_not_take_is_delivered_on_the_next_tick_once(tmp_path, monkeypatch):
    hook = Webhook(down_for=1)  # down for the first delivery, up for the next tick
    monkeypatch.setenv("PHOENIX_ALERT_WEBHOOK_URL", hook.url)  # a secret: resources read it through EnvVar
    platform = make_platform(tmp_path / "data", env={"PHOENIX_ALERT_WEBHOOK_URL": hook.url})
    with monkeypatch.context() as patch:  # a run of a monitored job fails (the retention's: the quickest to run)
        patch.setattr(assets.retention, "retention_cutoff", broken_cutoff)
        failed = platform.defs.resolve_job_def("compact_raw_bodies").execute_in_process(
            instance=platform.instance, raise_on_error=False
        )
    assert not failed.success
    run = platform.instance.get_run_by_id(failed.run_id)
    request = platform.run_failure_alert(run)
    first = platform.defs.resolve_job_def("deliver_alerts").execute_in_process(
        instance=platform.instance, run_config=request.run_config, raise_on_error=False
    )
    assert not first.success and hook.received == []  # the webhook was down: owed
    control = platform.defs.resources["control_state"]
    condition = f"run:compact_raw_bodies:{run.run_id}"
    [owed] = control.alerts_owed()
    assert owed["condition"] == condition and owed["owed"] == ["webhook"] and owed["channels"] == ["log"]

    skipped, runs = tick_sensor(platform.jobs, "quality_and_budget_alerts")  # the next tick asks again
    assert [r.success for r in runs] == [True], skipped
    assert [alert["condition"] for alert in hook.received] == [condition]
    assert control.alert_record(owed["day"], condition)["status"] == "delivered"
    skipped, runs = tick_sensor(platform.jobs, "quality_and_budget_alerts")
    assert runs == [] and [alert["condition"] for alert in hook.received] == [condition]  # delivered once
    hook.close()


def test_an_alert_owed_past_the_retry_days_is_recorded_undeliverable_and_reported(tmp_path, monkeypatch):
    hook = Webhook(down_for=10**6)  # never takes anything
    monkeypatch.setenv("PHOENIX_ALERT_WEBHOOK_URL", hook.url)
    platform = make_platform(tmp_path / "data", env={"PHOENIX_ALERT_WEBHOOK_URL": hook.url})
    control = platform.defs.resources["control_state"]
    day = datetime.now(ZoneInfo(market().timezone)).date() - timedelta(days=ALERT_RETRY_DAYS + 1)
    long_ago = datetime.now(UTC) - timedelta(days=ALERT_RETRY_DAYS + 1)
    control.record_alerts(
        pl.DataFrame(
            [
                {
                    "day": day,
                    "condition": "run:build_warehouse:abc",
                    "severity": "CRITICAL",
                    "message": "Run abc failed",
                    "channels": ["log"],
                    "owed": ["webhook"],
                    "status": "owed",
                    "first_attempt_at": long_ago,
                    "sent_at": long_ago,
                }
            ]
        )
    )
    assert still_owed(control.alerts_owed(), ["log", "webhook"], datetime.now(UTC), set())[0]["give_up"]
    _, runs = tick_sensor(platform.jobs, "quality_and_budget_alerts")
    assert [r.success for r in runs] == [True] and hook.received == []  # given up on: nothing sent
    record = control.alert_record(day, "run:build_warehouse:abc")
    assert record["status"] == "undeliverable" and record["owed"] == ["webhook"]
    assert control.alerts_owed() == []
    _, runs = tick_sensor(platform.jobs, "quality_and_budget_alerts")
    assert runs == []  # not asked again
    with duckdb.connect() as conn:  # the report's alerts block over ops.alerts as the build makes it
        alerts = control.read("alerts")  # noqa: F841 (read by DuckDB)
        conn.execute("create schema ops")
        conn.execute("create table ops.alerts as select * from alerts")
        block = sections.alerts(lambda sql, params=None: conn.execute(sql, params or []).pl(), date.today())
    assert block.table["status"].to_list() == ["undeliverable"] and "not delivered" in block.title
    hook.close()


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """A test CA and a certificate it issued for 127.0.0.1; another CA that issued nothing here."""
    import trustme

    folder = tmp_path_factory.mktemp("tls")
    ca, stranger = trustme.CA(), trustme.CA()
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    stranger.cert_pem.write_to_path(str(folder / "stranger.pem"))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    return {"server": server, "ca": str(folder / "ca.pem"), "stranger": str(folder / "stranger.pem")}


class Smtp:
    """aiosmtpd on 127.0.0.1 with TLS: STARTTLS (required before AUTH and mail) or implicit TLS,
    logins checked, messages kept with whether they came over TLS."""

    def __init__(self, tls: ssl.SSLContext | None, implicit: bool = False):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.messages, self.logins = [], []
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                outer.messages.append((envelope.content.decode(), session.ssl is not None))
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.password.decode() == PASSWORD
            outer.logins.append((auth_data.login.decode(), ok, session.ssl is not None))
            return AuthResult(success=ok)

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        options = dict(authenticator=authenticator, auth_require_tls=True)
        if implicit:  # aiosmtpd offers AUTH over SMTPS only without auth_require_tls (it knows STARTTLS alone)
            self.controller = Controller(
                Handler(),
                hostname="127.0.0.1",
                port=self.port,
                ssl_context=tls,
                server_hostname="127.0.0.1",
                **{**options, "auth_require_tls": False},
            )
        else:
            self.controller = Controller(
                Handler(),
                hostname="127.0.0.1",
                port=self.port,
                tls_context=tls,
                require_starttls=tls is not None,
                **options,
            )

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


def _send(smtp: Smtp, **options) -> None:
    send_email(
        ALERT,
        host="127.0.0.1",
        port=smtp.port,
        sender="platform@example.org",
        recipients=["ops@example.org"],
        **{"user": "alerts", "password": PASSWORD, **options},
    )


def test_email_goes_over_starttls_verified_against_the_ca_with_the_login(certificates):
    with Smtp(certificates["server"]) as smtp:
        _send(smtp, ca_file=certificates["ca"])
    assert smtp.logins == [("alerts", True, True)]  # logged in, over TLS
    [(message, over_tls)] = smtp.messages
    assert over_tls and "[phoenix-estate WARNING] quality:85031:sample" in message


def test_email_over_implicit_tls(certificates):
    with Smtp(certificates["server"], implicit=True) as smtp:
        with pytest.raises(ssl.SSLCertVerificationError):  # TLS from the first byte, verified
            _send(smtp, ca_file=certificates["stranger"], implicit_tls=True)
        assert smtp.logins == []
        _send(smtp, ca_file=certificates["ca"], implicit_tls=True)
    assert [login[:2] for login in smtp.logins] == [("alerts", True)] and len(smtp.messages) == 1


def test_a_certificate_from_an_untrusted_ca_is_refused_before_the_password_is_sent(certificates):
    with Smtp(certificates["server"]) as smtp:
        with pytest.raises(ssl.SSLCertVerificationError):
            _send(smtp, ca_file=certificates["stranger"])
        with pytest.raises(ssl.SSLCertVerificationError):  # nor does the system's store know the test CA
            _send(smtp)
    assert smtp.logins == [] and smtp.messages == []


def test_a_password_is_never_sent_to_a_server_without_starttls():
    with Smtp(None) as smtp:  # plain SMTP, no TLS offered
        with pytest.raises(SmtpNotEncrypted, match="offers no STARTTLS"):
            _send(smtp)
        assert smtp.logins == [] and smtp.messages == []
        _send(smtp, user=None, password=None)  # with no password to protect, plain delivery is allowed
    assert len(smtp.messages) == 1


def test_smtplib_would_have_sent_the_password_to_an_unverified_server(certificates):
    """What the old code did (starttls() without a context): the login reached a server whose
    certificate no one trusts. Kept as the reason for the tests above."""
    with Smtp(certificates["server"]) as smtp, smtplib.SMTP("127.0.0.1", smtp.port, timeout=10) as client:
        client.starttls()  # no context: Python's default for smtplib does not verify
        client.login("alerts", PASSWORD)
    assert smtp.logins == [("alerts", True, True)]
