"""Runs made from the command line: the day's partitions of `daily_refresh` (one run per ZIP), a
tick of the tuning sensor as the daemon would make it (and the run it requests), then one
`build_warehouse` run.

Where the jobs come from is a `JobLauncher`: the CLI's is `WorkspaceJobs` (the code location as
workspace.yaml loads it, so its runs are the same runs the UI and the schedules make); tests that
bring their own resources (servers on loopback, a temporary data directory) use `DefinitionsJobs`
over the definitions they built."""

from __future__ import annotations

import fcntl
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import dagster as dg

from phoenix_dagster.automation.schedules import FULL_REFRESH_CONFIG
from phoenix_dagster.graph.job_names import (
    BUILD_WAREHOUSE,
    BUILT_BY_COMMAND_TAG,
    COMPACT_RAW_BODIES,
    DAILY_REFRESH,
    REPORT_DAYS_TAG,
    WAREHOUSE_WRITER_TAG,
)
from phoenix_dagster.graph.partitions import partition_key, zip_tags
from phoenix_dagster.graph.pools import (
    LAUNCHED_BY_TAG,
    apply_pool_limits,
    free_slots_of_dead_runs,
    pool_limits,
    worker_tags,
)
from phoenix_dagster.settings import Settings

QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
INSTANCE_CONFIG = """\
# Local instance for phoenix-estate runs and `make ui` (written by phoenix-estate from its
# settings; delete it to get the current version). The run queue starts at most
# PHOENIX_MAX_CONCURRENT_RUNS runs at once, each in its own process, and one build_warehouse
# run at a time (the warehouse has one writer). Steps that call outside services share
# concurrency pools, whose limits the project sets in the instance's database at start-up
# (phoenix_dagster/graph/pools.py); run monitoring frees the pool slots of runs that ended without
# giving them back. The queue launches the runs it lets go in threads, at once: each launch waits
# ~1.6 s for the code server to start the run's process, which one after another delays the
# last run of a day by that much per run before it.
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_use_threads: true
    dequeue_num_workers: {max_concurrent_runs}
concurrency:
  runs:
    max_concurrent_runs: {max_concurrent_runs}
    tag_concurrency_limits:
      - key: "{writer_tag}"
        limit: 1
  pools:
    granularity: op
run_monitoring:
  enabled: true
  free_slots_after_run_end_seconds: 30
telemetry:
  enabled: false
nux:
  enabled: false  # no "Join the Dagster community" dialog over the UI
"""
# With PHOENIX_DAGSTER_POSTGRES_URL set, the instance keeps its runs, events and schedules in
# PostgreSQL (dagster-postgres) instead of SQLite files under DAGSTER_HOME: what a deployment with
# several processes or machines uses. The URL stays in the environment, never in the file.
POSTGRES_STORAGE = """\
storage:
  postgres:
    postgres_url:
      env: PHOENIX_DAGSTER_POSTGRES_URL
"""


def instance_config(settings: Settings) -> str:
    return INSTANCE_CONFIG.format(max_concurrent_runs=settings.max_concurrent_runs, writer_tag=WAREHOUSE_WRITER_TAG) + (
        POSTGRES_STORAGE if settings.has_secret("PHOENIX_DAGSTER_POSTGRES_URL") else ""
    )


@dataclass
class RunOutcome:
    label: str
    run_id: str
    success: bool
    seconds: float
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)  # severity ERROR: the run is not ok
    checks_warned: list[str] = field(default_factory=list)  # severity WARN: said, not failing
    error: str | None = None
    enrichment_methods: dict[str, int] = field(default_factory=dict)
    model_state: str = ""

    @property
    def ok(self) -> bool:
        return self.success and not self.checks_failed


MANAGED_MARK = "# Local instance for phoenix-estate runs"


