from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from assets.warehouse_build import upstream_keys
from phoenix_dagster.settings import SQL_DIR
from phoenix_dagster.warehouse.sql_project import SqlModelError, build_model, discover_models

pytestmark = pytest.mark.unit


def write(root: Path, layer: str, name: str, sql: str) -> None:
    (root / layer).mkdir(parents=True, exist_ok=True)
    (root / layer / f"{name}.sql").write_text(sql)


SEEDS = frozenset({"ops.unit_prices", "ops.monthly_budget"})


def test_lineage_comes_from_the_sql_itself():
    models = {m.table: m for m in discover_models(SQL_DIR, seeds=SEEDS)}
    assert set(models) >= {"marts.properties", "marts.zip_market_stats", "ops.partition_counts", "ops.cost_events"}
    assert models["marts.properties"].upstream == (("intermediate", "int_properties_latest"),)
    assert models["staging.stg_lake__enriched_properties"].sources == [("lake", "enriched_properties")]
    assert models["marts.properties"].description.startswith("One row per property")
    writers = {"run_log": [dg.AssetKey("a"), dg.AssetKey("b")], "usage": [dg.AssetKey("b")]}
    assert upstream_keys(models["ops.cost_events"], writers) == [
        dg.AssetKey("a"),
        dg.AssetKey("b"),
        dg.AssetKey(["ops", "unit_prices"]),
    ]  # bookkeeping: its writers
    assert upstream_keys(models["ops.batch_tuning"], writers) == [dg.AssetKey("batch_tuning")]  # control state
    assert upstream_keys(models["marts.listing_facts"], writers) == [dg.AssetKey("listing_text_facts")]


def test_ctes_are_not_dependencies_and_unknown_tables_are_errors(tmp_path):
    write(tmp_path, "marts", "ok", "with recent as (select * from lake.enriched_properties) select * from recent")
    assert discover_models(tmp_path)[0].upstream == (("lake", "enriched_properties"),)
    write(tmp_path, "marts", "lost", "select * from lake.nothing_like_it")
    with pytest.raises(SqlModelError, match=r"lake\.nothing_like_it, which is not a known lake table"):
        discover_models(tmp_path)
    (tmp_path / "marts" / "lost.sql").unlink()
    write(tmp_path, "marts", "bad", "select * from staging.nowhere")
    with pytest.raises(SqlModelError, match=r"staging\.nowhere, which no file in sql/ defines"):
        discover_models(tmp_path)


def test_unqualified_tables_are_refused(tmp_path):
    write(tmp_path, "marts", "bare", "select * from properties")
    with pytest.raises(SqlModelError, match="must be schema-qualified"):
        discover_models(tmp_path)


def test_a_model_builds_from_lake_parquet_and_an_empty_bookkeeping_table_is_empty_not_an_error(tmp_path):
    lake = tmp_path / "lake"
    (lake / "run_metrics" / "zip=1" / "date=2").mkdir(parents=True)
    pl.DataFrame({"items": [1, 2, 3]}).write_parquet(lake / "run_metrics" / "zip=1" / "date=2" / "data.parquet")
    write(tmp_path / "sql", "marts", "total", "select sum(items) as total from lake.run_metrics")
    write(tmp_path / "sql", "ops", "rejects", "select count(*) as n from bookkeeping.quarantine")
    total, rejects = discover_models(tmp_path / "sql")
    with duckdb.connect() as conn:
        assert build_model(conn, total, lake, tmp_path / "control") == 1
        assert conn.execute("select total from marts.total").fetchone() == (6,)
        assert build_model(conn, rejects, lake, tmp_path / "control") == 1
        assert conn.execute("select n from ops.rejects").fetchone() == (0,)


