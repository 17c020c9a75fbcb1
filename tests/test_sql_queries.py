"""Every statement lives in sql/: the queries assets read (sql/queries/<reader>__<what>.sql) parse,
each is read by name somewhere in the code, and the asset definitions hold no SQL of their own."""

from __future__ import annotations

import ast
import re

import duckdb
import pytest

from phoenix_dagster.settings import PROJECT_ROOT
from phoenix_dagster.warehouse.queries import QUERY_DIR, query

pytestmark = pytest.mark.unit

SQL_TEXT = re.compile(r"^\s*(select|with|insert|update|delete|create)\s", re.I)
CODE = [*(PROJECT_ROOT / "assets").glob("*.py"), *(PROJECT_ROOT / "phoenix_dagster").rglob("*.py")]


def test_every_query_parses_and_is_read_by_name():
    names = sorted(path.stem for path in QUERY_DIR.glob("*.sql"))
    assert names, f"no query in {QUERY_DIR}"
    code = "\n".join(path.read_text() for path in CODE)
    for name in names:
        statements = duckdb.extract_statements(query(name))
        assert len(statements) == 1, f"{name}.sql holds {len(statements)} statements"
        assert f'query("{name}")' in code or f'sql("{name}")' in code, f"sql/queries/{name}.sql is read by nothing"


def test_an_unknown_query_is_an_error_naming_its_file():
    with pytest.raises(KeyError, match="no_such_query"):
        query("no_such_query")


@pytest.mark.parametrize("path", sorted((PROJECT_ROOT / "assets").glob("*.py")), ids=lambda p: p.name)
def test_the_asset_definitions_hold_no_sql(path):
    strings = [
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    assert [s for s in strings if SQL_TEXT.match(s)] == [], f"SQL in {path.name}: move it to sql/queries/"
