-- Read by the alert sensor (phoenix_dagster/automation/sensors.py).
select * from ops.quality_daily where date = (select max(date) from ops.quality_daily)
