"""The degradation detector on synthetic series with known changes: what it must flag (a step in
p95, a throughput drop, an error burst, a quality drop) with the cause named from the data, and
what it must not (noise, warm-up, tiny changes on a flat history, improvements, another ZIP's
or stage's baseline)."""

import random
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from phoenix_dagster.monitoring.degradations import OUTPUT_SCHEMA, RULES_BY_METRIC, find_degradations, likely_cause

pytestmark = pytest.mark.unit

ASSESSOR = "collection:assessor"
T0 = datetime(2026, 3, 1, 6, tzinfo=UTC)
# A collection stage on a quiet day: 200 requests at 20/s, p95 1 s, no errors, our CPU at 10%.
BASE = dict(items=200, items_per_s=20.0, p95_ms=1000.0, error_rate=0.0, cpu_pct=10.0, rate_limited=0, timeouts=0)


def runs(n: int, *, stage: str = ASSESSOR, zip_code: str | None = "85031", **columns) -> list[dict]:
    """`n` daily runs of one series. A column is a constant or a list of `n` values; p95 and
    throughput default to their BASE level with a ±2% wobble, so the history has a spread."""
    wobble = [(i % 3 - 1) * 0.02 for i in range(n)]
    values = {
        **BASE,
        "p95_ms": [1000.0 * (1 + w) for w in wobble],
        "items_per_s": [20.0 * (1 - w) for w in wobble],
        **columns,
    }
    rows = []
    for i in range(n):
        day = T0 + timedelta(days=i)
        rows.append(
            {
                "run_id": f"run-{i}",
                "stage": stage,
                "partition": None if zip_code is None else f"{day:%Y-%m-%d}|{zip_code}",
                "recorded_at": day,
                **{k: v[i] if isinstance(v, list) else v for k, v in values.items()},
            }
        )
    return rows


def then(rows: list[dict], **last) -> list[dict]:
    """The series with its last run changed."""
    return [*rows[:-1], {**rows[-1], **last}]


