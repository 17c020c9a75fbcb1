"""ops.degradations in the build: the detector (phoenix_dagster/monitoring/degradations.py, unit-tested in
test_degradations.py) over the warehouse's stage metrics and quality scores, and its alert."""

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import duckdb
import polars as pl
import pytest

from assets.warehouse_build import degradations
from phoenix_dagster.monitoring.alerts import find_alerts
from phoenix_dagster.resources.warehouse import WarehouseBuildResource

pytestmark = pytest.mark.unit


def test_a_slow_county_run_becomes_a_row_with_its_cause_and_one_alert(tmp_path):
    start = datetime(2026, 11, 1, 7, tzinfo=UTC)
    runs = [
        {
            "run_id": f"r{n}",
            "stage": "collection:assessor",
            "partition": f"2026-11-{n + 1:02d}|85031",
            "recorded_at": start + timedelta(days=n),
            "items": 200,
            "items_per_s": 20.0 + (n % 3) * 0.2,
            "p95_ms": 400.0 + (n % 4) * 5,
            "error_rate": 0.0,
            "cpu_pct": 10.0,
            "rate_limited": 0,
            "timeouts": 0,
        }
        for n in range(15)
    ]
    runs[-1] |= {"p95_ms": 1300.0, "items_per_s": 7.0, "cpu_pct": 11.0}  # the county answers 3× slower
    quality = [
        {
            "date": date(2026, 11, n + 1),
            "PostalCode": "85031",
            "source": "assessor:maricopa",
            "evaluated_at": start + timedelta(days=n),
            "overall_score": 0.96,
        }
        for n in range(15)
    ]
    build = tmp_path / "w.build.duckdb"
    with duckdb.connect(str(build)) as conn:
        conn.execute("create schema ops")
        frame, scores = pl.DataFrame(runs), pl.DataFrame(quality)  # noqa: F841 (DuckDB reads them by name)
        conn.execute("create table ops.stage_metrics as select * from frame")
        conn.execute("create table ops.quality_daily as select * from scores")
    writer = WarehouseBuildResource(build_path=str(build), published_path=str(tmp_path / "w.duckdb"))
    result = dg.materialize([degradations], resources={"warehouse_build": writer})
    assert result.success
    rows = writer.build_query("select * from ops.degradations order by metric")
    assert rows["run_id"].to_list() == ["r14", "r14"] and rows["metric"].to_list() == ["items_per_s", "p95_ms"]
    assert "county" in rows["likely_cause"][1] and "slow" in rows["likely_cause"][1], rows["likely_cause"][1]
    alerts = find_alerts(
        day=date(2026, 11, 15),
        quality=pl.DataFrame(schema={"PostalCode": pl.String, "source": pl.String}),
        budget=pl.DataFrame(),
        failed_checks=[],
        freshness_target_hours=24,
        degradations=rows,
    )
    assert [a.condition for a in alerts] == [
        "degradation:collection:assessor:85031:items_per_s",
        "degradation:collection:assessor:85031:p95_ms",
    ]
    assert "85031" in alerts[1].message and "slow" in alerts[1].message