def local_instance(settings: Settings) -> dg.DagsterInstance:
    """The Dagster instance runs are recorded in: $DAGSTER_HOME, default <data dir>/dagster_home,
    so `make ui` shows the runs this command made. Created under a lock: two commands starting
    at the same moment must not both create its storage. Its `dagster.yaml` is this project's
    unless someone wrote their own (without the project's first line); the pool limits are set
    and the slots of dead runs freed each time it is opened."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".create.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        config = home / "dagster.yaml"
        wanted = instance_config(settings)
        if not config.exists() or (config.read_text().startswith(MANAGED_MARK) and config.read_text() != wanted):
            config.write_text(wanted)
        instance = dg.DagsterInstance.from_config(str(home))
        instance.get_runs_count()  # creates the run storage while the lock is held
        apply_pool_limits(instance, pool_limits(settings))
        free_slots_of_dead_runs(instance)
    return instance


@dataclass
class FinishedRun:
    """A run that ended, as its event log tells it (executed here or by a launched worker)."""

    run_id: str
    success: bool
    seconds: float
    events: list  # DagsterEvent

    def materializations(self) -> list[dg.AssetMaterialization]:
        return [e.event_specific_data.materialization for e in self.events if e.is_step_materialization]

    def check_evaluations(self) -> list:
        return [
            e.event_specific_data
            for e in self.events
            if e.event_type_value == dg.DagsterEventType.ASSET_CHECK_EVALUATION.value
        ]

    def failure(self) -> str | None:
        if self.success:
            return None
        failures = [_failure_text(event) for event in self.events if event.is_step_failure]
        run_failures = [event.message for event in self.events if event.is_run_failure and event.message]
        return (failures or run_failures or ["run failed"])[0]


def _outcome(label: str, run: FinishedRun) -> RunOutcome:
    outcome = RunOutcome(label, run.run_id, run.success, run.seconds, error=run.failure())
    for evaluation in run.check_evaluations():
        if evaluation.passed:
            outcome.checks_passed += 1
        else:
            name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            warned = evaluation.severity == dg.AssetCheckSeverity.WARN
            (outcome.checks_warned if warned else outcome.checks_failed).append(name)
    for materialization in run.materializations():
        if materialization.asset_key.to_user_string() == "listing_text_facts":
            metadata = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
            outcome.model_state = str(metadata.get("model_state", ""))
            outcome.enrichment_methods = {
                k[len("method_") :]: int(v) for k, v in metadata.items() if k.startswith("method_")
            }
    return outcome


def _report(outcome: RunOutcome, out) -> None:
    print(
        f"      {'ok' if outcome.ok else 'FAILED'} in {outcome.seconds:.1f}s: {outcome.run_id[:8]} — "
        f"{outcome.checks_passed} checks passed, {len(outcome.checks_warned)} warned, {len(outcome.checks_failed)} failed",
        file=out,
        flush=True,
    )
    for name in outcome.checks_failed:
        print(f"      failed check: {name}", file=out)
    for name in outcome.checks_warned:
        print(f"      warning: {name}", file=out)
    if outcome.error:
        print(f"      error: {outcome.error}", file=out)


@dataclass
class SensorTick:
    run_requests: list
    skip_message: str | None
    cursor: str | None


@dataclass(frozen=True)
class RunSpec:
    """One run to make: which job, with what config and tags, for which partition."""

    job_name: str
    run_config: dict
    tags: dict
    partition_key: str | None = None


class JobLauncher(Protocol):
    """Makes runs of the project's jobs and evaluates its sensors."""

    instance: dg.DagsterInstance
    defs: dg.Definitions

    def run_all(self, specs: list[RunSpec]) -> Iterator[tuple[RunSpec, FinishedRun]]:
        """Every run of `specs`, yielded as each ends (in any order)."""

    def evaluate_sensor(self, name: str) -> SensorTick: ...

    def save_cursor(self, name: str, cursor: str | None) -> None: ...


