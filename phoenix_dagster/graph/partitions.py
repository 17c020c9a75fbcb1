"""The platform's one partitioning: a calendar day in Phoenix × a ZIP code."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import dagster as dg

from phoenix_dagster.settings import TIMEZONE, Settings

ALL_ZIPS = "all"  # the ZIP label of bookkeeping written by unpartitioned (warehouse) assets


def daily_zip_partitions(settings: Settings) -> dg.MultiPartitionsDefinition:
    return dg.MultiPartitionsDefinition(
        {
            # end_offset=1 makes today a valid partition, so a run for "today" needs no waiting.
            "date": dg.DailyPartitionsDefinition(start_date=settings.first_date, timezone=TIMEZONE, end_offset=1),
            "zip": dg.StaticPartitionsDefinition(list(settings.zip_codes)),
        }
    )


def partition_key(day: date | str, zip_code: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"date": str(day), "zip": zip_code})


def date_and_zip(context) -> tuple[str, str]:
    keys = context.partition_key.keys_by_dimension
    return keys["date"], keys["zip"]


def today_in_phoenix() -> str:
    return datetime.now(ZoneInfo(TIMEZONE)).date().isoformat()


def partition_start_utc(day: str) -> datetime:
    """Midnight of the partition's day in Phoenix, as a UTC timestamp."""
    return datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(TIMEZONE)).astimezone(UTC)
