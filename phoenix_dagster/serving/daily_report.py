"""The ``daily_reports`` collection: one document per day (unique on ``date``), each ZIP's
section written by that ZIP's run: counts by source, quality per source, cost, errors."""

from __future__ import annotations

from datetime import date, datetime, timezone

from pymongo import ASCENDING

COLLECTION = "daily_reports"


def _plain(value):
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def report_update(*, zip_code: str, counts: dict, sources: dict[str, int], quality: list[dict], cost_usd: float,
                  errors: list[dict], budget: dict | None) -> dict:
    section = {"counts": counts, "records_by_source": sources, "quality": quality, "cost_usd": cost_usd,
               "errors": errors}
    update = {f"zips.{zip_code}": _plain(section), "updated_at": datetime.now(timezone.utc)}
    if budget:
        update["budget"] = _plain(budget)
    return {"$set": update}


def upsert_report(collection, day: date, update: dict) -> None:
    collection.create_index([("date", ASCENDING)], unique=True, name="date_unique")
    collection.update_one({"date": day.isoformat()}, update, upsert=True)
