"""The batch-size and concurrency controller: additive increase, multiplicative decrease,
with a dead band so it does not oscillate.

For each stage, from one run's metrics:
1. back off (batch ×0.5, concurrency ×0.5, rounded down, within bounds) when the error
   rate is above target, any request was rate limited (429) or timed out, or peak memory is
   above its limit;
2. grow (batch +5, concurrency +1) when p95 latency is below target × (1 − dead band), the
   error rate is within target, and CPU and memory have headroom;
3. otherwise hold: inside the dead band, or growing would not be safe.
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
    batch_size: int
    concurrency: int
    reason: str


def _bound(value: float, bounds: tuple[int, int]) -> int:
    return int(max(bounds[0], min(bounds[1], value)))


def decide(batch_size: int, concurrency: int, metrics: dict, targets: TuningTargets = TuningTargets()) -> Decision:
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
        return Decision(_bound(batch_size * targets.decrease_factor, BATCH_BOUNDS),
                        _bound(concurrency * targets.decrease_factor, CONCURRENCY_BOUNDS),
                        "back off: " + "; ".join(pressure))
    if p95 is None:
        return Decision(batch_size, concurrency, "hold: no latency measured")
    if p95 > targets.p95_ms * (1 - targets.dead_band):
        return Decision(batch_size, concurrency,
                        f"hold: p95 {p95:.0f} ms within the dead band of target {targets.p95_ms:.0f} ms")
    if cpu > targets.cpu_pct:
        return Decision(batch_size, concurrency, f"hold: CPU {cpu:.0f}% leaves no headroom (max {targets.cpu_pct:.0f}%)")
    new_batch = _bound(batch_size + targets.batch_step, BATCH_BOUNDS)
    new_concurrency = _bound(concurrency + 1, CONCURRENCY_BOUNDS)
    if (new_batch, new_concurrency) == (batch_size, concurrency):
        return Decision(batch_size, concurrency, "hold: at the upper bounds")
    return Decision(new_batch, new_concurrency,
                    f"grow: p95 {p95:.0f} ms, error rate {error_rate:.3f}, CPU {cpu:.0f}% all inside targets")
