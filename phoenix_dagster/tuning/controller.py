"""The batch-size and concurrency controller: additive increase, multiplicative decrease, a
dead band around the latency target, and a memory of the setting that last failed.

For each stage, from one run's metrics:
1. back off hard (batch ×0.5, concurrency ×0.5, rounded down, within bounds) when the error
   rate is above target, any request was rate limited (429) or timed out, or peak memory is
   above its limit;
2. back off one step (batch −5, concurrency −1) when p95 latency is above the dead band
   (target × (1 + band)): slow, not failing;
3. hold inside the dead band (target × (1 ± band)), or when CPU leaves no headroom;
4. grow one step (batch +5, concurrency +1) below the dead band — but never onto a setting that
   had to back off within the recent decisions (`ceiling`): a server that answered 429 at
   concurrency 5 is not probed at 5 again every other run, so the loop settles instead of
   see-sawing.
A stage that does not use a batch size (batch None) has only its concurrency tuned.
Bounds: batch 5–100, concurrency 1–5. Every decision names its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

BATCH_BOUNDS, CONCURRENCY_BOUNDS = (5, 100), (1, 5)


@dataclass(frozen=True)
class TuningTargets:
    p95_ms: float = 2000.0
    error_rate: float = 0.02
    cpu_pct: float = 80.0
    peak_rss_mb: float = 4096.0
    dead_band: float = 0.20
    batch_step: int = 5
    decrease_factor: float = 0.5


@dataclass(frozen=True)
class Decision:
    batch_size: int | None
    concurrency: int
    reason: str


@dataclass(frozen=True)
class Ceiling:
    """The lowest setting that had to back off recently: growth stops one step below it."""

    batch_size: int | None
    concurrency: int


def _bound(value: float, bounds: tuple[int, int]) -> int:
    return int(max(bounds[0], min(bounds[1], value)))


def _batch(batch_size: int | None, change) -> int | None:
    return None if batch_size is None else _bound(change(batch_size), BATCH_BOUNDS)


def describe_setting(batch_size: int | None, concurrency: int) -> str:
    """`15/5` (batch size / concurrency), or `concurrency 3` for a stage without batches."""
    return f"{batch_size}/{concurrency}" if batch_size is not None else f"concurrency {concurrency}"


def decide(
    batch_size: int | None,
    concurrency: int,
    metrics: dict,
    targets: TuningTargets = TuningTargets(),
    ceiling: Ceiling | None = None,
) -> Decision:
    """`metrics`: one stage of one run (error_rate, rate_limited, timeouts, p95_ms, cpu_pct, peak_rss_mb)."""
    error_rate = metrics.get("error_rate") or 0.0
    rate_limited = metrics.get("rate_limited") or 0
    timeouts = metrics.get("timeouts") or 0
    p95 = metrics.get("p95_ms")
    cpu = metrics.get("cpu_pct") or 0.0
    rss = metrics.get("peak_rss_mb") or 0.0
    pressure = []
    if error_rate > targets.error_rate:
        pressure.append(f"error rate {error_rate:.3f} > {targets.error_rate}")
    if rate_limited:
        pressure.append(f"{rate_limited} rate-limited (429)")
    if timeouts:
        pressure.append(f"{timeouts} timeouts")
    if rss > targets.peak_rss_mb:
        pressure.append(f"peak memory {rss:.0f} MB > {targets.peak_rss_mb:.0f} MB")
    if pressure:
        return Decision(
            _batch(batch_size, lambda b: b * targets.decrease_factor),
            _bound(concurrency * targets.decrease_factor, CONCURRENCY_BOUNDS),
            "back off: " + "; ".join(pressure),
        )
    if p95 is None:
        return Decision(batch_size, concurrency, "hold: no latency measured")
    low, high = targets.p95_ms * (1 - targets.dead_band), targets.p95_ms * (1 + targets.dead_band)
    if p95 > high:
        return Decision(
            _batch(batch_size, lambda b: b - targets.batch_step),
            _bound(concurrency - 1, CONCURRENCY_BOUNDS),
            f"back off: p95 {p95:.0f} ms above the dead band of target {targets.p95_ms:.0f} ms (> {high:.0f} ms)",
        )
    if p95 >= low:
        return Decision(
            batch_size,
            concurrency,
            f"hold: p95 {p95:.0f} ms within the dead band of target {targets.p95_ms:.0f} ms ({low:.0f}–{high:.0f} ms)",
        )
    if cpu > targets.cpu_pct:
        return Decision(
            batch_size, concurrency, f"hold: CPU {cpu:.0f}% leaves no headroom (max {targets.cpu_pct:.0f}%)"
        )
    grown = (_batch(batch_size, lambda b: b + targets.batch_step), _bound(concurrency + 1, CONCURRENCY_BOUNDS))
    if grown == (batch_size, concurrency):
        return Decision(batch_size, concurrency, "hold: at the upper bounds")
    new_batch, new_concurrency = grown
    if ceiling is not None:  # stop one step below the setting that last had to back off
        if new_batch is not None and ceiling.batch_size is not None:
            new_batch = max(batch_size, min(new_batch, ceiling.batch_size - targets.batch_step))
        new_concurrency = max(concurrency, min(new_concurrency, ceiling.concurrency - 1))
        if (new_batch, new_concurrency) == (batch_size, concurrency):
            return Decision(
                batch_size,
                concurrency,
                f"hold: one step up reaches {describe_setting(ceiling.batch_size, ceiling.concurrency)}, "
                "which had to back off recently",
            )
    return Decision(
        new_batch,
        new_concurrency,
        f"grow: p95 {p95:.0f} ms, error rate {error_rate:.3f}, CPU {cpu:.0f}% all inside targets",
    )


def decide_for(setting, metrics: dict, ceiling: Ceiling | None = None) -> Decision:
    """The controller's decision for `setting` (batch_size, concurrency), or a hold when the
    metrics were measured at another setting: partitions run side by side all measure the
    setting of their start, and stepping once per partition would move it N times on one
    observation."""
    used = (metrics.get("batch_size"), metrics.get("concurrency"))
    if used[1] is not None and used != (setting.batch_size, setting.concurrency):
        return Decision(
            setting.batch_size,
            setting.concurrency,
            f"hold: measured at {describe_setting(*used)}, the setting is already "
            f"{describe_setting(setting.batch_size, setting.concurrency)}",
        )
    return decide(setting.batch_size, setting.concurrency, metrics, ceiling=ceiling)