def test_a_model_that_gains_a_column_or_changes_materialization_rebuilds(tmp_path):
    lake = tmp_path / "lake"
    (lake / "run_metrics" / "zip=1" / "date=2").mkdir(parents=True)
    pl.DataFrame({"items": [1, 2]}).write_parquet(lake / "run_metrics" / "zip=1" / "date=2" / "data.parquet")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        write(tmp_path / "sql", "ops", "m", "select items from lake.run_metrics")
        build_model(conn, discover_models(tmp_path / "sql")[0], lake, tmp_path)
        write(tmp_path / "sql", "ops", "m", "select items, items * 2 as doubled from lake.run_metrics")
        build_model(conn, discover_models(tmp_path / "sql")[0], lake, tmp_path)
        assert conn.execute("select sum(doubled) from ops.m").fetchone() == (6,)
        (tmp_path / "sql" / "ops" / "m.sql").unlink()
        write(tmp_path / "sql", "staging", "m", "select items from lake.run_metrics")
        staged = discover_models(tmp_path / "sql")[0]
        build_model(conn, staged, lake, tmp_path)
        build_model(conn, staged, lake, tmp_path)  # a view replaced by itself
        kind = conn.execute(
            "select table_type from information_schema.tables where table_name = 'm' and table_schema = 'staging'"
        ).fetchone()
        assert kind == ("VIEW",)


def test_grain_comes_from_the_header_and_every_shipped_model_declares_one(tmp_path):
    write(tmp_path, "marts", "g", "-- Things.\n-- grain: a, b\nselect 1 as a, 2 as b from lake.run_metrics")
    write(tmp_path, "marts", "log", "-- A log.\n-- grain: none (a log)\nselect 1 as a from lake.run_metrics")
    g, log = sorted(discover_models(tmp_path), key=lambda m: m.name)
    assert g.grain == ("a", "b") and g.description == "Things."
    assert log.grain == ()
    assert all(m.grain is not None for m in discover_models(SQL_DIR, seeds=SEEDS))


def test_a_bookkeeping_table_that_gained_a_column_reads_old_and_new_files(tmp_path):
    lake = tmp_path / "lake"
    old = lake / "_bookkeeping" / "usage" / "zip=1" / "date=2"
    old.mkdir(parents=True)
    pl.DataFrame({"service": ["a"], "quantity": [1.0]}).write_parquet(old / "x__run1.parquet")
    pl.DataFrame({"service": ["b"], "quantity": [2.0], "item": ["new"]}).write_parquet(old / "x__run2.parquet")
    write(tmp_path / "sql", "ops", "u", "select service, item from bookkeeping.usage order by service")
    with duckdb.connect() as conn:
        build_model(conn, discover_models(tmp_path / "sql")[0], lake, tmp_path)
        assert conn.execute("select * from ops.u").fetchall() == [("a", None), ("b", "new")]


def test_a_column_no_file_has_yet_reads_as_null_of_its_schemas_type(tmp_path):
    """A bookkeeping table whose schema gained a column (stage_metrics' disk_free_mb) over files
    all written before it: the column is there, null, typed as the schema says."""
    lake = tmp_path / "lake"
    old = lake / "_bookkeeping" / "stage_metrics" / "zip=1" / "date=2"
    old.mkdir(parents=True)
    pl.DataFrame({"stage": ["enrichment"], "items": [3]}).write_parquet(old / "x__run1.parquet")
    write(
        tmp_path / "sql", "ops", "m", "select stage, items, disk_free_mb, bytes_received from bookkeeping.stage_metrics"
    )
    with duckdb.connect() as conn:
        build_model(conn, discover_models(tmp_path / "sql")[0], lake, tmp_path)
        assert conn.execute("select * from ops.m").fetchall() == [("enrichment", 3, None, None)]
        types = dict(
            conn.execute(
                "select column_name, data_type from information_schema.columns where table_name = 'm'"
            ).fetchall()
        )
    assert types["disk_free_mb"] == "DOUBLE" and types["bytes_received"] == "BIGINT"


def test_every_mart_has_its_pandera_model():
    """A mart's model is its check (`matches_schema`), its docs (docs/tables.md) and its column
    docs in the UI: a new sql/marts/<name>.sql without one in MART_TABLES fails here."""
    from phoenix_dagster.schemas.marts import MART_TABLES
    from phoenix_dagster.settings import SQL_DIR

    files = {f"marts.{path.stem}" for path in (SQL_DIR / "marts").glob("*.sql")}
    assert files and files == set(MART_TABLES), (sorted(files - set(MART_TABLES)), sorted(set(MART_TABLES) - files))
