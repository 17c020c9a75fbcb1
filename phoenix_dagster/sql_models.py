"""SQL models: one file per table under sql/<layer>/, dbt-style.

``sql/marts/properties.sql`` builds ``marts.properties``. A model's upstream tables are read
from the SQL itself (sqlglot), never declared twice: ``lake.<asset>`` is a lake asset
(exposed as a view over its Parquet files), ``<layer>.<model>`` is another SQL model.
A leading ``--`` comment block is the model's description; a ``-- grain: a, b`` line in it
names the columns that identify a row, and becomes a blocking uniqueness check.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import sqlglot
from sqlglot import expressions as exp

LAYERS = ("staging", "intermediate", "marts")
LAKE_SCHEMA = "lake"


class SqlModelError(ValueError):
    """A model that cannot be read, names an unknown table, or does not parse."""


@dataclass(frozen=True)
class SqlModel:
    layer: str
    name: str
    path: Path
    sql: str
    description: str
    upstream: tuple[tuple[str, str], ...]  # (schema, table), sorted
    grain: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey([self.layer, self.name])

    @property
    def lake_inputs(self) -> list[str]:
        return [name for schema, name in self.upstream if schema == LAKE_SCHEMA]


def _header(sql: str) -> tuple[str, tuple[str, ...]]:
    """(description, grain) from the leading comment block."""
    lines, grain = [], ()
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        text = line[2:].strip()
        if text.lower().startswith("grain:"):
            grain = tuple(column.strip() for column in text.split(":", 1)[1].split(",") if column.strip())
        else:
            lines.append(text)
    return " ".join(lines).strip(), grain


def upstream_tables(sql: str, path: Path) -> tuple[tuple[str, str], ...]:
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise SqlModelError(f"{path}: does not parse as DuckDB SQL: {exc}") from exc
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    tables = set()
    for table in tree.find_all(exp.Table):
        if table.name in ctes and not table.db:
            continue
        if not table.db:
            raise SqlModelError(f"{path}: table {table.name!r} must be schema-qualified (lake., staging., …)")
        tables.add((table.db, table.name))
    return tuple(sorted(tables))


def discover_models(sql_dir: Path) -> list[SqlModel]:
    models = []
    for layer in LAYERS:
        for path in sorted((sql_dir / layer).glob("*.sql")):
            sql = path.read_text()
            description, grain = _header(sql)
            models.append(SqlModel(layer, path.stem, path, sql, description, upstream_tables(sql, path), grain))
    names = {(m.layer, m.name) for m in models}
    for model in models:
        for schema, name in model.upstream:
            if schema != LAKE_SCHEMA and (schema, name) not in names:
                raise SqlModelError(f"{model.path}: reads {schema}.{name}, which no file in sql/ defines")
    return models


def dependency_key(schema: str, name: str) -> dg.AssetKey:
    return dg.AssetKey(name) if schema == LAKE_SCHEMA else dg.AssetKey([schema, name])


def lake_view_sql(asset_name: str, lake_dir: Path) -> str:
    pattern = (lake_dir / asset_name / "*" / "*" / "data.parquet").as_posix().replace("'", "''")
    return (f"create or replace view {LAKE_SCHEMA}.{asset_name} as "
            f"select * from read_parquet('{pattern}', union_by_name = true, hive_partitioning = false)")


def build_model(conn: duckdb.DuckDBPyConnection, model: SqlModel, lake_dir: Path) -> int:
    """(Re)build the model's table from its SQL; returns its row count."""
    for asset_name in model.lake_inputs:
        conn.execute(lake_view_sql(asset_name, lake_dir))
    conn.execute(f"create or replace table {model.table} as\n{model.sql}")
    return conn.execute(f"select count(*) from {model.table}").fetchone()[0]
