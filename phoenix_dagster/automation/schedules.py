"""When the partitions run: one run per county of the market every day (each collects all of
its county's configured ZIPs), and a weekly full refresh, at the market's local times (its zone:
data/markets.yaml)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import dagster as dg

from phoenix_dagster.graph.partitions import partition_key
from phoenix_dagster.markets.market import Market

FULL_REFRESH_CONFIG = {"ops": {"raw_assessor_payloads": {"config": {"full_refresh": True}}}}


def build_schedules(job, counties: list[str], market: Market) -> list[dg.ScheduleDefinition]:
    """`counties`: the FIPS codes of the market's counties that have configured ZIPs."""

    @dg.schedule(
        job=job,
        cron_schedule="0 3 * * *",
        execution_timezone=market.timezone,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"03:00 in {market.place}: one run per county for that day, each collecting every "
        "configured ZIP of its county; the warehouse is built once after them (sensor warehouse_after_partitions).",
    )
    def daily_refresh_schedule(context: dg.ScheduleEvaluationContext):
        day = context.scheduled_execution_time.astimezone(ZoneInfo(market.timezone)).date()
        for county in counties:
            yield dg.RunRequest(run_key=f"{county}|{day}", partition_key=partition_key(day, county))

    @dg.schedule(
        job=job,
        cron_schedule="0 4 * * 0",
        execution_timezone=market.timezone,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"Sundays at 04:00 in {market.place}: every county, every parcel's detail fetched again.",
    )
    def weekly_full_assessor_refresh(context: dg.ScheduleEvaluationContext):
        day = context.scheduled_execution_time.astimezone(ZoneInfo(market.timezone)).date()
        for county in counties:
            yield dg.RunRequest(
                run_key=f"full|{county}|{day}",
                partition_key=partition_key(day, county),
                run_config=FULL_REFRESH_CONFIG,
                tags={"phoenix/refresh": "full"},
            )

    return [daily_refresh_schedule, weekly_full_assessor_refresh]


def retention_schedule(job, market: Market) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="compact_raw_bodies_daily",
        job=job,
        cron_schedule="30 4 * * *",
        execution_timezone=market.timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,  # the personal-data policy holds with no one to switch it on
        description=f"04:30 in {market.place}: raw county replies older than PHOENIX_RAW_RETENTION_DAYS lose owners' names "
        "and mailing addresses. Running by default; every `phoenix-estate run` also makes one run.",
    )
