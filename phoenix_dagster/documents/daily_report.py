"""The `daily_reports` collection: one document per partition day (unique on `date`), with a
section per ZIP — counts, records by source, quality per source, cost, quarantine reasons —
and the month's budget status. Built from the warehouse's ops models by each build."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from phoenix_dagster.storage.files import write_atomically

COLLECTION = "daily_reports"
TOP_REASONS = 20


def _plain(value):
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def report_updates(
    *, counts: pl.DataFrame, quality: pl.DataFrame, cost: pl.DataFrame, errors: pl.DataFrame, budget: pl.DataFrame
) -> dict[str, dict]:
    """Day (YYYY-MM-DD) → the $set update of its report. `counts`: ops.partition_counts;
    `quality`: ops.quality_daily; `cost`: usd per partition; `errors`: records per
    partition, asset and reason; `budget`: ops.budget_status."""
    cost_by_partition = dict(cost.iter_rows())
    budgets = {row["month"]: row for row in budget.iter_rows(named=True)}
    now = datetime.now(UTC)
    updates: dict[str, dict] = {}
    for row in counts.iter_rows(named=True):
        day, zip_code = row.pop("date"), row.pop("PostalCode")
        partition = f"{day}|{zip_code}"
        rows = quality.filter((pl.col("date") == day) & (pl.col("PostalCode") == zip_code)).drop("date", "PostalCode")
        section = {
            "counts": row,
            "records_by_source": {r["source"]: r["records"] for r in rows.iter_rows(named=True)},
            "quality": rows.to_dicts(),
            "cost_usd": float(cost_by_partition.get(partition, 0.0)),
            "errors": errors.filter(pl.col("partition") == partition).drop("partition").head(TOP_REASONS).to_dicts(),
        }
        update = updates.setdefault(day.isoformat(), {"$set": {"updated_at": now}})
        update["$set"][f"zips.{zip_code}"] = _plain(section)
        if day.strftime("%Y-%m") in budgets:
            update["$set"]["budget"] = _plain(budgets[day.strftime("%Y-%m")])
    return updates


def ensure_indexes(collection) -> None:
    from pymongo import ASCENDING  # ~0.5 s to import: only where MongoDB is written

    collection.create_index([("date", ASCENDING)], unique=True, name="date_unique")


def report_document(day: str, update: dict) -> dict:
    """The whole document an update describes (its dotted `zips.<ZIP>` keys nested)."""
    document: dict = {"date": day}
    for path, value in update["$set"].items():
        *parents, leaf = path.split(".")
        node = document
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return document


def export_reports(updates: dict[str, dict], path: Path) -> int:
    """The reports as MongoDB Extended JSON lines (mongoimport-ready), replacing the file atomically."""
    from bson import json_util

    lines = [
        json_util.dumps(report_document(day, updates[day]), json_options=json_util.RELAXED_JSON_OPTIONS) + "\n"
        for day in sorted(updates)
    ]
    write_atomically(path, lambda tmp: tmp.write_text("".join(lines)))
    return len(lines)
