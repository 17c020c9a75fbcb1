"""The cost ledger adds up to its events, the budget levels trip at 80% and 95%, and the
alert sensor sends one alert per condition per day to a webhook on 127.0.0.1."""

import json
import socket
import threading
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import polars as pl
import pytest

from assets.alert_delivery import alert_deliveries
from phoenix_dagster.automation.sensors import quality_and_budget_alerts
from phoenix_dagster.monitoring.alerts import find_alerts
from phoenix_dagster.resources.alerting import AlertChannelsResource
from phoenix_dagster.resources.control_state import ControlStateResource
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.quality_targets import QualityTargetsResource
from phoenix_dagster.resources.warehouse import PublishedWarehouseResource
from phoenix_dagster.settings import SQL_DIR
from phoenix_dagster.transforms.costs import load_prices, monthly_budget_frame, request_usage, unit_prices_frame
from phoenix_dagster.warehouse.sql_project import build_model, discover_models, write_seed

pytestmark = pytest.mark.integration  # builds SQL models in DuckDB; a webhook on 127.0.0.1

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
MODELS = {m.table: m for m in discover_models(SQL_DIR, seeds=frozenset({"ops.unit_prices", "ops.monthly_budget"}))}


class Ledger:
    """Bookkeeping written to a lake the way assets write it, and the cost models built over it."""

    def __init__(self, tmp_path, budget: float | None = None):
        self.lake = LakeResource(root=str(tmp_path / "lake"))
        self.control_dir = tmp_path / "control"
        self.conn = duckdb.connect(str(tmp_path / "w.duckdb"))
        self.conn.execute("set TimeZone = 'UTC'")
        prices = load_prices()
        if budget is not None:
            prices["monthly_budget_usd"] = budget
        write_seed(self.conn, "ops.unit_prices", unit_prices_frame(prices))
        write_seed(self.conn, "ops.monthly_budget", monthly_budget_frame(prices))
        self.conn.execute("create schema staging")
        self.conn.execute(
            "create table staging.stg_lake__enriched_properties as "
            "select 'apn:' || i as property_id, date '2026-11-01' + cast(i % 3 as integer) as observed_date "
            "from range(100) t(i)"
        )

    def record(self, table: str, day: date, asset: str, run_id: str, rows: list[dict]) -> None:
        base = {"run_id": run_id, "asset": asset, "partition": f"{day}|85031", "date": day, "recorded_at": NOW}
        self.lake.write_bookkeeping(
            table,
            pl.DataFrame([{**base, **row} for row in rows]),
            asset=asset,
            day=str(day),
            zip_code="85031",
            run_id=run_id,
        )

    def spend(self, day: date, usd: float, run_id: str = "r") -> None:
        self.record(
            "usage",
            day,
            "listing_text_facts",
            f"{run_id}-{day}",
            [{"service": "llm_model_hour", "item": "llama3.2", "quantity": usd / 0.4}],
        )

    def build(self, *tables: str) -> None:
        for table in ("ops.cost_events", "ops.cost_daily", "ops.budget_status", *tables):
            build_model(self.conn, MODELS[table], Path(self.lake.root), self.control_dir)

    def query(self, sql: str) -> pl.DataFrame:
        return self.conn.execute(sql).pl()


def test_usage_is_priced_from_the_prices_file_and_the_ledger_adds_up(tmp_path):
    prices = load_prices()["prices"]
    ledger = Ledger(tmp_path)
    day = date(2026, 11, 28)
    usage = request_usage("maricopa", requests=265, proxied_bytes=0) + request_usage(
        "mls_html", requests=4, proxied_bytes=2_500_000_000
    )
    ledger.record("usage", day, "raw_assessor_payloads", "r1", usage)
    ledger.record(
        "usage", day, "listing_text_facts", "r1", [{"service": "llm_model_hour", "item": "llama3.2", "quantity": 0.001}]
    )
    log = {
        "succeeded": True,
        "rows_in": 0,
        "rows_out": 1,
        "rows_quarantined": 0,
        "duration_s": 3600.0,
        "finished_at": NOW,
    }
    ledger.record("run_log", day, "raw_assessor_payloads", "r1", [{**log, "asset": "raw_assessor_payloads"}])
    ledger.record("run_log", day, "listing_text_facts", "r1", [{**log, "asset": "listing_text_facts"}])
    ledger.build()
    events = {(e["service"], e["item"]): e for e in ledger.query("select * from ops.cost_events").iter_rows(named=True)}
    compute = [item for service, item in events if service == "compute_hour"]
    assert sorted(compute) == ["listing_text_facts", "raw_assessor_payloads"]  # per asset
    assert events[("maricopa_request", "maricopa")]["quantity"] == 265
    assert events[("mls_html_request", "mls_html")]["quantity"] == 4
    proxy = events[("proxy_gb", "mls_html")]
    assert proxy["quantity"] == 2.5 and proxy["cost_usd"] == pytest.approx(2.5 * prices["proxy_gb"]["usd"])
    model = events[("llm_model_hour", "llama3.2")]
    assert model["cost_usd"] == pytest.approx(0.001 * prices["llm_model_hour"]["usd"])
    assert sum(events[("compute_hour", a)]["cost_usd"] for a in compute) == pytest.approx(
        2 * prices["compute_hour"]["usd"]
    )
    assert ledger.query("select sum(cost_usd) as usd from ops.cost_daily")["usd"][0] == pytest.approx(
        sum(e["cost_usd"] for e in events.values())
    )


