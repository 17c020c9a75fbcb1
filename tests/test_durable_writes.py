"""Files replaced whole are on disk before they count: the new file's data is fsynced before the
rename, and the folder after it, so a machine that loses power keeps the old file or the new one
— never a renamed file whose data never reached the disk (an empty control file, a published
warehouse of zeros). Every writer that replaces a file goes through files.replace_durably."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import polars as pl
import pytest

from phoenix_dagster.documents.export import export_documents
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.warehouse import WarehouseBuildResource
from phoenix_dagster.storage.files import move_durably, write_atomically

pytestmark = pytest.mark.unit


@pytest.fixture
def calls(monkeypatch) -> list[tuple[str, str]]:
    """("fsync" | "replace", path) in the order they happened."""
    seen: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        seen.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def replace(source, target, **kwargs):
        seen.append(("replace", str(target)))
        return real_replace(source, target, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return seen


def _durable(calls: list[tuple[str, str]], target: Path) -> bool:
    """The data fsynced (a temporary file beside the target), then the rename, then the folder."""
    try:
        at = calls.index(("replace", str(target)))
    except ValueError:
        return False
    before, after = calls[:at], calls[at + 1 :]
    return (
        any(kind == "fsync" and Path(p).parent == target.parent and p.endswith(".tmp") for kind, p in before)
        and ("fsync", str(target.parent)) in after
    )


def test_a_file_written_atomically_is_durable(tmp_path, calls):
    target = tmp_path / "control" / "alerts" / "x.parquet"
    write_atomically(target, pl.DataFrame({"a": [1]}).write_parquet)
    assert _durable(calls, target), calls


def test_a_lake_partition_is_durable(tmp_path, calls):
    lake = LakeResource(root=str(tmp_path / "lake"))
    lake.write(pl.DataFrame({"a": [1]}), "quality_daily", "2026-11-28", "85031")
    [written] = [p for kind, p in calls if kind == "replace"]
    assert _durable(calls, Path(written)), calls


def test_the_published_warehouse_and_the_export_are_durable(tmp_path, calls):
    build = WarehouseBuildResource(
        build_path=str(tmp_path / "w.build.duckdb"), published_path=str(tmp_path / "w.duckdb")
    )
    with duckdb.connect(build.build_path) as conn:
        conn.execute("create table t as select 1 as x")
    build.publish()
    assert _durable(calls, tmp_path / "w.duckdb"), calls
    export_documents(
        pl.DataFrame({"property_id": ["a"], "content_hash": [1]}), tmp_path / "serving" / "p.jsonl", "property_id"
    )
    assert _durable(calls, tmp_path / "serving" / "p.jsonl"), calls


def test_a_move_between_folders_flushes_both(tmp_path, calls):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "archive").mkdir()
    (tmp_path / "inbox" / "a.csv").write_text("x")
    move_durably(tmp_path / "inbox" / "a.csv", tmp_path / "archive" / "a.csv")
    assert calls == [
        ("replace", str(tmp_path / "archive" / "a.csv")),
        ("fsync", str(tmp_path / "archive")),
        ("fsync", str(tmp_path / "inbox")),
    ]
