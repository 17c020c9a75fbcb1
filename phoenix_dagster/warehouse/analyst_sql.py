"""What `phoenix-estate sql` runs for a person, and within which limits.

A statement is judged by DuckDB's own parser and tokenizer, so what is checked is what runs:
exactly one statement that DuckDB reports as a SELECT (it reports DESCRIBE, SHOW, SUMMARIZE,
FROM-first queries and VALUES as such) and that is not a PRAGMA, or an EXPLAIN of one without
ANALYZE (EXPLAIN ANALYZE executes its statement: `EXPLAIN ANALYZE COPY … TO` writes the file).
Everything else — several statements, PRAGMA, CALL, SET, COPY, ATTACH, EXPORT, INSTALL/LOAD,
every write — is refused before anything runs.

The connection then reaches only the folders behind the lake, bookkeeping and control tables the
warehouse's SQL models read (never `lake/raw_*`, where county bodies carry owners' names), and its
configuration is locked with DuckDB's memory limit, a cap on its temporary files and no external
access; a timer interrupts a statement that runs past its time, and at most `MAX_ROWS` rows of
the result are fetched, so one cross join fills neither memory nor disk.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from phoenix_dagster.warehouse.sql_project import SqlModelError, source_glob, sources_read

MAX_ROWS = 10_000  # rows of a result fetched (and shown in part); the rest is never read
_ANALYZE = {"ANALYZE", "ANALYSE"}


class AnalystQueryRefused(ValueError):
    """A statement `phoenix-estate sql` does not run: only one read query is allowed."""


class AnalystQueryStopped(RuntimeError):
    """A query that ran past its limit (time, memory or temporary disk)."""


@dataclass(frozen=True)
class AnalystLimits:
    timeout_s: float  # PHOENIX_SQL_TIMEOUT_S
    memory_limit_mb: int  # PHOENIX_DUCKDB_MEMORY_MB
    max_temp_mb: int  # PHOENIX_SQL_MAX_TEMP_MB


@dataclass(frozen=True)
class AnalystResult:
    frame: pl.DataFrame
    truncated: bool  # more than MAX_ROWS rows: only the first MAX_ROWS were read


def _words(sql: str) -> list[tuple[int, str]]:
    """The statement's tokens as DuckDB reads them (comments dropped), each with its text."""
    tokens = []
    for position, kind in duckdb.tokenize(sql):
        if kind == duckdb.token_type.comment:
            continue
        word = re.match(r"\w+|\S", sql[position:])
        tokens.append((position, word.group(0).upper() if word else ""))
    return tokens


def _one_statement_kind(sql: str) -> str:
    statements = duckdb.extract_statements(sql)
    if len(statements) != 1:
        raise AnalystQueryRefused(f"one statement is allowed; got {len(statements)}")
    return statements[0].type.name


def _check_select(sql: str) -> None:
    kind = _one_statement_kind(sql)
    words = _words(sql)
    if kind != "SELECT":
        raise AnalystQueryRefused(
            f"only a read query (SELECT, WITH … SELECT, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN) is allowed; got {kind}"
        )
    if words and words[0][1] == "PRAGMA":  # DuckDB turns some PRAGMAs into SELECTs of a table function
        raise AnalystQueryRefused("only a read query is allowed; got PRAGMA")


