"""The tuning controller, the sensor that feeds it, the schedules and the automation."""

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import polars as pl
import pytest

from assets.batch_tuning import batch_tuning
from phoenix_dagster.automation.sensors import retune_from_run_metrics
from phoenix_dagster.definitions import build_definitions
from phoenix_dagster.resources.control_state import ControlStateResource
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.settings import Settings
from phoenix_dagster.tuning.controller import Ceiling, decide

pytestmark = pytest.mark.integration  # sensors and automation against a Dagster instance

CLEAN = {"p95_ms": 300, "error_rate": 0.0, "rate_limited": 0, "timeouts": 0, "cpu_pct": 30, "peak_rss_mb": 500}


def run_sequence(start, metrics_seq):
    batch, concurrency = start
    trail = []
    for metrics in metrics_seq:
        decision = decide(batch, concurrency, metrics)
        batch, concurrency = decision.batch_size, decision.concurrency
        trail.append((batch, concurrency, decision.reason.split(":")[0]))
    return trail


def test_fast_and_clean_runs_grow_additively_to_the_bounds():
    trail = run_sequence((10, 1), [CLEAN] * 20)
    assert trail[:3] == [(15, 2, "grow"), (20, 3, "grow"), (25, 4, "grow")]
    assert trail[-1] == (100, 5, "hold")  # 5–100 and 1–5 hold


def test_errors_429s_timeouts_and_memory_pressure_halve():
    for trouble in ({"error_rate": 0.2}, {"rate_limited": 3}, {"timeouts": 1}, {"peak_rss_mb": 9000}):
        decision = decide(40, 4, CLEAN | trouble)
        assert (decision.batch_size, decision.concurrency) == (20, 2) and decision.reason.startswith("back off")
    assert (
        decide(6, 1, CLEAN | {"rate_limited": 1}).batch_size,
        decide(6, 1, CLEAN | {"timeouts": 2}).concurrency,
    ) == (5, 1)  # never below the bounds


def test_slow_runs_hold_inside_the_dead_band_back_off_above_it_and_do_not_oscillate():
    for inside in (1700, 2000, 2300):  # target 2000 ms, dead band 20%: 1600..2400 holds
        assert {t[:2] for t in run_sequence((30, 3), [CLEAN | {"p95_ms": inside}] * 5)} == {(30, 3)}
    far_too_slow = decide(30, 3, CLEAN | {"p95_ms": 30_000})
    assert (far_too_slow.batch_size, far_too_slow.concurrency) == (25, 2)  # one step down, not a hold
    assert far_too_slow.reason.startswith("back off: p95 30000 ms above the dead band")
    busy = CLEAN | {"cpu_pct": 95}
    assert decide(30, 3, busy).reason.startswith("hold: CPU")
    alternating = run_sequence((30, 3), [CLEAN, CLEAN | {"p95_ms": 1700}] * 3)
    assert [t[2] for t in alternating] == ["grow", "hold"] * 3  # grows, then holds; never thrashes down


@pytest.fixture
def control(tmp_path):
    return ControlStateResource(control_dir=str(tmp_path / "control"), lake=LakeResource(root=str(tmp_path / "lake")))


def test_pinned_values_win_over_the_tuning_state(control):
    assert control.tuning_setting("enrichment") == (10, 5, "default")
    control.record_tuning(
        pl.DataFrame(
            [
                {
                    "decided_at": datetime.now(ZoneInfo("UTC")),
                    "stage": "enrichment",
                    "run_id": "r",
                    "batch_size_old": 10,
                    "batch_size_new": 15,
                    "concurrency_old": 5,
                    "concurrency_new": 4,
                    "reason": "test",
                }
            ]
        )
    )
    assert control.tuning_setting("enrichment") == (15, 4, "tuning")
    assert control.tuning_setting("enrichment", pinned_batch=50) == (50, 4, "pinned")


