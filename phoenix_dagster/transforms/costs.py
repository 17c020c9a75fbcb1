"""The cost ledger: every billable thing as an event with its quantity, priced from
data/unit_prices.yaml; daily totals and the month's budget status are SQL over the events."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from pathlib import Path

import polars as pl
import yaml

from phoenix_dagster.settings import PROJECT_ROOT

PRICES_FILE = PROJECT_ROOT / "data" / "unit_prices.yaml"
REQUEST_SERVICES = {"maricopa": "maricopa_request", "reso": "reso_request", "mls_html": "mls_html_request"}


def load_prices(path: Path = PRICES_FILE) -> dict:
    document = yaml.safe_load(path.read_text())
    return {"prices": document["prices"], "monthly_budget_usd": float(document["monthly_budget_usd"])}


def _event(prices: dict, service: str, quantity: float, unit: str | None = None, item: str = "") -> dict:
    price = prices["prices"].get(service, {"unit": unit or "unit", "usd": 0.0})
    return {"service": service, "item": item, "quantity": float(quantity), "unit": price["unit"],
            "unit_price_usd": float(price["usd"]), "cost_usd": round(float(quantity) * float(price["usd"]), 8)}


def partition_cost_events(prices: dict, *, requests: pl.DataFrame, facts: pl.DataFrame,
                          asset_seconds: dict[str, float]) -> list[dict]:
    """Events of one partition's run. ``requests``: ops.source_requests rows of the run (source,
    endpoint, requests, bytes; the ``proxy`` endpoint carries proxied bytes);
    ``facts``: listing_text_facts of the partition (tokens and model seconds of this run's calls);
    ``asset_seconds``: wall seconds of each asset's body in the run (ops.run_log)."""
    events = []
    for source, count in requests.group_by("source").agg(pl.col("requests").sum()).sort("source").iter_rows():
        events.append(_event(prices, REQUEST_SERVICES.get(source, f"{source}_request"), count, "request", source))
    events.append(_event(prices, "llm_prompt_1k_tokens", facts["prompt_tokens"].sum() / 1000))
    events.append(_event(prices, "llm_completion_1k_tokens", facts["completion_tokens"].sum() / 1000))
    events.append(_event(prices, "llm_model_hour", facts["model_seconds"].sum() / 3600))
    for source, proxied in (requests.filter(pl.col("endpoint") == "proxy").group_by("source")
                            .agg(pl.col("bytes").sum()).sort("source").iter_rows()):
        events.append(_event(prices, "proxy_gb", proxied / 1e9, item=source))
    events += [_event(prices, "compute_hour", seconds / 3600, item=asset) for asset, seconds in sorted(asset_seconds.items())]
    return events


def storage_cost_events(prices: dict, *, day: date, lake_bytes: int, warehouse_bytes: int,
                        mongodb_bytes: int) -> list[dict]:
    """One day's share of a GB-month for what is stored now."""
    days = calendar.monthrange(day.year, day.month)[1]
    return [
        _event(prices, "storage_gb_month", lake_bytes / 1e9 / days, item="lake"),
        _event(prices, "storage_gb_month", warehouse_bytes / 1e9 / days, item="warehouse"),
        _event(prices, "mongodb_gb_month", mongodb_bytes / 1e9 / days, item="mongodb"),
    ]


def stamp(events: list[dict], *, day: date, partition: str, run_id: str, when: datetime) -> pl.DataFrame:
    return pl.DataFrame([{**e, "date": day, "partition": partition, "run_id": run_id, "recorded_at": when}
                         for e in events])


COST_DAILY_SQL = """
create or replace table ops.cost_daily as
select date, service, sum(quantity) as quantity, any_value(unit) as unit, sum(cost_usd) as cost_usd
from ops.cost_events
group by date, service
order by date, service
"""

BUDGET_STATUS_SQL = """
create or replace table ops.budget_status as
with months as (
    select strftime(date, '%Y-%m') as month, sum(cost_usd) as month_to_date_usd,
           count(distinct date) as days_with_data, max(date) as last_day
    from ops.cost_events group by 1
),
collected as (
    select strftime(observed_date, '%Y-%m') as month, count(distinct property_id) as properties
    from staging.stg_lake__enriched_properties group by 1
)
select
    months.month,
    months.month_to_date_usd,
    months.month_to_date_usd / months.days_with_data * day(last_day(months.last_day)) as projected_month_usd,
    $budget as budget_usd,
    months.month_to_date_usd / nullif(collected.properties, 0) as cost_per_property_usd,
    coalesce(collected.properties, 0) as properties_collected,
    case when months.month_to_date_usd >= 0.95 * $budget then 'CRITICAL'
         when months.month_to_date_usd >= 0.80 * $budget then 'WARNING'
         else 'OK' end as level,
    case when months.month_to_date_usd / months.days_with_data * day(last_day(months.last_day)) >= 0.95 * $budget
         then 'CRITICAL'
         when months.month_to_date_usd / months.days_with_data * day(last_day(months.last_day)) >= 0.80 * $budget
         then 'WARNING' else 'OK' end as projected_level
from months left join collected using (month)
order by month
"""