def test_storage_is_one_days_share_of_a_gb_month_from_the_days_last_measurement(tmp_path):
    ledger = Ledger(tmp_path)
    for when, size in (
        (datetime(2026, 11, 28, 1, tzinfo=UTC), 10**9),
        (datetime(2026, 11, 28, 9, tzinfo=UTC), 3 * 10**9),
    ):
        ledger.lake.write_bookkeeping(
            "storage_usage",
            pl.DataFrame(
                [
                    {
                        "run_id": f"b{when.hour}",
                        "date": date(2026, 11, 28),
                        "store": "lake",
                        "bytes": size,
                        "measured_at": when,
                    }
                ]
            ),
            asset="storage_measurement",
            day="2026-11-28",
            zip_code="all",
            run_id=f"b{when.hour}",
        )
    ledger.build()
    storage = ledger.query("select * from ops.cost_events where service = 'storage_gb_month'").row(0, named=True)
    assert storage["quantity"] == pytest.approx(3 / 30) and storage["run_id"] == "b9"


def test_cost_daily_and_budget_status_come_from_the_events(tmp_path):
    ledger = Ledger(tmp_path)
    ledger.spend(date(2026, 11, 1), 3.0)
    ledger.spend(date(2026, 11, 2), 5.0)
    ledger.build()
    status = ledger.query("select * from ops.budget_status").row(0, named=True)
    daily = ledger.query("select sum(cost_usd) as usd from ops.cost_daily")["usd"][0]
    events = ledger.query("select sum(cost_usd) as usd from ops.cost_events")["usd"][0]
    assert daily == pytest.approx(events) == pytest.approx(8.0)
    assert status["month_to_date_usd"] == pytest.approx(8.0) and status["level"] == "OK"
    assert status["projected_month_usd"] == pytest.approx(8.0 / 2 * 30) and status["projected_level"] == "CRITICAL"
    assert status["properties_collected"] == 100 and status["cost_per_property_usd"] == pytest.approx(0.08)


@pytest.mark.parametrize("spent,level", [(19.99, "OK"), (20.0, "WARNING"), (23.74, "WARNING"), (23.75, "CRITICAL")])
def test_budget_levels_at_80_and_95_percent(tmp_path, spent, level):
    ledger = Ledger(tmp_path, budget=25.0)
    ledger.spend(date(2026, 11, 1), spent)
    ledger.build()
    assert ledger.query("select level from ops.budget_status")["level"][0] == level


def quality_row(**overrides) -> dict:
    return {
        "date": date(2026, 11, 28),
        "PostalCode": "85031",
        "source": "listing:reso",
        "records": 10,
        "completeness": 1.0,
        "field_completeness": [],
        "validity": 1.0,
        "quarantined": 0,
        "freshness_hours": 2.0,
        "duplicates": 0,
        "duplicate_rate": 0.0,
        "agreement": None,
        "agreement_checked": 0,
        "enriched_llm": None,
        "enriched_cache": None,
        "enriched_rules": None,
        "model_validation_rate": None,
        "text_disagreements": None,
        "overall_score": 0.9,
        "status": "GOOD",
        "issues": [],
        "evaluated_at": NOW,
        **overrides,
    }