def tune(instance, control, cursor=None):
    """One tick of the tuning sensor and, when it asks, the tune_batches run it requests."""
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"control_state": control}) as context:
        result = retune_from_run_metrics(context)
        cursor = context.cursor
    if isinstance(result, dg.RunRequest):
        assert dg.materialize(
            [batch_tuning], instance=instance, run_config=result.run_config, resources={"control_state": control}
        ).success
    return result, cursor


def test_three_materializations_between_two_ticks_make_three_decisions_in_one_run(control):
    instance = dg.DagsterInstance.ephemeral()

    class Measured(dg.Config):
        p95_ms: float

    @dg.asset(name="run_metrics")
    def measured_run(config: Measured) -> dg.MaterializeResult:
        return dg.MaterializeResult(
            metadata={
                "stages": dg.MetadataValue.json(
                    [{"stage": "enrichment", **CLEAN, "p95_ms": config.p95_ms}, {"stage": "serving", **CLEAN}]
                )
            }
        )

    for p95 in (300, 350, 400):  # three runs, each materializing run_metrics
        dg.materialize(
            [measured_run], instance=instance, run_config={"ops": {"run_metrics": {"config": {"p95_ms": p95}}}}
        )
    with dg.build_sensor_context(instance=instance, resources={"control_state": control}) as context:
        preview = retune_from_run_metrics(context)  # what "Preview tick result" shows: a request, no writes
    assert isinstance(preview, dg.RunRequest) and control.read("batch_tuning").height == 0
    measured = preview.run_config["ops"]["batch_tuning"]["config"]["measurements"]
    assert [(m["stage"], m["p95_ms"]) for m in measured] == [
        ("enrichment", 300),
        ("enrichment", 350),
        ("enrichment", 400),
    ]  # serving is not tuned
    request, cursor = tune(instance, control)
    tuning = control.read("batch_tuning").sort("decided_at").select("batch_size_old", "batch_size_new")
    assert tuning.rows() == [(10, 15), (15, 20), (20, 25)]  # each decision builds on the last
    [event] = instance.fetch_materializations(dg.AssetKey("batch_tuning"), limit=5).records
    metadata = event.asset_materialization.metadata
    assert metadata["decisions"].value == 3 and metadata["now enrichment"].value == "25/5"
    assert [r.data["new"] for r in metadata["decided"].value.records] == ["15/5", "20/5", "25/5"]
    assert tune(instance, control, cursor)[0].skip_message == "no new run metrics"
    assert dg.materialize(
        [batch_tuning], instance=instance, run_config=request.run_config, resources={"control_state": control}
    ).success  # the tuning run re-executed …
    assert control.read("batch_tuning").height == 3  # … decides nothing twice


def test_the_county_collector_has_only_its_concurrency_tuned():
    assert decide(None, 2, CLEAN) == decide(None, 2, CLEAN)
    grown = decide(None, 2, CLEAN)
    assert (grown.batch_size, grown.concurrency) == (None, 3)
    backed = decide(None, 4, CLEAN | {"rate_limited": 2})
    assert (backed.batch_size, backed.concurrency) == (None, 2)


def test_growth_stops_below_the_setting_that_last_had_to_back_off():
    ceiling = Ceiling(None, 4)
    assert decide(None, 2, CLEAN, ceiling=ceiling).concurrency == 3
    held = decide(None, 3, CLEAN, ceiling=ceiling)
    assert held.concurrency == 3 and held.reason.startswith("hold: one step up reaches concurrency 4")


