"""The platform's one partitioning: a calendar day of the market (its zone: data/markets.yaml) × a ZIP code."""

from __future__ import annotations

from datetime import date

import dagster as dg

from phoenix_dagster.settings import Settings

ALL_ZIPS = "all"  # the ZIP label of bookkeeping written by unpartitioned (warehouse) assets


def daily_zip_partitions(settings: Settings) -> dg.MultiPartitionsDefinition:
    return dg.MultiPartitionsDefinition(
        {
            # end_offset=1 makes today a valid partition, so a run for "today" needs no waiting.
            "date": dg.DailyPartitionsDefinition(
                start_date=settings.first_date, timezone=settings.market.timezone, end_offset=1
            ),
            "zip": dg.StaticPartitionsDefinition(list(settings.zip_codes)),
        }
    )


def partition_key(day: date | str, zip_code: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"date": str(day), "zip": zip_code})


def date_and_zip(context) -> tuple[str, str]:
    keys = context.partition_key.keys_by_dimension
    return keys["date"], keys["zip"]


def partition_timezone(context) -> str:
    """The zone the partition's days are counted in: its partitions definition's (the market's)."""
    return context.assets_def.partitions_def.time_window_partitions_def.timezone