def test_conditions_found_from_the_tables():
    quality = pl.DataFrame(
        [
            quality_row(),
            quality_row(
                PostalCode="85033", status="POOR", overall_score=0.4, issues=["completeness 0.400 below fair 0.85"]
            ),
            quality_row(PostalCode="85035", freshness_hours=30.0),
        ]
    )
    budget = pl.DataFrame(
        [
            {
                "month": "2026-11",
                "month_to_date_usd": 24.0,
                "budget_usd": 25.0,
                "projected_month_usd": 30.0,
                "level": "CRITICAL",
            }
        ]
    )
    alerts = find_alerts(
        day=date(2026, 11, 28),
        quality=quality,
        budget=budget,
        freshness_target_hours=24,
        failed_checks=["stg_listings__listings:matches_schema"],
    )
    assert [a.condition for a in alerts] == [
        "check:stg_listings__listings:matches_schema",
        "quality:85033:listing:reso",
        "stale:85035:listing:reso",
        "budget:2026-11:CRITICAL",
    ]
    assert "completeness 0.400 below fair 0.85" in alerts[1].message


class Webhook:
    def __init__(self):
        self.received = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                outer.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts"


def published_warehouse(tmp_path, quality: pl.DataFrame) -> PublishedWarehouseResource:
    """A published warehouse holding only what the alert sensor reads."""
    warehouse = PublishedWarehouseResource(path=str(tmp_path / "w.duckdb"))
    with duckdb.connect(warehouse.path) as conn:
        conn.execute("create schema ops")
        conn.execute("create table ops.quality_daily as select * from quality")  # the frame passed in
        conn.execute(
            "create table ops.budget_status (month varchar, month_to_date_usd double, budget_usd double, "
            "projected_month_usd double, level varchar)"
        )
    return warehouse


def tick(resources: dict, instance: dg.DagsterInstance | None = None):
    """One evaluation of the alert sensor, then the delivery run it requested (if any), as the
    daemon would launch it. Returns (the evaluation's result, the run's result or None)."""
    instance = instance or dg.DagsterInstance.ephemeral()
    with dg.build_sensor_context(instance=instance, resources=resources) as context:
        decided = quality_and_budget_alerts(context)
    if not isinstance(decided, dg.RunRequest):
        return decided, None
    run = dg.materialize(
        [alert_deliveries],
        instance=instance,
        run_config=decided.run_config,
        raise_on_error=False,
        resources={k: resources[k] for k in ("alert_channels", "control_state")},
    )
    return decided, run


def test_the_sensor_alerts_once_per_condition_per_day(tmp_path):
    today = datetime.now(ZoneInfo("America/Phoenix")).date()  # the sensor's day
    quality = pl.DataFrame(
        [
            quality_row(date=today, status="POOR", overall_score=0.5),
            quality_row(date=today, PostalCode="85035", freshness_hours=48.0),
        ]
    )
    hook = Webhook()
    control = ControlStateResource(
        control_dir=str(tmp_path / "control"), lake=LakeResource(root=str(tmp_path / "lake"))
    )
    resources = {
        "warehouse": published_warehouse(tmp_path, quality),
        "control_state": control,
        "quality_targets": QualityTargetsResource(freshness_target_hours=24),
        "alert_channels": AlertChannelsResource(webhook_url=hook.url),
    }
    with dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), resources=resources) as context:
        preview = quality_and_budget_alerts(context)  # an evaluation alone (the UI's preview) sends nothing
    assert isinstance(preview, dg.RunRequest) and hook.received == [] and control.read("alerts").is_empty()
    for _ in range(2):  # two ticks, same conditions
        tick(resources)
    assert sorted(a["condition"] for a in hook.received) == ["quality:85031:listing:reso", "stale:85035:listing:reso"]
    sent = control.read("alerts").sort("condition")
    assert sent["channels"].to_list() == [["log", "webhook"], ["log", "webhook"]]
    hook.server.shutdown()


class Smtp:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it was sent."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages = []
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                outer.messages.append(envelope.content.decode())
                return "250 OK"

        with socket.socket() as probe:  # a free port (the controller checks its own port on start)
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


