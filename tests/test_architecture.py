"""The plan of the house: the package's wings import downwards only and loop nowhere (the
import-linter contracts in pyproject.toml), the package root holds only the roof and the
ground — the code location's assembly, settings, the Celery app — and the tree is in ruff's
format and passes its lint (the rules in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from phoenix_dagster.settings import PROJECT_ROOT

pytestmark = pytest.mark.unit

PACKAGE = PROJECT_ROOT / "phoenix_dagster"
ROOT_MODULES = {"__init__.py", "code_location.py", "definitions.py", "settings.py", "redact.py", "celery_worker.py"}


def tool(name: str) -> str:
    return str(Path(sys.executable).parent / name)


@pytest.mark.parametrize(
    "command", [["ruff", "format", "--check", "."], ["ruff", "check", "."]], ids=["format", "lint"]
)
def test_ruff_finds_nothing(command):
    result = subprocess.run(
        [tool(command[0]), *command[1:]], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_the_import_contracts_hold():
    result = subprocess.run(
        [tool("lint-imports"), "--no-cache"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken." in result.stdout, result.stdout[-2000:]


def test_the_package_root_holds_the_roof_and_the_ground_only():
    modules = {path.name for path in PACKAGE.glob("*.py")}
    assert modules == ROOT_MODULES, (
        f"modules at the package root that belong in a wing: {sorted(modules - ROOT_MODULES)}"
    )
    assert len(modules) <= 6


def test_every_wing_says_what_lives_in_it():
    for init in PACKAGE.glob("*/__init__.py"):
        doc = init.read_text().lstrip()
        assert doc.startswith('"""') and len(doc.split('"""')[1].split()) >= 6, f"{init} has no docstring"
