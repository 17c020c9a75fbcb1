-- Read by the alert sensor (phoenix_dagster/automation/sensors.py).
select stage, cast(recorded_at as date) as day, max(cpu_pct) as cpu_pct, max(peak_rss_mb) as peak_rss_mb from ops.stage_metrics where duration_s >= 1 and cast(recorded_at as date) = (select max(cast(recorded_at as date)) from ops.stage_metrics) group by all
