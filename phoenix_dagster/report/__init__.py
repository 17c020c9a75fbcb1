"""The daily HTML report: one self-contained page a day under `$PHOENIX_DATA_DIR/reports/`,
built from the published warehouse (market, data quality, cost, throughput and tuning, health).

    write_report(warehouse, day, reports_dir, refresh_days, timezone) -> ReportFile
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from phoenix_dagster.storage.files import write_atomically
from phoenix_dagster.warehouse.queries import query as sql


@dataclass(frozen=True)
class ReportFile:
    path: Path
    bytes: int
    charts: int
    sections: tuple[str, ...]


def latest_partition_day(warehouse) -> date | None:
    """The newest partition day the published warehouse holds (None before any run)."""
    return warehouse.query(sql("report__latest_day"))["day"][0]


def write_report(warehouse, day: date, reports_dir: Path, refresh_days: int, timezone: str) -> ReportFile:
    """`warehouse`: the PublishedWarehouseResource (or anything with query(sql, params) and has_table);
    `timezone`: the market's, which the report's times are shown in (and named)."""
    from phoenix_dagster.report import page, sections  # Altair and its renderer: ~0.4 s to import, only here

    parts = [
        sections.market(warehouse.query, day),
        sections.quality(warehouse.query, day),
        sections.cost(warehouse.query, day, refresh_days),
        sections.throughput(warehouse.query, day, warehouse.has_table, timezone),
        sections.health(
            warehouse.query,
            day,
            warehouse.has_table,
            timezone,
            up_to_now=day >= (latest_partition_day(warehouse) or day),
        ),
    ]
    html = page.render(parts, day=day)
    path = write_atomically(reports_dir / f"{day.isoformat()}.html", lambda tmp: tmp.write_text(html, encoding="utf-8"))
    charts = sum(1 for section in parts for block in section.blocks if block.svg)
    return ReportFile(path, path.stat().st_size, charts, tuple(s.key for s in parts))
