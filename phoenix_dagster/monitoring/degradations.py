"""Degradation detection: each run of a stage against its own trailing baseline.

Input: stage-metric rows (`ops.stage_metrics`, the columns of `schemas.ops.RunMetrics`;
`quality_score` may be joined in). Output: one row per degraded (run, metric).

Method
------
- A *series* is one stage in one ZIP: the ZIP is the part of the partition (`date|zip`) after
  the `|`; rows without a partition (whole-table assets such as serving) form the stage's own
  series. A slow 85031 is never judged against 85033's runs, nor enrichment against collection.
- Within a series, runs are ordered by `recorded_at` (then `run_id`). Each run's baseline is
  the runs strictly before it, at most `window` of them (default 14): their median, and their
  MAD (median absolute deviation from that median) scaled by 1.4826 so that it estimates the
  standard deviation of normal noise. Median and MAD ignore a few outliers in the history —
  an earlier bad run does not lift the bar for the next one.
- Warm-up: no verdict while a metric has fewer than `min_history` (default 5) earlier values
  in the series.
- A run is degraded on a metric when its deviation *in the worse direction* (lower throughput
  or quality; higher p95 or error rate — improvements never alert) passes every gate of the
  metric's `DegradationRule`:
  1. robust z-score: deviation > z × max(MAD, mad_floor_rel × |median|, mad_floor_abs), with
     z = 3.5 (Iglewicz & Hoaglin's cut-off for the modified z-score). The floors keep a
     perfectly flat history (MAD 0) from alerting on the first tiny wobble;
  2. relative change: deviation > min_relative × |median| — a statistically unusual change
     that is too small to matter (3% slower) is not worth an alert;
  3. absolute change: deviation ≥ min_absolute, in the metric's unit — for metrics whose
     baseline is often 0 (error rate) or tiny (a p95 of a few ms), where ratios mean little.

Thresholds (`RULES`, one `DegradationRule` per metric)
-------------------------------------------------------
    metric          worse   min_relative  min_absolute  MAD floor
    items_per_s     lower   25%           —             5% of |median|
    p95_ms          higher  25%           10 ms         5% of |median|, ≥ 1 ms
    error_rate      higher  50%           0.02 (2 pts)  5% of |median|, ≥ 0.01
    quality_score   lower   5%            0.05 (5 pts)  0.01
25% is the size of change an operator acts on for speed; 2 points of errors is the tuning
controller's own target (`TuningTargets.error_rate`); 5 points of quality is the drop the quality
score's own thresholds treat as an issue. From a clean history (error rate 0) the floor makes an error rate
above 3.5% the first to alert. A score bounded by 1 gets no relative floor: 3.5 × 5% of 0.9
would hide a 15-point drop. For throughput and p95 the 25% gate is the one that binds on a
quiet history (the 5% floor alone would pass 17.5%): with run-to-run noise of σ = 5% a flagged
run is ≥ 5σ out; a stage as noisy as σ = 8% will flag the odd run 25–30% off its median,
which is a real 25–30% slowdown of that run.

Cause
-----
`likely_cause` names the reason from the run's other columns, first match wins:
1. 429s or timeouts above the series' median → the source is refusing or timing out;
2. throughput down and items below half their median → a small batch, not a slow stage;
3. p95 or throughput worse and our CPU ≥ 1.5× its median → we are CPU-bound;
4. p95 or throughput worse in a stage that waits on an outside service (county, listing
   source, model server) while our CPU did not rise → that service is slow;
5. otherwise: how much worse than the median, in the metric's unit.
Messages are built in Python over the degradation rows only (few by construction), so the
numbers can be formatted for people.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

MAD_SCALE = 1.4826
CPU_BOUND_RATIO = 1.5
FEWER_ITEMS_RATIO = 0.5
IDLE_CPU_PCT = 50.0
CONTEXT = ("cpu_pct", "items", "rate_limited", "timeouts")

OUTPUT_SCHEMA = {
    "run_id": pl.String,
    "stage": pl.String,
    "PostalCode": pl.String,
    "metric": pl.String,
    "value": pl.Float64,
    "baseline_median": pl.Float64,
    "baseline_mad": pl.Float64,
    "history_runs": pl.Int64,
    "ratio": pl.Float64,
    "direction": pl.String,
    "likely_cause": pl.String,
    "recorded_at": pl.Datetime("us", "UTC"),
}


@dataclass(frozen=True)
class DegradationRule:
    """When one metric counts as degraded; see the module docstring for the gates."""

    metric: str
    worse: str  # "lower" or "higher" is worse
    label: str
    unit: str  # "/s", "ms", "%" (a share shown as a percentage) or "" (a score)
    min_relative: float
    min_absolute: float = 0.0
    mad_floor_abs: float = 0.0
    mad_floor_rel: float = 0.05
    z: float = 3.5


RULES = (
    DegradationRule("items_per_s", "lower", "throughput", "/s", min_relative=0.25),
    DegradationRule("p95_ms", "higher", "p95", "ms", min_relative=0.25, min_absolute=10.0, mad_floor_abs=1.0),
    DegradationRule(
        "error_rate", "higher", "error rate", "%", min_relative=0.50, min_absolute=0.02, mad_floor_abs=0.01
    ),
    DegradationRule(
        "quality_score",
        "lower",
        "quality score",
        "",
        min_relative=0.05,
        min_absolute=0.05,
        mad_floor_abs=0.01,
        mad_floor_rel=0.0,
    ),
)
RULES_BY_METRIC = {rule.metric: rule for rule in RULES}


def find_degradations(
    metrics: pl.DataFrame, *, window: int = 14, min_history: int = 5, rules: tuple[DegradationRule, ...] = RULES
) -> pl.DataFrame:
    """Every (run, metric) worse than its series' trailing baseline; columns `OUTPUT_SCHEMA`.

    `metrics` needs run_id, stage, partition (nullable), recorded_at and any of the rules'
    metric columns (a rule whose column is absent is skipped); cpu_pct, items, rate_limited
    and timeouts, when present, let `likely_cause` name the cause."""
    rules = tuple(rule for rule in rules if rule.metric in metrics.columns)
    if metrics.is_empty() or not rules:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    columns = list(dict.fromkeys([rule.metric for rule in rules] + list(CONTEXT)))
    series = _with_baselines(_ordered_series(metrics, columns), columns, window)
    flagged = pl.concat([_flagged(series, rule, min_history) for rule in rules])
    causes = pl.Series("likely_cause", [likely_cause(row) for row in flagged.iter_rows(named=True)], dtype=pl.String)
    return (
        flagged.with_columns(causes)
        .select(list(OUTPUT_SCHEMA))
        .cast(OUTPUT_SCHEMA)
        .sort("recorded_at", "stage", "PostalCode", "metric", nulls_last=True)
    )


def _ordered_series(metrics: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """The rows with their series key and their position in it; every measured column as Float64."""
    missing = [pl.lit(None, pl.Float64).alias(c) for c in columns if c not in metrics.columns]
    return (
        metrics.with_columns(*missing)
        .with_columns(
            pl.col(columns).cast(pl.Float64), PostalCode=pl.col("partition").cast(pl.String).str.extract(r"\|([^|]*)$")
        )
        .with_columns(_series=pl.concat_str(pl.col("stage"), pl.col("PostalCode").fill_null(""), separator="|"))
        .sort("_series", "recorded_at", "run_id")
        .with_columns(_seq=pl.int_range(pl.len()).over("_series"))
    )


def _with_baselines(series: pl.DataFrame, columns: list[str], window: int) -> pl.DataFrame:
    """Adds `<col>__median`, `<col>__mad` (scaled) and `<col>__n` over the previous `window` runs."""

    def mad(c: str) -> pl.Expr:
        return (pl.col(c) - pl.col(c).median()).abs().median() * MAD_SCALE

    history = series.rolling(
        index_column="_seq", period=f"{window}i", offset=f"-{window + 1}i", closed="right", group_by="_series"
    ).agg(
        *[pl.col(c).median().alias(f"{c}__median") for c in columns],
        *[mad(c).alias(f"{c}__mad") for c in columns],
        *[pl.col(c).count().alias(f"{c}__n") for c in columns],
    )
    return series.join(history, on=["_series", "_seq"], how="left")


def _flagged(series: pl.DataFrame, rule: DegradationRule, min_history: int) -> pl.DataFrame:
    """The runs that fail `rule`, with the columns `likely_cause` reads."""
    m = rule.metric
    value, median, mad, history = pl.col(m), pl.col(f"{m}__median"), pl.col(f"{m}__mad"), pl.col(f"{m}__n")
    deviation = value - median if rule.worse == "higher" else median - value
    scale = pl.max_horizontal(mad, rule.mad_floor_rel * median.abs(), pl.lit(rule.mad_floor_abs))
    degraded = (
        (history >= min_history)
        & value.is_not_null()
        & (deviation > rule.z * scale)
        & (deviation > rule.min_relative * median.abs())
        & (deviation >= rule.min_absolute)
    )
    context = [pl.col(f"{c}__median").alias(f"{c}_baseline") for c in CONTEXT]
    return series.filter(degraded).select(
        "run_id",
        "stage",
        "PostalCode",
        "recorded_at",
        *CONTEXT,
        *context,
        metric=pl.lit(m),
        value=value,
        baseline_median=median,
        baseline_mad=mad,
        history_runs=history.cast(pl.Int64),
        ratio=pl.when(median != 0).then(value / median),
        direction=pl.lit(rule.worse),
    )


# --- the cause, in words -------------------------------------------------------------------


def likely_cause(row: Mapping) -> str:
    """One line naming the likely cause of a degradation row.

    `row`: stage, metric, value, baseline_median, history_runs, ratio, and (each may be None)
    cpu_pct, items, rate_limited, timeouts with their series medians `<name>_baseline`."""
    rule = RULES_BY_METRIC[row["metric"]]
    for cause in (_refused, _fewer_items, _cpu_bound, _slow_service):
        message = cause(row, rule)
        if message:
            return message
    return _worse_than_median(row, rule)


def _refused(row: Mapping, rule: DegradationRule) -> str | None:
    if rule.metric == "quality_score":
        return None
    refused, timeouts = row.get("rate_limited") or 0, row.get("timeouts") or 0
    usual = (row.get("rate_limited_baseline") or 0) + (row.get("timeouts_baseline") or 0)
    if refused + timeouts == 0 or refused + timeouts <= usual:
        return None
    service = _service(row["stage"]) or "the source"
    return (
        f"{service} is refusing or timing out: {refused:.0f} 429s, {timeouts:.0f} timeouts "
        f"(median {_num(row.get('rate_limited_baseline') or 0)} and {_num(row.get('timeouts_baseline') or 0)}); "
        f"{_change(row, rule)}"
    )


def _fewer_items(row: Mapping, rule: DegradationRule) -> str | None:
    items, usual = row.get("items"), row.get("items_baseline")
    if rule.metric != "items_per_s" or items is None or not usual or items >= FEWER_ITEMS_RATIO * usual:
        return None
    return f"fewer items ({_num(items)} vs median {_num(usual)}): small batch, not slow; {_change(row, rule)}"


def _cpu_bound(row: Mapping, rule: DegradationRule) -> str | None:
    cpu, usual = row.get("cpu_pct"), row.get("cpu_pct_baseline")
    if rule.metric not in ("p95_ms", "items_per_s") or cpu is None or usual is None or cpu <= 0:
        return None
    if cpu < CPU_BOUND_RATIO * usual:
        return None
    return f"we are CPU-bound: {_change(row, rule)} while our CPU rose to {cpu:.0f}% (vs {usual:.0f}%)"


def _slow_service(row: Mapping, rule: DegradationRule) -> str | None:
    cpu, usual, service = row.get("cpu_pct"), row.get("cpu_pct_baseline"), _service(row["stage"])
    if rule.metric not in ("p95_ms", "items_per_s") or service is None or cpu is None or usual is None:
        return None
    state = "idle" if cpu < IDLE_CPU_PCT else "steady"
    return f"{service} is slow: {_change(row, rule)} while our CPU was {state} ({cpu:.0f}% vs {usual:.0f}%)"


def _worse_than_median(row: Mapping, rule: DegradationRule) -> str:
    value, median, runs = row["value"], row["baseline_median"], row["history_runs"]
    if median == 0:
        return f"{rule.label} {_in_unit(value, rule)} where its {runs}-run median is {_in_unit(0.0, rule)}"
    worse = abs(value - median) / abs(median)
    return (
        f"{rule.label} {worse:.0%} worse than its {runs}-run median "
        f"({_in_unit(value, rule)} vs {_in_unit(median, rule)})"
    )


def _service(stage: str) -> str | None:
    """The outside service a stage waits on, in words; None for work done in-process."""
    if stage == "collection:assessor":
        return "the county assessor"
    if stage.startswith("collection:listings:"):
        return f"listing source {stage.removeprefix('collection:listings:')}"
    if stage.startswith("collection:"):
        return f"source {stage.removeprefix('collection:')}"
    if stage == "enrichment":
        return "the model server"
    return None


def _change(row: Mapping, rule: DegradationRule) -> str:
    """`p95 3.1× its baseline`, or the two values when the baseline is 0."""
    ratio = row.get("ratio")
    if ratio is None:
        return f"{rule.label} {_in_unit(row['value'], rule)} vs {_in_unit(row['baseline_median'], rule)}"
    return f"{rule.label} {ratio:.1f}× its baseline" if ratio >= 1 else f"{rule.label} {ratio:.2f}× its baseline"


def _in_unit(value: float, rule: DegradationRule) -> str:
    if rule.unit == "%":
        return f"{value:.1%}"
    if rule.unit == "":
        return f"{value:.2f}"
    return f"{_num(value)}{' ' if rule.unit == 'ms' else ''}{rule.unit}"


def _num(value: float) -> str:
    """1,234 · 12.3 · 0.0123: thousands separated, three significant digits below 100."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