def _explained(sql: str) -> str:
    """The statement an EXPLAIN explains; refuses EXPLAIN ANALYZE in either form
    (`EXPLAIN ANALYZE …`, `EXPLAIN (ANALYZE, …) …`)."""
    words = _words(sql)[1:]  # after EXPLAIN
    if words and words[0][1] in _ANALYZE:
        raise AnalystQueryRefused("EXPLAIN ANALYZE runs its statement; use EXPLAIN without ANALYZE")
    if words and words[0][1] == "(":
        rest = sql[words[0][0] :]
        try:
            _check_select(rest)  # EXPLAIN (SELECT …): the parenthesis is the query's own
            return rest
        except (AnalystQueryRefused, duckdb.Error):
            pass
        depth = 0
        for index, (_position, word) in enumerate(words):  # EXPLAIN (option, …) statement
            if word in _ANALYZE:
                raise AnalystQueryRefused("EXPLAIN ANALYZE runs its statement; use EXPLAIN without ANALYZE")
            depth += {"(": 1, ")": -1}.get(word, 0)
            if depth == 0:
                if index + 1 == len(words):
                    break
                return sql[words[index + 1][0] :]
        raise AnalystQueryRefused("an EXPLAIN needs a statement to explain")
    if not words:
        raise AnalystQueryRefused("an EXPLAIN needs a statement to explain")
    return sql[words[0][0] :]


def check_read_only(sql: str) -> None:
    """Raise AnalystQueryRefused unless `sql` is one read query or an EXPLAIN (no ANALYZE) of one;
    a statement DuckDB cannot parse raises its duckdb.ParserException."""
    kind = _one_statement_kind(sql)
    if kind == "EXPLAIN":
        _check_select(_explained(sql))
    else:
        _check_select(sql)


def readable_folders(lake_root: str | Path, control_dir: Path, sql_dir: Path) -> list[str]:
    """The folders behind the lake, bookkeeping and control tables the warehouse's models read —
    the only files an analyst's query may open. A raw layer is never among them."""
    folders = []
    for schema, name in sources_read(sql_dir):
        if name.startswith("raw_"):  # the SQL project's mistake, not the analyst's
            raise SqlModelError(f"a warehouse model reads {schema}.{name}: raw replies are never readable by analysts")
        glob = source_glob(schema, name, lake_root, control_dir)
        folders.append(glob[: glob.index("*")])
    return folders


def run_read_only(
    conn: duckdb.DuckDBPyConnection, sql: str, folders: list[str], limits: AnalystLimits
) -> AnalystResult:
    """Check `sql`, lock the connection down and run it: at most MAX_ROWS rows are read, and the
    statement is interrupted after `limits.timeout_s`. Raises AnalystQueryRefused,
    AnalystQueryStopped or duckdb.Error (one line each)."""
    check_read_only(sql)
    allowed = ", ".join("'" + folder.replace("'", "''") + "'" for folder in folders)
    for setting in (
        f"set allowed_directories = [{allowed}]",  # before external access is off (views read the lake)
        "set enable_external_access = false",
        "set autoinstall_known_extensions = false",
        "set autoload_known_extensions = false",
        f"set memory_limit = '{int(limits.memory_limit_mb)}MB'",
        f"set max_temp_directory_size = '{int(limits.max_temp_mb)}MB'",
        "set enable_progress_bar = false",
        "set lock_configuration = true",
    ):
        conn.execute(setting)
    timer = threading.Timer(limits.timeout_s, conn.interrupt)
    timer.start()
    try:
        reader = conn.execute(sql).to_arrow_reader(2_048)
        batches, rows = [], 0
        for batch in reader:
            batches.append(batch)
            rows += batch.num_rows
            if rows > MAX_ROWS:
                break
        frame = (
            pl.from_arrow(reader.schema.empty_table())
            if not batches
            else pl.concat([pl.from_arrow(batch) for batch in batches], how="vertical")
        )
    except duckdb.InterruptException:
        raise AnalystQueryStopped(f"stopped after {limits.timeout_s:g} s (PHOENIX_SQL_TIMEOUT_S)") from None
    except duckdb.OutOfMemoryException as exc:
        first = str(exc).strip().splitlines()[0]
        raise AnalystQueryStopped(
            f"stopped at its limits (PHOENIX_DUCKDB_MEMORY_MB {limits.memory_limit_mb}, "
            f"PHOENIX_SQL_MAX_TEMP_MB {limits.max_temp_mb}): {first}"
        ) from None
    finally:
        timer.cancel()
    return AnalystResult(frame.head(MAX_ROWS), truncated=rows > MAX_ROWS)
