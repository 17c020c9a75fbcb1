"""The platform's one partitioning: a county of the market × a calendar day of the market (its
zone: data/markets.yaml). A partition's run collects and transforms every ZIP of its county, or
the ZIPs its `phoenix/zips` tag names (a failed ZIP re-run alone); the lake keeps each ZIP's
share apart (`<asset>/zip=<ZIP>/date=<day>`), and so does the bookkeeping (`partition` = `<day>|<ZIP>`)."""

from __future__ import annotations

import re
from datetime import date

import dagster as dg

from phoenix_dagster.settings import Settings

COUNTY, DATE = "county", "date"
ZIPS_TAG = "phoenix/zips"  # a run's ZIPs, comma separated: some of its county's (none: all of them)
ALL_ZIPS = "all"  # the ZIP label of bookkeeping written by unpartitioned (warehouse) assets


def county_day_partitions(settings: Settings) -> dg.MultiPartitionsDefinition:
    return dg.MultiPartitionsDefinition(
        {
            COUNTY: dg.StaticPartitionsDefinition(sorted(set(settings.zip_counties.values()))),
            # end_offset=1 makes today a valid partition, so a run for "today" needs no waiting.
            DATE: dg.DailyPartitionsDefinition(
                start_date=settings.first_date, timezone=settings.market.timezone, end_offset=1
            ),
        }
    )


def partition_key(day: date | str, county: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({COUNTY: county, DATE: str(day)})


def day_and_county(context) -> tuple[str, str]:
    keys = context.partition_key.keys_by_dimension
    return keys[DATE], keys[COUNTY]


def county_and_day(key: str) -> tuple[str, str] | None:
    """(county, day) of a partition key as Dagster writes it (`<county>|<day>`: dimensions by
    name); None for a key of another shape (a run made before county × day partitions:
    `<day>|<ZIP>`)."""
    parts = key.split("|")
    if len(parts) == 2 and re.fullmatch(r"\d{5}", parts[0]) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", parts[1]):
        return parts[0], parts[1]
    return None


def day_of_key(key: str) -> str | None:
    """The day of a county × day partition key (None for another shape)."""
    parsed = county_and_day(key)
    return parsed[1] if parsed else None


def zip_tags(zip_codes: list[str] | tuple[str, ...]) -> dict[str, str]:
    """The tags of a run of some of its county's ZIPs only."""
    return {ZIPS_TAG: ",".join(sorted(zip_codes))}


def selected_zips(tags: dict, county_zips: tuple[str, ...], county: str) -> tuple[str, ...]:
    """The ZIPs a run of the county's partition works on: those its `phoenix/zips` tag names
    (each must be the county's), else all of the county's."""
    named = tuple(z.strip() for z in tags.get(ZIPS_TAG, "").split(",") if z.strip())
    if not named:
        return county_zips
    foreign = sorted(set(named) - set(county_zips))
    if foreign:
        raise dg.Failure(
            f"{ZIPS_TAG}: ZIP {', '.join(foreign)} is not one of county {county}'s configured ZIPs "
            f"({', '.join(county_zips)})"
        )
    return tuple(sorted(set(named)))


def partition_timezone(context) -> str:
    """The zone the partition's days are counted in: its partitions definition's (the market's)."""
    return context.assets_def.partitions_def.time_window_partitions_def.timezone
