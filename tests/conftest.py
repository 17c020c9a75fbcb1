"""Shared fixtures: a platform in a temporary data directory, with its own Dagster instance
and its own MongoDB database (the in-process stand-in unless MONGODB_URI is set)."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from phoenix_dagster.runner import PartitionOutcome, run_partitions
from phoenix_dagster.definitions import build_definitions
from phoenix_dagster.settings import Settings
from servers.forward_proxy import dead_proxy_url

DAY = "2026-11-28"
ZIPS = ["85031", "85033", "85035"]


@dataclass
class Platform:
    settings: Settings
    defs: dg.Definitions
    instance: dg.DagsterInstance

    def run(self, day: str = DAY, zip_codes: list[str] | None = None, full_refresh: bool = False
            ) -> list[PartitionOutcome]:
        return run_partitions(self.defs, self.instance, day, zip_codes or ZIPS, out=io.StringIO(),
                              full_refresh=full_refresh)

    @property
    def warehouse(self):
        return self.defs.resources["warehouse"]

    @property
    def mongo(self):
        return self.defs.resources["mongo"]


def make_platform(data_dir: Path, **resource_overrides) -> Platform:
    # No model unless a test brings one: a closed port, so a developer's own Ollama is never used.
    settings = Settings.from_env({"PHOENIX_DATA_DIR": str(data_dir), "MONGODB_DATABASE": f"test_{uuid.uuid4().hex[:12]}",
                                  "OLLAMA_HOST": dead_proxy_url()})
    defs = build_definitions(settings, **resource_overrides)
    return Platform(settings, defs, dg.DagsterInstance.ephemeral())


@pytest.fixture
def platform(tmp_path: Path) -> Platform:
    return make_platform(tmp_path / "data")


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> Platform:
    """One full run of all three ZIPs, shared by the read-only pipeline tests of a module."""
    built = make_platform(tmp_path_factory.mktemp("sample_run") / "data")
    outcomes = built.run()
    assert all(o.success for o in outcomes), [o.error for o in outcomes]
    return built
