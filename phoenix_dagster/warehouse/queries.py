"""The queries assets read from a built warehouse, one file each under sql/queries/ (named
`<reader>__<what>.sql`), so every statement lives in sql/ beside the models. A model builds a
table; a query only reads. `query("daily_report__cost")` is that file's text."""

from __future__ import annotations

from functools import cache

from phoenix_dagster.settings import SQL_DIR

QUERY_DIR = SQL_DIR / "queries"


@cache
def query(name: str) -> str:
    path = QUERY_DIR / f"{name}.sql"
    if not path.is_file():
        raise KeyError(f"no query {name!r}: {path} does not exist")
    return path.read_text()