def test_alerts_reach_a_real_smtp_server_and_a_failed_webhook_is_retried_next_tick(tmp_path, caplog):
    today = datetime.now(ZoneInfo("America/Phoenix")).date()
    quality = pl.DataFrame([quality_row(date=today, status="POOR", overall_score=0.5)])
    hook = Webhook()
    hook.server.shutdown()  # the webhook is down for the first tick
    hook.server.server_close()
    secret_url = hook.url + "?token=s3cr3t-hook"
    control = ControlStateResource(
        control_dir=str(tmp_path / "control"), lake=LakeResource(root=str(tmp_path / "lake"))
    )
    with Smtp() as smtp:
        channels = AlertChannelsResource(
            webhook_url=secret_url,
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            email_from="platform@example.org",
            email_to=["ops@example.org"],
        )
        resources = {
            "warehouse": published_warehouse(tmp_path, quality),
            "control_state": control,
            "quality_targets": QualityTargetsResource(freshness_target_hours=24),
            "alert_channels": channels,
        }
        request, first = tick(resources)
        assert not first.success  # the delivery run fails, naming what is still owed
        [failure] = [e for e in first.all_events if e.is_step_failure]
        assert "quality:85031:listing:reso → webhook" in failure.step_failure_data.user_failure_data.description
        assert control.alerts_delivered(today) == {"quality:85031:listing:reso": ["email", "log"]}
        assert (
            len(smtp.messages) == 1
            and "Subject: [phoenix-estate WARNING] quality:85031:listing:reso" in smtp.messages[0]
        )
        revived = Webhook()  # the webhook is back (on another port: point the channel at it)
        channels = AlertChannelsResource(
            webhook_url=revived.url,
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            email_from="platform@example.org",
            email_to=["ops@example.org"],
        )
        request, second = tick({**resources, "alert_channels": channels})
        assert second.success and request.run_config["ops"]["alert_deliveries"]["config"]["alerts"][0]["channels"] == [
            "webhook"
        ]  # only what was still owed
        assert [a["condition"] for a in revived.received] == ["quality:85031:listing:reso"]
        assert len(smtp.messages) == 1  # e-mail was delivered already: not sent twice
        revived.server.shutdown()
    assert control.alerts_delivered(today) == {"quality:85031:listing:reso": ["email", "log", "webhook"]}
    assert "s3cr3t-hook" not in caplog.text and "s3cr3t-hook" not in repr(channels)  # the URL is a secret


def test_a_stage_past_its_cpu_or_memory_level_alerts_once_at_its_severity():
    from phoenix_dagster.monitoring.alerts import system_alerts
    from phoenix_dagster.settings import SystemLevels

    stages = pl.DataFrame(
        {
            "stage": ["collection:assessor", "enrichment", "serving"],
            "day": [date(2026, 11, 28)] * 3,
            "cpu_pct": [72.0, 91.0, 10.0],
            "peak_rss_mb": [1000.0, 1000.0, 3700.0],
        }
    )
    alerts = system_alerts(stages, SystemLevels(), total_memory_mb=4096)
    assert [(a.condition, a.severity) for a in alerts] == [
        ("system:cpu:collection:assessor", "WARNING"),
        ("system:cpu:enrichment", "CRITICAL"),
        ("system:memory:serving", "CRITICAL"),
    ]  # 3,700 of 4,096 MB = 90%
    assert alerts[1].message == "CPU 91% during enrichment on 2026-11-28 (critical level 85%)"
    quiet = system_alerts(
        stages,
        SystemLevels(cpu_warn_pct=95, cpu_critical_pct=99, memory_warn_pct=95, memory_critical_pct=99),
        total_memory_mb=4096,
    )
    assert quiet == []


def test_the_least_free_disk_of_the_latest_day_alerts_at_its_level():
    from phoenix_dagster.monitoring.alerts import disk_alerts
    from phoenix_dagster.settings import SystemLevels

    def alerts(*free_mb):
        days = [date(2026, 11, 27)] + [date(2026, 11, 28)] * (len(free_mb) - 1)
        return [
            (a.condition, a.severity, a.message)
            for a in disk_alerts(
                pl.DataFrame(
                    {"day": days, "disk_free_mb": list(free_mb)}, schema_overrides={"disk_free_mb": pl.Float64}
                ),
                SystemLevels(),
            )
        ]

    assert alerts(100.0, 9000.0) == []  # yesterday's low is not today's
    assert alerts(9000.0, 1500.0) == [
        ("system:disk", "WARNING", "1,500 MB free under the data directory on 2026-11-28 (warning level 2,048 MB)")
    ]
    assert alerts(9000.0, 512.0)[0][1] == "CRITICAL"  # at the level
    assert alerts(9000.0, None) == []  # no local data directory measured today: nothing to say
    assert disk_alerts(pl.DataFrame(schema={"day": pl.Date, "disk_free_mb": pl.Float64}), SystemLevels()) == []
