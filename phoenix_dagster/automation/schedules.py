"""When the partitions run: one run per configured ZIP every day, and a weekly full refresh."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import dagster as dg

from phoenix_dagster.graph.partitions import partition_key
from phoenix_dagster.settings import TIMEZONE

FULL_REFRESH_CONFIG = {"ops": {"raw_assessor_payloads": {"config": {"full_refresh": True}}}}


def build_schedules(job, zip_codes: tuple[str, ...]) -> list[dg.ScheduleDefinition]:
    @dg.schedule(
        job=job,
        cron_schedule="0 3 * * *",
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="03:00 in Phoenix: one run per configured ZIP code for that day; the warehouse is "
        "built once after them (sensor warehouse_after_partitions).",
    )
    def daily_refresh_schedule(context: dg.ScheduleEvaluationContext):
        day = context.scheduled_execution_time.astimezone(ZoneInfo(TIMEZONE)).date()
        for zip_code in zip_codes:
            yield dg.RunRequest(run_key=f"{day}|{zip_code}", partition_key=partition_key(day, zip_code))

    @dg.schedule(
        job=job,
        cron_schedule="0 4 * * 0",
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="Sundays at 04:00 in Phoenix: every ZIP with every parcel's detail fetched again.",
    )
    def weekly_full_assessor_refresh(context: dg.ScheduleEvaluationContext):
        day = context.scheduled_execution_time.astimezone(ZoneInfo(TIMEZONE)).date()
        for zip_code in zip_codes:
            yield dg.RunRequest(
                run_key=f"full|{day}|{zip_code}",
                partition_key=partition_key(day, zip_code),
                run_config=FULL_REFRESH_CONFIG,
                tags={"phoenix/refresh": "full"},
            )

    return [daily_refresh_schedule, weekly_full_assessor_refresh]


def retention_schedule(job) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="compact_raw_bodies_daily",
        job=job,
        cron_schedule="30 4 * * *",
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,  # the personal-data policy holds with no one to switch it on
        description="04:30 in Phoenix: raw county replies older than PHOENIX_RAW_RETENTION_DAYS lose owners' names "
        "and mailing addresses. Running by default; every `phoenix-estate run` also makes one run.",
    )
