"""The daily report: one self-contained HTML page for the warehouse's latest partition day,
written after the build publishes the warehouse (phoenix_dagster/report/)."""

from datetime import date
from pathlib import Path

import dagster as dg

from phoenix_dagster.report import latest_partition_day, write_report
from phoenix_dagster.resources.warehouse import PublishedWarehouseResource


def daily_html_report_asset(reports_dir: Path, refresh_days: int) -> dg.AssetsDefinition:
    @dg.asset(deps=["published_warehouse"], kinds={"html"}, group_name="serving",
              metadata={"path": f"{reports_dir}/<date>.html"})
    def daily_html_report(context: dg.AssetExecutionContext, warehouse: PublishedWarehouseResource) -> dg.MaterializeResult:
        """The day's report — market per ZIP over time, data quality, cost against the budget with a
        recommendation from the request ledger, throughput and tuning, service health — as one HTML
        file with its charts inline (SVG), for the latest partition day in the published warehouse:
        $PHOENIX_DATA_DIR/reports/<date>.html. Also `phoenix-estate report [--date D]`."""
        with warehouse.held_open():
            day = latest_partition_day(warehouse) or date.today()
            report = write_report(warehouse, day, reports_dir, refresh_days)
        context.log.info(f"report for {day}: {report.path} ({report.bytes:,} bytes, {report.charts} charts)")
        return dg.MaterializeResult(metadata={
            "path": dg.MetadataValue.path(str(report.path)), "url": dg.MetadataValue.url(report.path.as_uri()),
            "day": day.isoformat(), "bytes": report.bytes, "charts": report.charts,
            "sections": ", ".join(report.sections)})

    return daily_html_report
