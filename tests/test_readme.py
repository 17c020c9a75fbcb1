"""The README is a guide a newcomer reads in ten minutes: at most 300 lines, the two commands
first, a "Where to add…" table whose files exist, and links that resolve (its own and the
pages under docs/)."""

from __future__ import annotations

import re

import pytest

from phoenix_dagster.settings import PROJECT_ROOT

pytestmark = pytest.mark.unit

README = PROJECT_ROOT / "README.md"
PAGES = [README, *(PROJECT_ROOT / "docs").rglob("*.md")]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
FILE = re.compile(r"`((?:[\w.-]+/)+[\w.-]+\.(?:py|sql|md|yaml))`")


def test_the_readme_is_short_and_starts_with_the_two_commands():
    text = README.read_text()
    assert len(text.splitlines()) <= 300, f"README.md has {len(text.splitlines())} lines: move detail to docs/"
    quick = text.split("## Quick start", 1)[1]
    block = quick.split("```bash", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in block.strip().splitlines()] == ["make demo", "make test"]


def test_every_file_the_where_to_add_table_names_exists():
    table = README.read_text().split("## Where to add", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| to add")]
    assert len(rows) >= 4, rows
    named = {path for row in rows for path in FILE.findall(row) if "<" not in path}
    assert named, "the table names no file"
    missing = sorted(
        p for p in named if not (PROJECT_ROOT / p).exists() and not (PROJECT_ROOT / "phoenix_dagster" / p).exists()
    )
    assert not missing, f"named in README's 'Where to add…' but not in the repository: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_every_relative_link_resolves(page):
    broken = [
        target
        for target in LINK.findall(page.read_text())
        if not target.startswith(("http://", "https://", "mailto:")) and not (page.parent / target).exists()
    ]
    assert not broken, f"{page.relative_to(PROJECT_ROOT)} links to what does not exist: {broken}"
