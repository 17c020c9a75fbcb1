"""The cost ledger's inputs: billable quantities as assets record them, and the unit prices.

Assets record *usage* (requests, proxy traffic, model tokens and hours) in their bookkeeping;
the warehouse prices it, together with every asset's compute time and each day's storage, in
sql/ops/cost_events.sql, and adds it up per day and against the month's budget in
sql/ops/cost_daily.sql and sql/ops/budget_status.sql.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import yaml

from phoenix_dagster.settings import PRICES_FILE


def load_prices(path: Path = PRICES_FILE) -> dict:
    document = yaml.safe_load(path.read_text())
    return {"prices": document["prices"], "monthly_budget_usd": float(document["monthly_budget_usd"])}


def unit_prices_frame(prices: dict) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"service": service, "unit": p["unit"], "usd": float(p["usd"])}
            for service, p in sorted(prices["prices"].items())
        ],
        schema={"service": pl.String, "unit": pl.String, "usd": pl.Float64},
    )


def monthly_budget_frame(prices: dict) -> pl.DataFrame:
    return pl.DataFrame({"budget_usd": [prices["monthly_budget_usd"]]})


def request_usage(source: str, *, requests: int, proxied_bytes: int) -> list[dict]:
    """Usage of one source's requests in a run — priced as `<source>_request` in data/unit_prices.yaml —
    and the proxy traffic when proxied."""
    usage = [{"service": f"{source}_request", "item": source, "quantity": float(requests)}]
    if proxied_bytes:
        usage.append({"service": "proxy_gb", "item": source, "quantity": proxied_bytes / 1e9})
    return usage


def model_usage(model: str, *, prompt_tokens: int, completion_tokens: int, model_seconds: float) -> list[dict]:
    """Usage of the model calls made in a run (cache hits cost nothing)."""
    return [
        {"service": "llm_prompt_1k_tokens", "item": model, "quantity": prompt_tokens / 1000},
        {"service": "llm_completion_1k_tokens", "item": model, "quantity": completion_tokens / 1000},
        {"service": "llm_model_hour", "item": model, "quantity": model_seconds / 3600},
    ]