class DefinitionsJobs:
    """Jobs of a Definitions object built in this process (tests and benchmarks with their own
    resources). Its runs have no code-location origin, and each sensor's cursor is kept under
    its own key in the instance — fine for a test's instance, which no daemon shares."""

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance):
        self.defs, self.instance = defs, instance

    def run_all(self, specs: list[RunSpec]) -> Iterator[tuple[RunSpec, FinishedRun]]:
        """One after the other, in this process."""
        for spec in specs:
            started = time.perf_counter()
            result = self.defs.resolve_job_def(spec.job_name).execute_in_process(
                partition_key=spec.partition_key,
                instance=self.instance,
                run_config=spec.run_config,
                raise_on_error=False,
                tags={**spec.tags, **worker_tags()},
            )
            # the instance's log, not result.all_events: that leaves out what a failed step logged
            # before it raised (e.g. service_preflight's check evaluations)
            events = [entry.dagster_event for entry in self.instance.all_logs(result.run_id) if entry.is_dagster_event]
            yield spec, FinishedRun(result.run_id, result.success, time.perf_counter() - started, events)

    def _cursor_key(self, name: str) -> str:
        return f"phoenix/in_process_sensor/{name}"

    def evaluate_sensor(self, name: str) -> SensorTick:
        sensor = self.defs.resolve_sensor_def(name)
        cursor = self.instance.run_storage.get_cursor_values({self._cursor_key(name)}).get(self._cursor_key(name))
        with dg.build_sensor_context(
            instance=self.instance,
            cursor=cursor,
            definitions=self.defs,
            sensor_name=name,
            resources=self.defs.resources,
        ) as context:
            data = sensor.evaluate_tick(context)
        return SensorTick(list(data.run_requests or []), data.skip_message, data.cursor)

    def save_cursor(self, name: str, cursor: str | None) -> None:
        if cursor is not None:
            self.instance.run_storage.set_cursor_values({self._cursor_key(name): cursor})


CLI_TAGS = {LAUNCHED_BY_TAG: "phoenix-estate run"}  # who made the run; its worker tags itself


def execute(jobs: JobLauncher, spec: RunSpec) -> FinishedRun:
    [(_, finished)] = list(jobs.run_all([spec]))
    return finished


def run_partitions(
    jobs: JobLauncher,
    day: str,
    zip_codes: list[str],
    zip_counties: dict[str, str],
    out=None,
    *,
    full_refresh: bool = False,
    builds_itself: bool = False,
) -> list[RunOutcome]:
    """Materialize daily_refresh for the day's partition of each county the ZIPs are in: one run
    per county, for all of its configured ZIPs, or with a `phoenix/zips` tag when only some of them
    are asked for; all handed to the launcher at once (the workspace's puts them in Dagster's run
    queue, which runs as many at once as the instance allows). Reported as each ends; returned in
    the counties' order. `builds_itself`: the command builds after them, so the build sensor
    passes them over."""
    out = out or sys.stdout
    run_config = {**QUIET_LOGS, **(FULL_REFRESH_CONFIG if full_refresh else {})}
    tags = {**CLI_TAGS, **({BUILT_BY_COMMAND_TAG: "true"} if builds_itself else {})}
    asked: dict[str, list[str]] = {}
    for zip_code in zip_codes:
        asked.setdefault(zip_counties[zip_code], []).append(zip_code)
    specs = {}
    for county, zips in sorted(asked.items()):
        every = sorted(z for z, c in zip_counties.items() if c == county)
        some = {} if sorted(zips) == every else zip_tags(zips)
        specs[county] = RunSpec(DAILY_REFRESH, run_config, {**tags, **some}, partition_key(day, county))
    print(
        f"{day}: {len(specs)} partition run(s) for county {', '.join(specs)} (ZIP {', '.join(zip_codes)}) — "
        "collecting, staging, resolving, enriching …",
        file=out,
        flush=True,
    )
    county_of_key = {spec.partition_key: county for county, spec in specs.items()}
    by_county = {}
    for index, (spec, finished) in enumerate(jobs.run_all(list(specs.values())), start=1):
        county = county_of_key[spec.partition_key]
        label = f"{county} (ZIP {', '.join(sorted(asked[county]))})"
        by_county[county] = _outcome(label, finished)
        print(f"[{index}/{len(specs)}] {day} × {label}:", file=out, flush=True)
        _report(by_county[county], out)
    return [by_county[county] for county in specs]


def build_warehouse(jobs: JobLauncher, out=None, report_days: list[str] = ()) -> RunOutcome:
    """One build_warehouse run (its writer resource holds the warehouse's lock for the whole run);
    it rewrites the HTML report of each of `report_days` as well as the latest day's."""
    out = out or sys.stdout
    print("[warehouse] building the SQL models and ops rollups, serving MongoDB, publishing …", file=out, flush=True)
    days = {REPORT_DAYS_TAG: ",".join(sorted(set(report_days)))} if report_days else {}
    spec = RunSpec(BUILD_WAREHOUSE, QUIET_LOGS, {WAREHOUSE_WRITER_TAG: "true", **CLI_TAGS, **days})
    outcome = _outcome("warehouse", execute(jobs, spec))
    _report(outcome, out)
    return outcome


