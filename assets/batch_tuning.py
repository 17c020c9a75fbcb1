"""Tuning decisions: the small run the tuning sensor requests. The sensor only reads run metrics
and asks; this asset decides, with the tuning state as it is when the run executes, and records
each decision in the control state (`batch_tuning`), which the next collection and enrichment
read. Its materializations are the tuning history in the Dagster UI."""

from datetime import UTC, datetime

import dagster as dg
import polars as pl

from phoenix_dagster.resources.control_state import ControlStateResource
from phoenix_dagster.schemas import column_docs
from phoenix_dagster.schemas.ops import BatchTuning
from phoenix_dagster.tuning.controller import decide_for, describe_setting
from phoenix_dagster.tuning.state import choose_setting, recent_ceiling


class StageMeasurement(dg.Config):
    """One tuned stage of one run, as its run_metrics materialization recorded it."""

    stage: str
    run_id: str  # the run that measured it: one decision per (stage, run)
    p95_ms: float | None = None
    error_rate: float = 0.0
    rate_limited: int = 0
    timeouts: int = 0
    cpu_pct: float = 0.0
    peak_rss_mb: float = 0.0
    batch_size: int | None = None
    concurrency: int | None = None


class TuningConfig(dg.Config):
    measurements: list[StageMeasurement]


@dg.asset(
    group_name="operations",
    kinds={"python"},
    deps=["run_metrics"],
    metadata={"dagster/column_schema": column_docs(BatchTuning)},
)  # the control table it writes
def batch_tuning(
    context: dg.AssetExecutionContext, config: TuningConfig, control_state: ControlStateResource
) -> dg.MaterializeResult:
    """Each measured stage's next batch size and concurrency, decided by the controller
    (phoenix_dagster/tuning/controller.py) from the run metrics the tuning sensor passed in.
    One decision per stage and measuring run: a measurement already decided (the run
    re-executed, the metrics read again) is skipped."""
    decided = control_state.decided_runs()
    rows, skipped = [], 0
    for measurement in config.measurements:
        if (measurement.stage, measurement.run_id) in decided:
            skipped += 1
            continue
        history = control_state.read("batch_tuning")  # again each time: the last decision is in it
        setting = choose_setting(history, measurement.stage)  # as control_state.tuning_setting reads it, unpinned
        decision = decide_for(setting, measurement.model_dump(), ceiling=recent_ceiling(history, measurement.stage))
        row = {
            "decided_at": datetime.now(UTC),
            "stage": measurement.stage,
            "run_id": measurement.run_id,
            "batch_size_old": setting.batch_size,
            "batch_size_new": decision.batch_size,
            "concurrency_old": setting.concurrency,
            "concurrency_new": decision.concurrency,
            "reason": decision.reason,
        }
        control_state.record_tuning(
            pl.DataFrame([row], schema_overrides={"batch_size_old": pl.Int64, "batch_size_new": pl.Int64})
        )
        decided.add((measurement.stage, measurement.run_id))
        rows.append(row)
        context.log.info(
            f"{row['stage']}: {describe_setting(row['batch_size_old'], row['concurrency_old'])} → "
            f"{describe_setting(row['batch_size_new'], row['concurrency_new'])} ({row['reason']})"
        )
    table = dg.MetadataValue.table(
        records=[
            dg.TableRecord(
                {
                    "stage": r["stage"],
                    "run": r["run_id"][:8],
                    "old": describe_setting(r["batch_size_old"], r["concurrency_old"]),
                    "new": describe_setting(r["batch_size_new"], r["concurrency_new"]),
                    "reason": r["reason"],
                }
            )
            for r in rows
        ],
        schema=dg.TableSchema(
            columns=[dg.TableColumn(name, "string") for name in ("stage", "run", "old", "new", "reason")]
        ),
    )
    changed = sum(
        (r["batch_size_old"], r["concurrency_old"]) != (r["batch_size_new"], r["concurrency_new"]) for r in rows
    )
    history = control_state.read("batch_tuning")
    now = {stage: choose_setting(history, stage) for stage in sorted({r["stage"] for r in rows})}
    return dg.MaterializeResult(
        metadata={
            "decisions": len(rows),
            "settings_changed": changed,
            "already_decided": skipped,
            "decided": table,
            **{f"now {stage}": describe_setting(s.batch_size, s.concurrency) for stage, s in now.items()},
        }
    )
