"""The cost ledger adds up to its events, the budget levels trip at 80% and 95%, and the
alert sensor sends one alert per condition per day to a webhook on 127.0.0.1."""

import json
import threading
from datetime import date, datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import dagster as dg
import polars as pl
import pytest

from phoenix_dagster.alerts import find_alerts
from phoenix_dagster.resources.alerting import AlertChannelsResource
from phoenix_dagster.resources.warehouse import WarehouseResource
from phoenix_dagster.sensors import quality_and_budget_alerts
from phoenix_dagster.transforms.costs import (BUDGET_STATUS_SQL, COST_DAILY_SQL, load_prices, partition_cost_events,
                                              stamp)

NOW = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)


@pytest.fixture
def warehouse(tmp_path):
    resource = WarehouseResource(database=str(tmp_path / "w.duckdb"))
    with resource.connect() as conn:
        conn.execute("create table staging.stg_lake__enriched_properties as "
                     "select 'apn:' || i as property_id, date '2026-11-01' + cast(i % 3 as integer) as observed_date "
                     "from range(100) t(i)")
    return resource


def spend(warehouse, day: date, usd: float) -> None:
    event = {"service": "llm_model_hour", "item": "llama3.2", "quantity": usd / 0.4, "unit": "model hour", "unit_price_usd": 0.4,
             "cost_usd": usd}
    warehouse.append_rows("ops.cost_events", stamp([event], day=day, partition=f"{day}|85031", run_id="r", when=NOW))


def rebuild(warehouse, budget=25.0):
    with warehouse.connect() as conn:
        conn.execute(COST_DAILY_SQL)
        conn.execute(BUDGET_STATUS_SQL, {"budget": budget})
    return warehouse.query("select * from ops.budget_status").row(0, named=True)


def test_events_are_priced_from_the_prices_file_and_the_ledger_adds_up():
    prices = load_prices()
    requests = pl.DataFrame({"source": ["maricopa", "maricopa", "reso", "mls_html"],
                             "endpoint": ["search", "parcel", "listings", "proxy"], "requests": [200, 65, 4, 0],
                             "bytes": [1000, 2000, 300, 2_500_000_000]})
    facts = pl.DataFrame({"prompt_tokens": [1000, 500], "completion_tokens": [300, 200], "model_seconds": [1.8, 1.8]})
    listed = partition_cost_events(prices, requests=requests, facts=facts,
                                   asset_seconds={"raw_assessor_payloads": 3600, "listing_text_facts": 3600})
    events = {e["service"]: e for e in listed}
    compute = [e for e in listed if e["service"] == "compute_hour"]
    assert [e["item"] for e in compute] == ["listing_text_facts", "raw_assessor_payloads"]  # per asset
    assert events["maricopa_request"]["quantity"] == 265 and events["reso_request"]["quantity"] == 4
    assert events["proxy_gb"]["quantity"] == 2.5 and events["proxy_gb"]["cost_usd"] == pytest.approx(
        2.5 * prices["prices"]["proxy_gb"]["usd"])  # proxied traffic is metered
    assert events["llm_model_hour"]["quantity"] == pytest.approx(0.001)
    assert events["llm_model_hour"]["cost_usd"] == pytest.approx(0.001 * prices["prices"]["llm_model_hour"]["usd"])
    assert sum(e["cost_usd"] for e in compute) == pytest.approx(2 * prices["prices"]["compute_hour"]["usd"])


def test_cost_daily_and_budget_status_come_from_the_events(warehouse):
    spend(warehouse, date(2026, 11, 1), 3.0)
    spend(warehouse, date(2026, 11, 2), 5.0)
    status = rebuild(warehouse)
    daily = warehouse.query("select sum(cost_usd) as usd from ops.cost_daily")["usd"][0]
    events = warehouse.query("select sum(cost_usd) as usd from ops.cost_events")["usd"][0]
    assert daily == pytest.approx(events) == pytest.approx(8.0)
    assert status["month_to_date_usd"] == pytest.approx(8.0) and status["level"] == "OK"
    assert status["projected_month_usd"] == pytest.approx(8.0 / 2 * 30) and status["projected_level"] == "CRITICAL"
    assert status["properties_collected"] == 100 and status["cost_per_property_usd"] == pytest.approx(0.08)


@pytest.mark.parametrize("spent,level", [(19.99, "OK"), (20.0, "WARNING"), (23.74, "WARNING"), (23.75, "CRITICAL")])
def test_budget_levels_at_80_and_95_percent(warehouse, spent, level):
    spend(warehouse, date(2026, 11, 1), spent)
    assert rebuild(warehouse)["level"] == level


def quality_row(**overrides) -> dict:
    return {"date": date(2026, 11, 28), "PostalCode": "85031", "source": "listing:reso", "records": 10,
            "completeness": 1.0, "field_completeness": [], "validity": 1.0, "quarantined": 0, "freshness_hours": 2.0,
            "duplicates": 0, "duplicate_rate": 0.0, "agreement": None, "agreement_checked": 0, "enriched_llm": None,
            "enriched_cache": None, "enriched_rules": None, "model_validation_rate": None, "text_disagreements": None,
            "overall_score": 0.9,
            "status": "GOOD", "issues": [], "evaluated_at": NOW, **overrides}


def test_conditions_found_from_the_tables():
    quality = pl.DataFrame([quality_row(), quality_row(PostalCode="85033", status="POOR", overall_score=0.4,
                                                       issues=["completeness 0.400 below fair 0.85"]),
                            quality_row(PostalCode="85035", freshness_hours=30.0)])
    budget = pl.DataFrame([{"month": "2026-11", "month_to_date_usd": 24.0, "budget_usd": 25.0,
                            "projected_month_usd": 30.0, "level": "CRITICAL"}])
    alerts = find_alerts(day=date(2026, 11, 28), quality=quality, budget=budget, freshness_target_hours=24,
                         failed_checks=["stg_listings__listings:matches_schema"])
    assert [a.condition for a in alerts] == ["check:stg_listings__listings:matches_schema", "quality:85033:listing:reso",
                                             "stale:85035:listing:reso", "budget:2026-11:CRITICAL"]
    assert "completeness 0.400 below fair 0.85" in alerts[1].message


class Webhook:
    def __init__(self):
        self.received = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                outer.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts"


def test_the_sensor_alerts_once_per_condition_per_day(warehouse):
    today = datetime.now(ZoneInfo("America/Phoenix")).date()  # the sensor's day
    warehouse.append_rows("ops.quality_daily", pl.DataFrame([quality_row(date=today, status="POOR", overall_score=0.5),
                                                             quality_row(date=today, PostalCode="85035",
                                                                         freshness_hours=48.0)]))
    hook = Webhook()
    resources = {"warehouse": warehouse, "alert_channels": AlertChannelsResource(webhook_url=hook.url)}
    for _ in range(2):  # two ticks, same conditions
        with dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), resources=resources) as context:
            quality_and_budget_alerts(context)
    assert sorted(a["condition"] for a in hook.received) == ["quality:85031:listing:reso", "stale:85035:listing:reso"]
    sent = warehouse.query("select condition, channels from ops.alerts order by condition")
    assert sent["channels"].to_list() == [["log", "webhook"], ["log", "webhook"]]
    hook.server.shutdown()
