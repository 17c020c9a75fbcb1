"""Run the daily_refresh job in-process, one run per day × ZIP partition, and tick the tuning
sensor after the runs, as the daemon would. Used by the CLI and the tests."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from phoenix_dagster.settings import Settings

QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


@dataclass
class PartitionOutcome:
    zip_code: str
    run_id: str
    success: bool
    seconds: float
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    error: str | None = None
    enrichment_methods: dict[str, int] = field(default_factory=dict)
    model_state: str = ""


def today_in_phoenix() -> str:
    from phoenix_dagster.partitions import TIMEZONE

    return datetime.now(ZoneInfo(TIMEZONE)).date().isoformat()


def local_instance(settings: Settings):
    """The Dagster instance runs are recorded in: $DAGSTER_HOME, default <data dir>/dagster_home,
    so `make ui` shows the runs this command made."""
    from dagster import DagsterInstance

    home = os.environ.setdefault("DAGSTER_HOME", str(settings.data_dir / "dagster_home"))
    os.makedirs(home, exist_ok=True)
    config = os.path.join(home, "dagster.yaml")
    if not os.path.exists(config):
        with open(config, "w") as handle:
            handle.write("# Local instance for phoenix-estate runs and `make ui`; defaults are fine.\n")
    return DagsterInstance.get()


def run_partitions(defs, instance, day: str, zip_codes: list[str], out=None, *,
                   full_refresh: bool = False) -> list[PartitionOutcome]:
    """Materialize daily_refresh for each ZIP of the day, one in-process run per partition."""
    out = out or sys.stdout
    from phoenix_dagster.definitions import DAILY_REFRESH
    from phoenix_dagster.partitions import partition_key

    job = defs.resolve_job_def(DAILY_REFRESH)
    outcomes = []
    for index, zip_code in enumerate(zip_codes, start=1):
        print(f"[{index}/{len(zip_codes)}] {day} × {zip_code}: collecting, staging, resolving, enriching, serving …",
              file=out, flush=True)
        started = time.perf_counter()
        run_config = {**QUIET_LOGS}
        if full_refresh:
            run_config["ops"] = {"raw_assessor_payloads": {"config": {"full_refresh": True}}}
        result = job.execute_in_process(partition_key=partition_key(day, zip_code), instance=instance,
                                        run_config=run_config, raise_on_error=False)
        outcome = PartitionOutcome(zip_code, result.run_id, result.success, time.perf_counter() - started)
        for evaluation in result.get_asset_check_evaluations():
            if evaluation.passed:
                outcome.checks_passed += 1
            else:
                outcome.checks_failed.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
        for event in result.get_asset_materialization_events():
            materialization = event.event_specific_data.materialization
            if materialization.asset_key.to_user_string() == "listing_text_facts":
                metadata = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
                outcome.model_state = str(metadata.get("model_state", ""))
                outcome.enrichment_methods = {k[len("method_"):]: int(v) for k, v in metadata.items()
                                              if k.startswith("method_")}
        if not result.success:
            failures = [_failure_text(event) for event in result.all_events if event.is_step_failure]
            outcome.error = failures[0] if failures else "run failed"
        status = "ok" if outcome.success and not outcome.checks_failed else "FAILED"
        print(f"      {status} in {outcome.seconds:.1f}s: {result.run_id[:8]} — "
              f"{outcome.checks_passed} checks passed, {len(outcome.checks_failed)} failed", file=out, flush=True)
        for name in outcome.checks_failed:
            print(f"      failed check: {name}", file=out)
        if outcome.error:
            print(f"      error: {outcome.error}", file=out)
        outcomes.append(outcome)
    return outcomes


CLI_TUNING_CURSOR = "phoenix/cli/retune_from_run_metrics"


def retune(defs, instance) -> str:
    """Tick the tuning sensor once, as the daemon would after these runs; its cursor is kept
    in the instance, so the next command continues where this one stopped."""
    import dagster as dg

    from phoenix_dagster.sensors import retune_from_run_metrics

    cursor = instance.run_storage.get_cursor_values({CLI_TUNING_CURSOR}).get(CLI_TUNING_CURSOR)
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"warehouse": defs.resources["warehouse"]},
                                 definitions=defs) as context:
        result = retune_from_run_metrics(context)
        if context.cursor:
            instance.run_storage.set_cursor_values({CLI_TUNING_CURSOR: context.cursor})
    return getattr(result, "skip_message", None) or str(result)


def _failure_text(event) -> str:
    """What went wrong in a failed step, in the words the step used."""
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return f"{event.step_key}: {data.user_failure_data.description}"
    if data.error is not None:
        return f"{event.step_key}: {data.error.message.strip().splitlines()[-1]}"
    return event.message