def simulate(instance, control, server, runs: int) -> list[int]:
    """`runs` collection runs against a simulated county: each measures the concurrency the tuning
    state gives, run_metrics materializes, the sensor ticks and the tuning run decides."""

    class Measured(dg.Config):
        concurrency: int

    @dg.asset(name="run_metrics")
    def measured_run(config: Measured) -> dg.MaterializeResult:
        return dg.MaterializeResult(
            metadata={
                "stages": dg.MetadataValue.json(
                    [{"stage": "collection:assessor", "batch_size": None, **server(config.concurrency)}]
                )
            }
        )

    trail, cursor = [], None
    for _ in range(runs):
        concurrency = control.tuning_setting("collection:assessor").concurrency
        trail.append(concurrency)
        dg.materialize(
            [measured_run],
            instance=instance,
            run_config={"ops": {"run_metrics": {"config": {"concurrency": concurrency}}}},
        )
        _, cursor = tune(instance, control, cursor)
    return trail


def queueing_county(capacity: float, rate_limit_per_s: float, service_s: float = 0.4):
    """p95 latency of an M/M/1-like server shared by `concurrency` workers, 429s above a rate."""

    def measure(concurrency: int) -> dict:
        load = concurrency / capacity
        p95_ms = service_s * 1000 / (1 - load) if load < 1 else 60_000.0
        rate = concurrency / service_s
        return {
            **CLEAN,
            "p95_ms": round(p95_ms, 1),
            "concurrency": concurrency,
            "rate_limited": int(rate > rate_limit_per_s) * 7,
        }

    return measure


@pytest.mark.parametrize(
    "capacity,rate_limit,settles_at",
    [
        (4.5, 1e9, 3),  # latency-bound: p95 at 3 is 1.2 s, at 4 it is 3.6 s (target 2 s)
        (20.0, 9.0, 3),  # rate-bound: 4 workers send 10 req/s and meet 429s
    ],
)
def test_the_tuning_loop_settles_at_the_best_safe_concurrency(control, capacity, rate_limit, settles_at):
    server = queueing_county(capacity, rate_limit)
    trail = simulate(dg.DagsterInstance.ephemeral(), control, server, runs=16)
    assert trail[-6:] == [settles_at] * 6, trail  # settled
    assert server(settles_at)["p95_ms"] < 2000 and not server(settles_at)["rate_limited"]
    assert not server(settles_at + 1)["p95_ms"] < 2000 or server(settles_at + 1)["rate_limited"]  # the best safe one
    after_first_back_off = trail[trail.index(max(trail)) + 1 :]
    assert max(after_first_back_off) - min(after_first_back_off[1:] or [settles_at]) <= 1, trail  # no see-saw


def test_schedules_ask_for_every_zip_of_the_day(tmp_path):
    defs = build_definitions(Settings.from_env({"PHOENIX_DATA_DIR": str(tmp_path)}))
    daily_refresh_schedule = defs.resolve_schedule_def("daily_refresh_schedule")
    weekly_full_assessor_refresh = defs.resolve_schedule_def("weekly_full_assessor_refresh")
    phoenix = ZoneInfo("America/Phoenix")
    with dg.build_schedule_context(scheduled_execution_time=datetime(2026, 11, 28, 3, tzinfo=phoenix)) as context:
        daily = list(daily_refresh_schedule(context))
    assert [r.partition_key for r in daily] == ["04013|2026-11-28"]  # one run for the county's three ZIPs
    with dg.build_schedule_context(scheduled_execution_time=datetime(2026, 11, 29, 4, tzinfo=phoenix)) as context:
        weekly = list(weekly_full_assessor_refresh(context))
    assert [r.partition_key for r in weekly] == ["04013|2026-11-29"]
    assert all(r.run_config["ops"]["raw_assessor_payloads"]["config"]["full_refresh"] for r in weekly)


