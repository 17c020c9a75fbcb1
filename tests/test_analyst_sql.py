"""`phoenix-estate sql` is read-only for real and sees no personal data: every statement that could
write, reconfigure or reach beyond the warehouse's own lake tables is refused with one line and
exit 2, the lake and control files stay byte for byte what they were, and a runaway query is
stopped by its limits. The published warehouse here is made as the build makes it: a view per
lake, bookkeeping and control table the SQL models read, over Parquet files in a data directory
that also holds a raw county reply naming its owner."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import polars as pl
import pytest

from phoenix_dagster.cli.commands import main
from phoenix_dagster.schemas import empty_frame
from phoenix_dagster.settings import SQL_DIR
from phoenix_dagster.warehouse.sql_project import SOURCE_SCHEMAS, expose_source, sources_read

pytestmark = pytest.mark.integration  # DuckDB files on disk, whole CLI commands

OWNER = "JANE Q PLANTEDOWNER"
PARTITION = "zip=85031/date=2026-11-28"


def _fingerprint(data_dir: Path) -> dict[str, str]:
    """Every file under the lake and control folders, by its bytes."""
    return {
        str(path.relative_to(data_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in ("lake", "control")
        for path in sorted((data_dir / folder).rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("analyst") / "data"
    lake, control = data / "lake", data / "control"
    for schema, name in sources_read(SQL_DIR):
        frame = empty_frame(SOURCE_SCHEMAS[schema][name])
        if schema == "lake":
            folder = lake / name / PARTITION
        elif schema == "bookkeeping":
            folder = lake / "_bookkeeping" / name / PARTITION
        else:
            folder = control / name
        folder.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(folder / ("data.parquet" if schema == "lake" else "some_run.parquet"))
    raw = lake / "raw_assessor_payloads" / PARTITION / "runs" / "20261128T070000000000Z__run"  # a run's part
    raw.mkdir(parents=True)
    pl.DataFrame({"body": [f'{{"Owner": {{"Ownership": "{OWNER}"}}}}']}).write_parquet(raw / "part-00000.parquet")
    with duckdb.connect(str(data / "warehouse.duckdb")) as conn:
        for schema, name in sources_read(SQL_DIR):
            expose_source(conn, schema, name, lake, control)
        conn.execute("create schema marts")
        conn.execute("create table marts.properties as select '85031' as PostalCode, 255 as n")
    return data


@pytest.fixture
def sql(data_dir, monkeypatch, capsys):
    monkeypatch.setenv("PHOENIX_DATA_DIR", str(data_dir))
    for name in ("PHOENIX_LAKE_DIR", "PHOENIX_LAKE_URL"):
        monkeypatch.delenv(name, raising=False)

    def run(query: str) -> tuple[int, str, str]:
        code = main(["sql", query])
        printed = capsys.readouterr()
        return code, printed.out, printed.err

    return run


READS = [
    "select PostalCode, n from marts.properties",
    "SELECT count(*) AS days FROM lake.quality_daily",
    "with t as (select 1 as x) select * from t",
    "from marts.properties",
    "describe marts.properties",
    "show tables",
    "summarize marts.properties",
    "explain select * from lake.quality_daily",
    "EXPLAIN (FORMAT json) select * from marts.properties",
    "/* a comment */ select 1 as one -- and another",
]


@pytest.mark.parametrize("query", READS)
def test_read_queries_answer(sql, query):
    code, out, err = sql(query)
    assert code == 0, err
    assert out.strip()


def refused_forms(data_dir: Path) -> dict[str, str]:
    """Statement → words its one-line refusal must hold."""
    quality = data_dir / "lake" / "quality_daily" / PARTITION / "data.parquet"
    tuning = data_dir / "control" / "batch_tuning" / "planted.parquet"
    alerts = data_dir / "control" / "alerts" / "sent.parquet"
    return {
        # the review's finding: EXPLAIN ANALYZE runs the COPY it explains
        f"EXPLAIN ANALYZE COPY (select 1 as x where false) TO '{quality}' (FORMAT parquet)": "ANALYZE",
        f"explain analyze copy (select 1 as x) to '{tuning}' (format parquet)": "ANALYZE",
        f"/* ok? */ ExPlAiN -- no\n   AnAlYzE copy (select 1) to '{alerts}' (format parquet)": "ANALYZE",
        f"explain analyse copy (select 1) to '{tuning}'": "ANALYZE",
        f"EXPLAIN (ANALYZE) COPY (select 1) TO '{tuning}' (FORMAT parquet)": "ANALYZE",
        f"explain (format json, analyze) copy (select 1) to '{tuning}'": "ANALYZE",
        "explain analyze select 1": "ANALYZE",
        f"explain copy (select 1) to '{tuning}'": "COPY",
        f"copy (select 1 as x) to '{quality}' (format parquet)": "COPY",
        f"COPY marts.properties TO '{tuning}' (FORMAT parquet)": "COPY",
        f"  \n\tcopy (select 1) to '{alerts}'": "COPY",
        f"select 1; copy (select 1) to '{alerts}'": "one statement",
        "select 1; select 2": "one statement",
        "select 1;;select 2": "one statement",
        "pragma version": "PRAGMA",
        "PRAGMA enable_profiling": "PRAGMA",
        "call pragma_version()": "CALL",
        "set memory_limit = '20GB'": "SET",
        "SET enable_external_access = true": "SET",
        "reset allowed_directories": "SET",
        f"attach '{data_dir}/other.duckdb' as other": "ATTACH",
        "detach warehouse": "DETACH",
        f"export database '{data_dir}/lake/exported'": "EXPORT",
        "install httpfs": "LOAD",
        "LOAD httpfs": "LOAD",
        "create table marts.evil as select 1": "CREATE",
        "insert into marts.properties values ('x', 1)": "INSERT",
        "update marts.properties set n = 0": "UPDATE",
        "delete from marts.properties": "DELETE",
        "drop table marts.properties": "DROP",
        "checkpoint": "CALL",
        "vacuum": "VACUUM",
        "begin transaction": "TRANSACTION",
        # reads beyond the warehouse's own lake tables: the raw layer, the rest of the machine
        f"select * from read_parquet('{data_dir}/lake/raw_assessor_payloads/*/*/runs/*/part-*.parquet')": "Permission",
        f"select * from read_parquet('{data_dir}/lake/**/*.parquet')": "Permission",
        f"select * from read_text('{data_dir}/lake/raw_assessor_payloads/{PARTITION}/runs/*/part-00000.parquet')": (
            "Permission"
        ),
        "select * from read_csv('/etc/passwd')": "Permission",
    }


def test_every_refused_form_exits_2_with_one_line_and_changes_no_file(sql, data_dir):
    before = _fingerprint(data_dir)
    failures = []
    for query, reason in refused_forms(data_dir).items():
        code, out, err = sql(query)
        if code != 2 or reason not in err or err.count("\n") != 1 or OWNER in out + err:
            failures.append((query, code, err.strip()[:200]))
    assert not failures, "\n".join(map(str, failures))
    assert _fingerprint(data_dir) == before  # the lake and control files byte for byte
    assert not (data_dir / "other.duckdb").exists() and not (data_dir / "lake" / "exported").exists()


def test_a_runaway_query_is_stopped_by_its_time_limit(sql, monkeypatch):
    monkeypatch.setenv("PHOENIX_SQL_TIMEOUT_S", "1")
    code, _, err = sql("select count(*) from range(1000000000000) a")
    assert code == 2 and "stopped after 1 s" in err and err.count("\n") == 1, err


def test_a_query_that_would_fill_memory_and_disk_is_stopped_by_its_limits(sql, monkeypatch, data_dir):
    monkeypatch.setenv("PHOENIX_DUCKDB_MEMORY_MB", "64")
    monkeypatch.setenv("PHOENIX_SQL_MAX_TEMP_MB", "8")
    code, _, err = sql("select count(*) from (select range as r, random() as x from range(20000000) order by x)")
    assert code == 2 and "PHOENIX_SQL_MAX_TEMP_MB" in err and err.count("\n") == 1, err
    spilled = data_dir / "warehouse.duckdb.tmp"
    assert not spilled.exists() or sum(p.stat().st_size for p in spilled.rglob("*")) == 0


def test_a_huge_result_is_read_only_in_part(sql):
    code, out, err = sql("select range as r from range(1000000000000)")  # a cross join's worth of rows
    assert code == 0, err
    assert "more than 10,000 rows: only the first 10,000 were read" in out
