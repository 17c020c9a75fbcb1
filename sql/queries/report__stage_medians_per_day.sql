-- Read by throughput (phoenix_dagster/report/sections.py) for the daily HTML report.
select coalesce(try_cast(split_part(partition, '|', 1) as date), cast(recorded_at as date)) as date, stage,
       median(items_per_s) as items_per_s, median(p95_ms) as p95_ms, count(*) as runs
from ops.stage_metrics group by 1, 2 having date <= ? order by date, stage
