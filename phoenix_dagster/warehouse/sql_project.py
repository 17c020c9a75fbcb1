"""The SQL project: one file per warehouse table under sql/<layer>/, dbt-style.

`sql/marts/properties.sql` builds `marts.properties`. A model's upstream tables are read
from the SQL itself (sqlglot), never declared twice. Three schemas name what lives outside the
warehouse and is exposed to it as views over Parquet:

- `lake.<asset>`: a partitioned lake asset's output;
- `bookkeeping.<table>`: what assets recorded about their work (run_log, quarantine, …);
- `control.<table>`: what sensors decided (batch_tuning, alerts).

`<layer>.<model>` is another SQL model or a seed (`ops.unit_prices`). A leading `--`
comment block is the model's description; a `-- grain: a, b` line in it names the columns
that identify a row and becomes a blocking uniqueness check (`-- grain: none` says the table
is a log without a key). Staging models are views (they
only rename and cast); the other layers are tables, rebuilt from scratch by every build, so a
model that gains a column simply has it after the next build.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import sqlglot
from sqlglot import expressions as exp

from phoenix_dagster.schemas import empty_frame
from phoenix_dagster.schemas.tables import BOOKKEEPING_TABLES, CONTROL_TABLES, LAKE_TABLES
from phoenix_dagster.storage.lake_storage import is_object_storage

LAYERS = ("staging", "intermediate", "marts", "ops")
VIEW_LAYERS = ("staging",)
SOURCE_SCHEMAS = {"lake": LAKE_TABLES, "bookkeeping": BOOKKEEPING_TABLES, "control": CONTROL_TABLES}


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
    grain: tuple[str, ...] | None = None  # None: no grain line; (): "grain: none", a log without a key

    @property
    def table(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey([self.layer, self.name])

    @property
    def sources(self) -> list[tuple[str, str]]:
        """The lake, bookkeeping and control tables the model reads."""
        return [(schema, name) for schema, name in self.upstream if schema in SOURCE_SCHEMAS]

    @property
    def materialization(self) -> str:
        return "view" if self.layer in VIEW_LAYERS else "table"


def _header(sql: str) -> tuple[str, tuple[str, ...] | None]:
    """(description, grain) from the leading comment block."""
    lines, grain = [], None
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        text = line[2:].strip()
        if text.lower().startswith("grain:"):
            columns = text.split(":", 1)[1].strip()
            grain = (
                ()
                if columns.lower().startswith("none")
                else tuple(column.strip() for column in columns.split(",") if column.strip())
            )
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


def discover_models(
    sql_dir: Path, seeds: frozenset[str] = frozenset(), sources: dict[str, dict] = SOURCE_SCHEMAS
) -> list[SqlModel]:
    """Every model under `sql_dir`; `seeds` are warehouse tables made outside sql/ (`ops.unit_prices`)."""
    models = []
    for layer in LAYERS:
        for path in sorted((sql_dir / layer).glob("*.sql")):
            sql = path.read_text()
            description, grain = _header(sql)
            models.append(SqlModel(layer, path.stem, path, sql, description, upstream_tables(sql, path), grain))
    names = {m.table for m in models} | set(seeds)
    for model in models:
        for schema, name in model.upstream:
            if schema in sources:
                if name not in sources[schema]:
                    raise SqlModelError(f"{model.path}: reads {schema}.{name}, which is not a known {schema} table")
            elif f"{schema}.{name}" not in names:
                raise SqlModelError(f"{model.path}: reads {schema}.{name}, which no file in sql/ defines")
    return models


def sources_read(sql_dir: Path) -> list[tuple[str, str]]:
    """The lake, bookkeeping and control tables (schema, name) the models under `sql_dir` read."""
    return sorted(
        {
            (schema, name)
            for layer in LAYERS
            for path in (sql_dir / layer).glob("*.sql")
            for schema, name in upstream_tables(path.read_text(), path)
            if schema in SOURCE_SCHEMAS
        }
    )


SCHEMA_TABLES = "_source_schemas"  # empty tables of the sources' schemas (expose_source)


def source_glob(schema: str, name: str, lake_root: str | Path, control_dir: Path) -> str:
    """The files behind `<schema>.<name>`. The lake's root is a local directory or `s3://bucket/prefix`
    (the connection must then have the lake's filesystem registered: LakeStorage.expose_to)."""
    lake = str(lake_root).rstrip("/") if is_object_storage(str(lake_root)) else Path(lake_root).as_posix()
    if schema == "lake":
        return f"{lake}/{name}/*/*/data.parquet"
    if schema == "bookkeeping":
        return f"{lake}/_bookkeeping/{name}/*/*/*.parquet"
    return (control_dir / name / "*.parquet").as_posix()


def expose_source(
    conn: duckdb.DuckDBPyConnection, schema: str, name: str, lake_root: str | Path, control_dir: Path
) -> None:
    """`<schema>.<name>` as a view over its Parquet files; with no file yet, an empty table of its
    schema. A column the schema gained after some files were written reads as null in those files
    (and in all of them when none has it yet): the view is unioned by name with an empty table of
    the schema (`_source_schemas.<schema>__<name>`)."""
    conn.execute(f"create schema if not exists {schema}")
    conn.execute(f"create schema if not exists {SCHEMA_TABLES}")
    pattern = source_glob(schema, name, lake_root, control_dir)
    drop_relation(conn, f"{schema}.{name}")
    empty = empty_frame(SOURCE_SCHEMAS[schema][name])  # noqa: F841 (read by DuckDB below)
    columns = f"{SCHEMA_TABLES}.{schema}__{name}"
    conn.execute(f"create or replace table {columns} as select * from empty")
    if conn.execute("select 1 from glob(?) limit 1", [pattern]).fetchone():  # DuckDB lists local and S3 alike
        quoted = pattern.replace("'", "''")
        conn.execute(
            f"create view {schema}.{name} as select * from read_parquet('{quoted}', "
            f"union_by_name = true, hive_partitioning = false) union all by name select * from {columns}"
        )
    else:
        conn.execute(f"create table {schema}.{name} as select * from {columns}")


def drop_relation(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    """Drop a table or view, whichever it is (a model may change its materialization)."""
    schema, name = table.split(".")
    found = conn.execute(
        "select table_type from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchone()
    if found:
        conn.execute(f"drop {'view' if found[0] == 'VIEW' else 'table'} {table}")


def build_model(conn: duckdb.DuckDBPyConnection, model: SqlModel, lake_root: str | Path, control_dir: Path) -> int:
    """(Re)build the model from its SQL; returns its row count."""
    for schema, name in model.sources:
        expose_source(conn, schema, name, lake_root, control_dir)
    conn.execute(f"create schema if not exists {model.layer}")
    drop_relation(conn, model.table)
    conn.execute(f"create {model.materialization} {model.table} as\n{model.sql}")
    return conn.execute(f"select count(*) from {model.table}").fetchone()[0]


def prune_stale(conn: duckdb.DuckDBPyConnection, tables: set[str]) -> list[str]:
    """Drop what an older version of the project built and no model or seed builds any more, so a
    warehouse never keeps a table with old columns beside the new ones. Returns what was dropped."""
    found = conn.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema in (select unnest(?))",
        [list(LAYERS)],
    ).fetchall()
    stale = sorted(name for (name,) in found if name not in tables)
    for table in stale:
        drop_relation(conn, table)
    return stale


def write_seed(conn: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    conn.execute(f"create schema if not exists {table.split('.')[0]}")
    drop_relation(conn, table)
    conn.execute(f"create table {table} as select * from frame")
    return frame.height
