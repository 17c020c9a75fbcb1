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
    return subprocess.run(
        [sys.executable, "-c", TRY_LOCK, str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()


def builder(tmp_path) -> WarehouseBuildResource:
    return WarehouseBuildResource(
        build_path=str(tmp_path / "w.build.duckdb"), published_path=str(tmp_path / "w.duckdb")
    )


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
    with pytest.raises(duckdb.Error), reader.read_connection() as conn:
        conn.execute("create table u as select 1")  # the copy is read-only
