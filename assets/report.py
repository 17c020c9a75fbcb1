"""The daily report: one self-contained HTML page a day, written after the build publishes the
warehouse (phoenix_dagster/report/): for the warehouse's latest partition day, and for every day
the build run names (its `phoenix/report_days` tag: the days whose lake data changed)."""

from datetime import date
from pathlib import Path

import dagster as dg

from phoenix_dagster.graph.job_names import REPORT_DAYS_TAG
from phoenix_dagster.markets.market import Market
from phoenix_dagster.report import latest_partition_day, write_report
from phoenix_dagster.resources.warehouse import PublishedWarehouseResource


def daily_html_report_asset(reports_dir: Path, refresh_days: int, market: Market) -> dg.AssetsDefinition:
    @dg.asset(
        deps=["published_warehouse"],
        kinds={"html"},
        group_name="serving",
        metadata={"path": f"{reports_dir}/<date>.html"},
    )
    def daily_html_report(
        context: dg.AssetExecutionContext, warehouse: PublishedWarehouseResource
    ) -> dg.MaterializeResult:
        """The day's report — market per ZIP over time, data quality, cost against the budget with a
        recommendation from the request ledger, throughput and tuning, service health — as one HTML
        file with its charts inline (SVG), for the latest partition day in the published warehouse and
        every day whose lake data the runs before this build changed:
        $PHOENIX_DATA_DIR/reports/<date>.html. Also `phoenix-estate report [--date D]`."""
        named = [date.fromisoformat(d) for d in (context.run.tags.get(REPORT_DAYS_TAG) or "").split(",") if d]
        with warehouse.held_open():
            latest = latest_partition_day(warehouse) or date.fromisoformat(market.today())
            reports = [
                write_report(warehouse, day, reports_dir, refresh_days, market.timezone)
                for day in sorted({*named, latest})
            ]
        for report in reports:
            context.log.info(f"report: {report.path} ({report.bytes:,} bytes, {report.charts} charts)")
        report = reports[-1]  # the latest day's
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(report.path)),
                "url": dg.MetadataValue.url(report.path.as_uri()),
                "day": latest.isoformat(),
                "days_written": ", ".join(r.path.stem for r in reports),
                "bytes": report.bytes,
                "charts": report.charts,
                "sections": ", ".join(report.sections),
            }
        )

    return daily_html_report