def frame(*series: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(
        [row for rows in series for row in rows], schema_overrides={"recorded_at": pl.Datetime("us", "UTC")}
    )


def detect(*series: list[dict], **kwargs) -> pl.DataFrame:
    return find_degradations(frame(*series), **kwargs)


# --- what it flags, and the cause it names ---------------------------------------------------


def test_a_step_in_p95_while_our_cpu_idles_names_the_county_as_slow():
    found = detect(then(runs(20), p95_ms=3100.0, cpu_pct=12.0))

    assert found.height == 1
    row = found.row(0, named=True)
    assert (row["run_id"], row["stage"], row["PostalCode"], row["metric"]) == ("run-19", ASSESSOR, "85031", "p95_ms")
    assert row["direction"] == "higher"
    assert row["value"] == 3100.0 and row["baseline_median"] == 1000.0
    assert row["history_runs"] == 14
    assert row["ratio"] == pytest.approx(3.1)
    assert row["baseline_mad"] == pytest.approx(20.0 * 1.4826)
    assert (
        row["likely_cause"] == "the county assessor is slow: p95 3.1× its baseline while our CPU was idle (12% vs 10%)"
    )


def test_a_throughput_drop_with_the_cpu_saturated_is_cpu_bound():
    found = detect(then(runs(20, stage="enrichment", cpu_pct=40.0), items_per_s=8.0, cpu_pct=95.0))

    assert found["metric"].to_list() == ["items_per_s"]
    row = found.row(0, named=True)
    assert row["direction"] == "lower" and row["ratio"] == pytest.approx(0.4)
    assert row["likely_cause"] == "we are CPU-bound: throughput 0.40× its baseline while our CPU rose to 95% (vs 40%)"


def test_cpu_bound_wins_over_a_slow_service_when_our_cpu_rose():
    found = detect(then(runs(20), p95_ms=2500.0, cpu_pct=16.0))
    assert found["likely_cause"].item().startswith("we are CPU-bound: p95 2.5× its baseline while our CPU rose to 16%")


def test_an_error_burst_with_429s_and_timeouts_names_the_source_refusing():
    found = detect(then(runs(20, stage="collection:listings:reso"), error_rate=0.08, rate_limited=12, timeouts=3))

    assert found["metric"].to_list() == ["error_rate"]
    assert found["likely_cause"].item() == (
        "listing source reso is refusing or timing out: 12 429s, 3 timeouts (median 0 and 0); error rate 8.0% vs 0.0%"
    )


def test_a_throughput_drop_with_few_items_is_a_small_batch_not_a_slow_stage():
    found = detect(then(runs(20), items=20, items_per_s=5.0))

    assert found["metric"].to_list() == ["items_per_s"]
    assert found["likely_cause"].item().startswith("fewer items (20 vs median 200): small batch, not slow;")


def test_without_a_named_cause_the_message_says_how_much_worse_than_the_median():
    found = detect(then(runs(20, stage="resolution"), p95_ms=1600.0))
    assert found["likely_cause"].item() == "p95 60% worse than its 14-run median (1,600 ms vs 1,000 ms)"

    from_zero = detect(then(runs(20, stage="resolution"), error_rate=0.08))
    assert from_zero["likely_cause"].item() == "error rate 8.0% where its 14-run median is 0.0%"
    assert from_zero["ratio"].item() is None


def test_a_quality_drop_is_flagged_when_the_column_is_given():
    found = detect(then(runs(20, quality_score=0.92), quality_score=0.80))

    assert found["metric"].to_list() == ["quality_score"]
    assert found["direction"].item() == "lower"
    assert found["likely_cause"].item() == "quality score 13% worse than its 14-run median (0.80 vs 0.92)"


def lasting_step() -> list[dict]:
    return runs(40, p95_ms=[1000.0] * 20 + [3000.0] * 20, items_per_s=20.0)


def test_a_lasting_step_alerts_until_it_is_most_of_the_window_then_is_the_new_normal():
    found = detect(lasting_step())
    # Run 20 is judged on 14 runs at 1000; by run 27 half the window is at 3000 and the median moves.
    assert found["run_id"].to_list() == [f"run-{i}" for i in range(20, 27)]


def test_the_baseline_is_the_runs_before_in_time_not_in_row_order():
    rows = lasting_step()
    shuffled = random.Random(7).sample(rows, len(rows))
    assert detect(shuffled)["run_id"].to_list() == [f"run-{i}" for i in range(20, 27)]


def test_the_window_bounds_the_history():
    found = detect(then(runs(30), p95_ms=3100.0), window=6)
    assert found["history_runs"].to_list() == [6]


# --- what it must not flag -------------------------------------------------------------------


def noisy(n: int, seed: int, **kwargs) -> list[dict]:
    """Gaussian noise around a level: σ = 5% on throughput and p95, errors 1% ± 0.5%, our CPU 30% ± 5."""
    rng = random.Random(seed)
    return runs(
        n,
        items_per_s=[rng.gauss(20.0, 1.0) for _ in range(n)],
        p95_ms=[rng.gauss(1000.0, 50.0) for _ in range(n)],
        error_rate=[max(0.0, rng.gauss(0.01, 0.005)) for _ in range(n)],
        cpu_pct=[rng.gauss(30.0, 5.0) for _ in range(n)],
        **kwargs,
    )


def test_noise_around_a_level_raises_nothing_but_a_spike_in_it_does():
    quiet = [noisy(60, seed, zip_code=f"850{seed:02d}") for seed in range(30)]
    assert detect(*quiet).is_empty()

    spiked = then(quiet[0], p95_ms=2500.0)
    assert detect(spiked, *quiet[1:])[["PostalCode", "run_id", "metric"]].rows() == [("85000", "run-59", "p95_ms")]


def test_warm_up_raises_nothing_even_for_a_big_jump():
    assert detect(then(runs(5), p95_ms=10_000.0, items_per_s=1.0, error_rate=0.5)).is_empty()  # 4 earlier runs
    assert detect(then(runs(6), p95_ms=10_000.0)).height == 1  # 5 earlier: judged
    assert detect(then(runs(10), p95_ms=10_000.0), min_history=10).is_empty()


def test_a_tiny_change_on_a_flat_history_is_not_a_degradation():
    flat = runs(20, p95_ms=1000.0, items_per_s=20.0, quality_score=0.90)
    assert detect(then(flat, p95_ms=1040.0, items_per_s=19.0, error_rate=0.03, quality_score=0.87)).is_empty()
    # The same flat history does flag a change that matters.
    assert set(detect(then(flat, p95_ms=1300.0, error_rate=0.05))["metric"]) == {"p95_ms", "error_rate"}


def test_a_few_milliseconds_on_a_fast_stage_is_not_a_degradation():
    fast = runs(20, stage="serving", zip_code=None, p95_ms=4.0)
    assert detect(then(fast, p95_ms=9.0)).is_empty()
    assert detect(then(fast, p95_ms=40.0))["metric"].to_list() == ["p95_ms"]


def test_improvements_raise_nothing():
    history = runs(20, error_rate=[0.10, 0.12, 0.08, 0.11] * 5, quality_score=[0.80, 0.82, 0.78, 0.81] * 5)
    better = then(history, p95_ms=200.0, items_per_s=90.0, error_rate=0.0, quality_score=1.0, cpu_pct=1.0)
    assert detect(better).is_empty()


# --- one series per stage and ZIP ------------------------------------------------------------


def test_a_slow_zip_is_judged_against_its_own_history_not_anothers():
    slow = runs(20, zip_code="85031", p95_ms=3000.0)
    fast = runs(20, zip_code="85033")
    assert detect(slow, fast).is_empty()

    found = detect(then(slow, p95_ms=9000.0), fast)
    assert found[["PostalCode", "baseline_median"]].rows() == [("85031", 3000.0)]


def test_each_stage_has_its_own_series():
    collection = runs(20)
    enrichment = runs(20, stage="enrichment", p95_ms=5000.0, items_per_s=2.0)
    assert detect(collection, enrichment).is_empty()
    assert detect(then(collection, p95_ms=5000.0), enrichment)["stage"].to_list() == [ASSESSOR]


def test_rows_without_a_partition_form_their_own_series():
    served = runs(20, stage="serving", zip_code=None, p95_ms=[None] * 20)
    found = detect(then(served, items_per_s=4.0), runs(20, stage="serving", items_per_s=4.0))
    assert found[["stage", "PostalCode", "metric"]].rows() == [("serving", None, "items_per_s")]


# --- edges -----------------------------------------------------------------------------------


def test_missing_values_are_not_history():
    p95 = [1000.0, None] * 6
    assert detect(then(runs(9, p95_ms=p95[:9]), p95_ms=5000.0)).is_empty()  # 4 measured earlier runs: warm-up
    found = detect(then(runs(12, p95_ms=p95), p95_ms=5000.0))
    assert found["history_runs"].to_list() == [6]


def test_no_rows_give_an_empty_frame_with_the_output_columns():
    columns = {
        "run_id": pl.String,
        "stage": pl.String,
        "partition": pl.String,
        "recorded_at": pl.Datetime("us", "UTC"),
        "items_per_s": pl.Float64,
        "p95_ms": pl.Float64,
        "error_rate": pl.Float64,
        "cpu_pct": pl.Float64,
    }
    empty = find_degradations(pl.DataFrame(schema=columns))
    assert empty.is_empty() and empty.schema == pl.Schema(OUTPUT_SCHEMA)
    assert find_degradations(frame(runs(20))).schema == pl.Schema(OUTPUT_SCHEMA)


def test_likely_cause_formats_numbers_for_people():
    row = {
        "stage": "collection:listings:mls",
        "metric": "items_per_s",
        "value": 1234.5,
        "baseline_median": 2469.0,
        "history_runs": 9,
        "ratio": 0.5,
        "cpu_pct": None,
        "cpu_pct_baseline": None,
        "items": 5000.0,
        "items_baseline": 4800.0,
        "rate_limited": 0,
        "timeouts": 0,
        "rate_limited_baseline": 0,
        "timeouts_baseline": 0,
    }
    assert likely_cause(row) == "throughput 50% worse than its 9-run median (1,234/s vs 2,469/s)"
    assert RULES_BY_METRIC["p95_ms"].worse == "higher" and RULES_BY_METRIC["items_per_s"].worse == "lower"
