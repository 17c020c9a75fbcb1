-- Read by throughput (phoenix_dagster/report/sections.py) for the daily HTML report.
select cast(recorded_at as date) as date, stage, PostalCode, metric, value, baseline_median, likely_cause from ops.degradations where cast(recorded_at as date) <= ? order by recorded_at desc limit 20
