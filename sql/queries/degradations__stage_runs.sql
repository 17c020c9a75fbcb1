-- Read by ops.degradations (assets/warehouse_build.py): every stage run with the metrics it is
-- judged on against its own trailing baseline.
select run_id, stage, partition, recorded_at, items, items_per_s, p95_ms, error_rate, cpu_pct, rate_limited, timeouts
from ops.stage_metrics
