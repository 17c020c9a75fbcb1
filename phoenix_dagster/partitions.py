"""The platform's one partitioning: a calendar day in Phoenix × a ZIP code."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import dagster as dg

from phoenix_dagster.settings import Settings

TIMEZONE = "America/Phoenix"
FIRST_DATE = "2025-01-01"


def daily_zip_partitions(zip_codes: tuple[str, ...]) -> dg.MultiPartitionsDefinition:
    return dg.MultiPartitionsDefinition(
        {
            # end_offset=1 makes today a valid partition, so a run for "today" needs no waiting.
            "date": dg.DailyPartitionsDefinition(start_date=FIRST_DATE, timezone=TIMEZONE, end_offset=1),
            "zip": dg.StaticPartitionsDefinition(list(zip_codes)),
        }
    )


def partition_key(day: date | str, zip_code: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"date": str(day), "zip": zip_code})


def date_and_zip(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext | dg.OutputContext | dg.InputContext) -> tuple[str, str]:
    keys = context.partition_key.keys_by_dimension
    return keys["date"], keys["zip"]


def partition_start_utc(day: str) -> datetime:
    """Midnight of the partition's day in Phoenix, as a UTC timestamp."""
    return datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(TIMEZONE)).astimezone(timezone.utc)


# The code location's partitions: PHOENIX_ZIP_CODES is read once, when Dagster loads the definitions.
ZIP_DAY_PARTITIONS = daily_zip_partitions(Settings.from_env().zip_codes)