def test_automation_requests_every_updated_partition_not_only_the_latest(tmp_path):
    from phoenix_dagster.automation.dagster_private import AssetCheckEvaluationTargetMaterializationData

    defs = build_definitions(Settings.from_env({"PHOENIX_DATA_DIR": str(tmp_path)}))
    instance = dg.DagsterInstance.ephemeral()
    target = dg.AssetKey("quality_daily")
    graph = defs.resolve_asset_graph()
    parents = graph.get(target).parent_keys
    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=dg.AssetSelection.assets(target)
    )
    for day in ("2026-11-20", "2026-11-27"):
        for parent in parents:
            instance.report_runless_asset_event(dg.AssetMaterialization(parent, partition=f"04013|{day}"))
    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, cursor=result.cursor, asset_selection=dg.AssetSelection.assets(target)
    )
    assert result.get_requested_partitions(target) == set()  # blocking checks upstream have not passed yet
    for parent in parents:  # the lake's checks are partitioned: each partition passes its own
        for check in graph.get(parent).check_keys:
            for day in ("2026-11-20", "2026-11-27"):
                [record] = instance.fetch_materializations(
                    dg.AssetRecordsFilter(asset_key=parent, asset_partitions=[f"04013|{day}"]), limit=1
                ).records
                instance.report_runless_asset_event(
                    dg.AssetCheckEvaluation(
                        asset_key=parent,
                        check_name=check.name,
                        passed=True,
                        partition=f"04013|{day}",
                        target_materialization_data=AssetCheckEvaluationTargetMaterializationData(
                            storage_id=record.storage_id, run_id=record.run_id, timestamp=record.timestamp
                        ),
                    )
                )
    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, cursor=result.cursor, asset_selection=dg.AssetSelection.assets(target)
    )
    requested = sorted(key for key in result.get_requested_partitions(target))
    assert requested == ["04013|2026-11-20", "04013|2026-11-27"]
    assert graph.get(dg.AssetKey(["marts", "properties"])).freshness_policy is not None


def test_run_metrics_rematerialized_alone_keeps_its_stages_and_tunes_once(tmp_path):
    from platform_harness import DAY, make_platform

    from phoenix_dagster.cli.local_runs import QUIET_LOGS, retune
    from phoenix_dagster.graph.partitions import partition_key, zip_tags

    platform = make_platform(tmp_path / "data")
    [collected] = platform.run(zip_codes=["85031"], build=False)
    assert retune(platform.jobs).startswith("2 decisions")  # collection and enrichment, once each
    alone = platform.defs.resolve_job_def("daily_refresh").execute_in_process(
        partition_key=partition_key(DAY, "04013"),
        instance=platform.instance,
        run_config=QUIET_LOGS,
        tags=zip_tags(["85031"]),
        asset_selection=[dg.AssetKey("run_metrics")],
    )
    assert alone.success
    rows = platform.defs.resources["lake"].read("run_metrics", DAY, "85031")
    assert sorted(rows["stage"]) == ["collection:assessor", "collection:listings:sample", "enrichment"]
    assert set(rows["run_id"]) == {collected.run_id}  # measured by the collection run, not this one
    again = retune(platform.jobs)
    assert again == "1 run metrics read, nothing new to decide, 2 already decided", again
    assert platform.defs.resources["control_state"].read("batch_tuning").height == 2


def test_partitions_measured_at_the_same_setting_step_it_once(control):
    instance = dg.DagsterInstance.ephemeral()

    @dg.asset(name="run_metrics")
    def measured_run() -> dg.MaterializeResult:  # as each ZIP's run reports it: measured at the default 10/5
        return dg.MaterializeResult(
            metadata={
                "stages": dg.MetadataValue.json([{"stage": "enrichment", **CLEAN, "batch_size": 10, "concurrency": 5}])
            }
        )

    for _ in range(3):  # three ZIPs run side by side, all started at 10/5
        dg.materialize([measured_run], instance=instance)
    tune(instance, control)
    decisions = control.read("batch_tuning").sort("decided_at")
    assert decisions["batch_size_new"].to_list() == [15, 15, 15]  # grown once, then held
    assert [r.split(":")[0] for r in decisions["reason"]] == ["grow", "hold", "hold"]
    assert "measured at 10/5, the setting is already 15/5" in decisions["reason"][1]
