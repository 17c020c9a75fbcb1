from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from phoenix_dagster.settings import SQL_DIR
from phoenix_dagster.sql_models import SqlModelError, build_model, dependency_key, discover_models


def write(root: Path, layer: str, name: str, sql: str) -> None:
    (root / layer).mkdir(parents=True, exist_ok=True)
    (root / layer / f"{name}.sql").write_text(sql)


def test_lineage_comes_from_the_sql_itself():
    models = {m.table: m for m in discover_models(SQL_DIR)}
    assert set(models) >= {"marts.properties", "marts.zip_market_stats"}
    assert models["marts.properties"].upstream == (("intermediate", "int_properties_latest"),)
    assert models["staging.stg_lake__enriched_properties"].lake_inputs == ["enriched_properties"]
    assert dependency_key("lake", "enriched_properties") == dg.AssetKey("enriched_properties")
    assert dependency_key("marts", "properties") == dg.AssetKey(["marts", "properties"])
    assert models["marts.properties"].description.startswith("One row per property")


def test_ctes_are_not_dependencies_and_unknown_tables_are_errors(tmp_path):
    write(tmp_path, "marts", "ok", "with recent as (select * from lake.things) select * from recent")
    assert discover_models(tmp_path)[0].upstream == (("lake", "things"),)
    write(tmp_path, "marts", "bad", "select * from staging.nowhere")
    with pytest.raises(SqlModelError, match="staging.nowhere, which no file in sql/ defines"):
        discover_models(tmp_path)


def test_unqualified_tables_are_refused(tmp_path):
    write(tmp_path, "marts", "bare", "select * from properties")
    with pytest.raises(SqlModelError, match="must be schema-qualified"):
        discover_models(tmp_path)


def test_a_model_builds_from_lake_parquet(tmp_path):
    lake = tmp_path / "lake"
    (lake / "things" / "zip=1" / "date=2").mkdir(parents=True)
    pl.DataFrame({"x": [1, 2, 3]}).write_parquet(lake / "things" / "zip=1" / "date=2" / "data.parquet")
    write(tmp_path / "sql", "marts", "total", "select sum(x) as total from lake.things")
    model = discover_models(tmp_path / "sql")[0]
    with duckdb.connect() as conn:
        for schema in ("lake", "marts"):
            conn.execute(f"create schema {schema}")
        assert build_model(conn, model, lake) == 1
        assert conn.execute("select total from marts.total").fetchone() == (6,)


def test_grain_comes_from_the_header_and_every_shipped_model_declares_one(tmp_path):
    write(tmp_path, "marts", "g", "-- Things.\n-- grain: a, b\nselect 1 as a, 2 as b from lake.x")
    model = discover_models(tmp_path)[0]
    assert model.grain == ("a", "b") and model.description == "Things."
    assert all(m.grain for m in discover_models(SQL_DIR))
