"""Fixtures over tests/platform_harness.py, and the speed markers: every test is ``unit`` (no
sockets, no Dagster runs) or ``integration`` (servers on 127.0.0.1, Dagster runs, subprocesses).
A test module says which with ``pytestmark``; a test without one fails collection."""

from __future__ import annotations

from pathlib import Path

import pytest
from platform_harness import Platform, make_platform
from shared_demo import shared_root

SPEEDS = {"unit", "integration"}


def pytest_collection_modifyitems(items):
    unmarked = [item.nodeid for item in items if not SPEEDS & {mark.name for mark in item.iter_markers()}]
    if unmarked:
        raise pytest.UsageError("tests without a speed marker (unit or integration): " + ", ".join(unmarked[:5]))


@pytest.fixture
def platform(tmp_path: Path) -> Platform:
    return make_platform(tmp_path / "data")


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> Platform:
    """One full run of all three ZIPs and one build, shared by the read-only pipeline tests of a module."""
    built = make_platform(tmp_path_factory.mktemp("sample_run") / "data")
    outcomes = built.run()
    assert all(o.success for o in outcomes), [o.error for o in outcomes]
    assert built.builds[-1].ok, (built.builds[-1].error, built.builds[-1].checks_failed)
    return built


@pytest.fixture(scope="session")
def shared_demo(tmp_path_factory, worker_id) -> Path:
    """The session's one demo run (tests/shared_demo.py), made by the first worker that asks;
    consumers take a copy of their own (`shared_demo.copy_of`)."""
    base = tmp_path_factory.getbasetemp()
    return shared_root(base if worker_id == "master" else base.parent)
