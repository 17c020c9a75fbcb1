-- Read by the alert sensor (phoenix_dagster/automation/sensors.py).
select cast(recorded_at as date) as day, min(disk_free_mb) as disk_free_mb from ops.stage_metrics group by all
