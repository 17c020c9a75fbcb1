"""The warehouse's writer holds its lock for a whole build run; readers open only the published
copy and never block it."""

import subprocess
import sys

import dagster as dg
import duckdb
import pytest

from phoenix_dagster.resources.warehouse import PublishedWarehouseResource, WarehouseBuildResource

pytestmark = pytest.mark.integration  # another process tries the lock

TRY_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    print("free")
except BlockingIOError:
    print("held")
"""


def lock_state(path) -> str:
    return subprocess.run([sys.executable, "-c", TRY_LOCK, str(path)], capture_output=True, text=True,
                          check=True).stdout.strip()


def builder(tmp_path) -> WarehouseBuildResource:
    return WarehouseBuildResource(build_path=str(tmp_path / "w.build.duckdb"), published_path=str(tmp_path / "w.duckdb"))


def test_a_build_run_holds_the_writer_lock_from_start_to_end(tmp_path):
    writer = builder(tmp_path)
    seen = []

    @dg.asset
    def first(warehouse_build: WarehouseBuildResource) -> None:
        with warehouse_build.build_connection() as conn:
            conn.execute("create table t as select 1 as x")
        seen.append(lock_state(warehouse_build.lock_path))  # between connections, still held

    @dg.asset(deps=[first])
    def second(warehouse_build: WarehouseBuildResource) -> None:
        seen.append(lock_state(warehouse_build.lock_path))
        warehouse_build.publish()

    assert dg.materialize([first, second], resources={"warehouse_build": writer}).success
    assert seen == ["held", "held"]
    assert lock_state(writer.lock_path) == "free"  # released when the run ends
    reader = PublishedWarehouseResource(path=writer.published_path)
    assert reader.query("select x from t")["x"].to_list() == [1]


def test_a_reader_of_the_published_copy_does_not_block_the_next_publish(tmp_path):
    writer = builder(tmp_path)
    with writer.build_connection() as conn:
        conn.execute("create table t as select 1 as x")
    writer.publish()
    reader = PublishedWarehouseResource(path=writer.published_path)
    with reader.read_connection() as analyst:  # an analyst's session stays open …
        with writer.build_connection() as conn:
            conn.execute("create or replace table t as select 2 as x")
        writer.publish()  # … and the build still writes and publishes
        assert analyst.execute("select x from t").fetchone() == (1,)  # the session keeps its snapshot
    assert reader.query("select x from t")["x"].to_list() == [2]  # a new session sees the new build
    with pytest.raises(duckdb.Error):
        with reader.read_connection() as conn:
            conn.execute("create table u as select 1")  # the copy is read-only


def test_phoenix_estate_sql_reads_the_warehouse_and_nothing_else(tmp_path, capsys, monkeypatch):
    import polars as pl

    from phoenix_dagster.cli import main

    lake = tmp_path / "lake" / "run_metrics" / "zip=85031" / "date=2026-11-28"
    lake.mkdir(parents=True)
    pl.DataFrame({"items": [3]}).write_parquet(lake / "data.parquet")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as conn:  # a published copy whose view reads the lake
        conn.execute(f"create view lake_items as select * from read_parquet('{tmp_path}/lake/*/*/*/*.parquet')")
    (tmp_path / "secret.txt").write_text("owner,name\n1,JANE DOE\n")
    monkeypatch.setenv("PHOENIX_DATA_DIR", str(tmp_path))
    assert main(["sql", "select sum(items) as n from lake_items"]) == 0
    assert "3" in capsys.readouterr().out
    refused = {
        f"copy (select 1) to '{tmp_path}/lake/evil.parquet'": "one query",  # no writing, even into the lake
        f"select * from read_csv('{tmp_path}/secret.txt')": "Permission",  # no reading outside the lake
        f"attach '{tmp_path}/other.duckdb'": "one query",
        "select 1; select 2": "one query",
        "install httpfs": "one query",
        "select * from nowhere": "Catalog",
    }
    for sql, reason in refused.items():
        assert main(["sql", sql]) == 2, sql
        err = capsys.readouterr().err
        assert reason in err and err.count("\n") == 1, (sql, err)  # one clear line
    assert not (tmp_path / "lake" / "evil.parquet").exists()
