"""Every statement lives in sql/: the queries the code reads back (sql/queries/<reader>__<what>.sql)
parse, each is read by name somewhere in the code, and no module writes a warehouse statement of
its own — but the few whose SQL is generated or is not the warehouse's (NOT_IN_SQL, each with its
reason)."""

from __future__ import annotations

import ast
import re

import duckdb
import pytest

from phoenix_dagster.settings import PROJECT_ROOT
from phoenix_dagster.warehouse.queries import QUERY_DIR, query

pytestmark = pytest.mark.unit

SQL_TEXT = re.compile(
    r"^\s*(select\s.+\sfrom\s|with\s+\w+\s+as\s*\(|insert\s+into\s|create\s+(or\s+replace\s+)?(table|view|schema)\s"
    r"|update\s+[\w.]+\s+set\s|delete\s+from\s)",
    re.I | re.S,
)
CODE = [*(PROJECT_ROOT / "assets").glob("*.py"), *(PROJECT_ROOT / "phoenix_dagster").rglob("*.py")]
NOT_IN_SQL = {
    "phoenix_dagster/warehouse/sql_project.py": "builds the models: catalog reads, views over the lake, drops",
    "phoenix_dagster/sources/rate_limit_stores.py": "the rate limit's own PostgreSQL store, not the warehouse",
    "phoenix_dagster/resources/warehouse.py": "whether a table exists (the catalog), for any table",
}


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


def constant_statements(path) -> list[str]:
    """The string literals of a module that are SQL statements. An f-string is SQL generated for a
    table (a check over each table, a preview), not a statement to keep in a file."""
    tree = ast.parse(path.read_text())
    generated = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    return [
        node.value.strip()[:80]
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in generated
        and SQL_TEXT.match(node.value)
    ]


@pytest.mark.parametrize(
    "path",
    [p for p in sorted(CODE) if str(p.relative_to(PROJECT_ROOT)) not in NOT_IN_SQL],
    ids=lambda p: str(p.relative_to(PROJECT_ROOT)),
)
def test_no_module_writes_a_constant_statement_of_its_own(path):
    found = constant_statements(path)
    assert found == [], f"SQL in {path.relative_to(PROJECT_ROOT)}: move it to sql/queries/: {found}"


def test_every_module_allowed_its_own_sql_still_has_some():
    for where, reason in NOT_IN_SQL.items():
        assert constant_statements(PROJECT_ROOT / where), f"{where} has no SQL left ({reason}): drop it from NOT_IN_SQL"