def compact_raw(jobs: JobLauncher, lake, retention_days: int, control_dir) -> tuple[bool, str]:
    """Retention after every command that collects (a backfill of an old day lands replies already
    past it): one compact_raw_bodies run — the only run that rewrites raw files — when a raw
    partition is older than the retention, or quarantine files of an older version are still to be
    rewritten. Returns whether it succeeded and what it did."""
    from assets.retention import quarantine_rewithheld
    from phoenix_dagster.transforms.retention import RAW_WITH_PERSONAL_DATA, retention_cutoff

    cutoff = retention_cutoff(lake.today(), retention_days)
    if quarantine_rewithheld(control_dir, lake) and not lake.partitions(RAW_WITH_PERSONAL_DATA, before=cutoff):
        return (
            True,
            f"no raw partition before {cutoff} (PHOENIX_RAW_RETENTION_DAYS {retention_days}): nothing to compact",
        )
    finished = execute(jobs, RunSpec(COMPACT_RAW_BODIES, QUIET_LOGS, CLI_TAGS))
    if not finished.success:
        return False, f"retention run {finished.run_id[:8]} failed"
    metadata = finished.materializations()[0].metadata
    return True, (
        f"{metadata['partitions_rewritten'].value} of {metadata['partitions_checked'].value} raw "
        f"partition(s) before {metadata['compacted_before'].value} compacted"
    )


def tick_sensor(jobs: JobLauncher, name: str) -> tuple[str | None, list]:
    """One tick of a sensor as the daemon makes it: evaluate, execute each requested run (a run
    key that already has a run is not run again), then keep the cursor. Returns the skip message
    and the results of the runs made."""
    tick = jobs.evaluate_sensor(name)
    specs = []
    sensor_job = jobs.defs.resolve_sensor_def(name).job_name
    for request in tick.run_requests:
        tags = {**request.tags, "dagster/sensor_name": name}
        if request.run_key:
            tags["dagster/run_key"] = request.run_key
            if jobs.instance.get_runs_count(
                dg.RunsFilter(tags={"dagster/sensor_name": name, "dagster/run_key": request.run_key})
            ):
                continue
        specs.append(
            RunSpec(request.job_name or sensor_job, {**QUIET_LOGS, **request.run_config}, {**tags, **CLI_TAGS})
        )
    results = [finished for _, finished in jobs.run_all(specs)]
    jobs.save_cursor(name, tick.cursor)
    return tick.skip_message, results


def retune(jobs: JobLauncher) -> str:
    """Tick the tuning sensor once, as the daemon would after these runs (its cursor is the
    daemon's when the launcher is the workspace's), and say what the tuning run decided."""
    skipped, results = tick_sensor(jobs, "retune_from_run_metrics")
    if not results:
        return skipped or "no tuning run requested"
    said = []
    for result in results:
        if not result.success:
            said.append(f"tuning run {result.run_id[:8]} failed")
            continue
        for materialization in result.materializations():
            metadata = materialization.metadata
            now = "; ".join(
                f"{key[len('now ') :]} {value.value}" for key, value in metadata.items() if key.startswith("now ")
            )
            said.append(
                f"{metadata['decisions'].value} decisions, {metadata['settings_changed'].value} changed"
                + (
                    f", {metadata['already_decided'].value} already decided"
                    if metadata["already_decided"].value
                    else ""
                )
                + (f": {now}" if now else "")
            )
    return "; ".join(said)


def _failure_text(event) -> str:
    """What went wrong in a failed step, in the words the step used."""
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return f"{event.step_key}: {data.user_failure_data.description}"
    if data.error is not None:
        error = data.error
        while error.cause is not None:  # the step's own exception, not Dagster's wrapper
            error = error.cause
        return f"{event.step_key}: {error.message.strip().splitlines()[-1]}"
    return event.message
