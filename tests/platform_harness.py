"""A platform in a temporary data directory, with its own Dagster instance and its own MongoDB
database (the in-process stand-in unless MONGODB_URI is set). Tests import it from here;
conftest.py only turns it into fixtures."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from servers.forward_proxy import dead_proxy_url

from phoenix_dagster.cli.local_runs import DefinitionsJobs, RunOutcome, build_warehouse, run_partitions
from phoenix_dagster.definitions import build_definitions
from phoenix_dagster.settings import Settings
from phoenix_dagster.sources.sample import SampleAssessorResource, SampleListingResource

DAY = "2026-11-28"
ZIPS = ["85031", "85033", "85035"]


def first_date() -> str:
    """The tests' go-live day (PHOENIX_FIRST_DATE): early enough for every day they run (DAY and
    the 30 days before it; the retention test sets its own, 120 days back), late enough to keep the
    partitions few — Dagster builds every partition key of a partitioned upstream for each
    warehouse step's data-version lookup (1.7 s of a test's 8 s build at today less 150 days,
    measured on 2026-12-03)."""
    return "2026-10-25"


@dataclass
class Platform:
    settings: Settings
    defs: dg.Definitions
    instance: dg.DagsterInstance
    builds: list[RunOutcome] = field(default_factory=list)

    def run(
        self, day: str = DAY, zip_codes: list[str] | None = None, full_refresh: bool = False, build: bool = True
    ) -> list[RunOutcome]:
        """The day's partitions, then (by default) one warehouse build, as `phoenix-estate run` does."""
        outcomes = run_partitions(
            self.jobs, day, zip_codes or ZIPS, self.settings.zip_counties, out=io.StringIO(), full_refresh=full_refresh
        )
        if build:
            self.build()
        return outcomes

    def build(self) -> RunOutcome:
        outcome = build_warehouse(self.jobs, out=io.StringIO())
        self.builds.append(outcome)
        return outcome

    def run_failure_alert(self, run) -> dg.RunRequest:
        """What the alert_on_run_failure sensor requests for a failed run, as the daemon would ask it."""
        failure = next(
            event
            for event in self.instance.all_logs(run.run_id)
            if event.dagster_event is not None and event.dagster_event.event_type_value == "PIPELINE_FAILURE"
        )
        sensor = self.defs.resolve_sensor_def("alert_on_run_failure")
        context = dg.build_run_status_sensor_context(
            sensor_name=sensor.name,
            dagster_instance=self.instance,
            dagster_run=run,
            dagster_event=failure.dagster_event,
            resources={"alert_channels": self.defs.resources["alert_channels"]},
        ).for_run_failure()
        return sensor(context)

    @property
    def jobs(self) -> DefinitionsJobs:
        return DefinitionsJobs(self.defs, self.instance)

    @property
    def warehouse(self):
        return self.defs.resources["warehouse"]

    @property
    def mongo(self):
        return self.defs.resources["mongo"]


def platform_settings(data_dir: Path, **env: str) -> Settings:
    # No model unless a test brings one: a closed port, so a developer's own Ollama is never used.
    return Settings.from_env(
        {
            "PHOENIX_DATA_DIR": str(data_dir),
            "MONGODB_DATABASE": f"test_{uuid.uuid4().hex[:12]}",
            "OLLAMA_HOST": dead_proxy_url(),
            "PHOENIX_FIRST_DATE": first_date(),
            "MONGODB_STAND_IN": "1",
            **env,
        }
    )


def make_platform(data_dir: Path, env: dict[str, str] | None = None, **resource_overrides) -> Platform:
    settings = platform_settings(data_dir, **(env or {}))
    return Platform(settings, build_definitions(settings, **resource_overrides), dg.DagsterInstance.ephemeral())


def sample_from(sample_dir: Path) -> dict:
    """Resource overrides replaying the sample's files from `sample_dir` (a changed copy)."""
    return {
        "assessor_source__sample": SampleAssessorResource(sample_dir=str(sample_dir)),
        "listings_source__sample": SampleListingResource(sample_dir=str(sample_dir)),
    }
