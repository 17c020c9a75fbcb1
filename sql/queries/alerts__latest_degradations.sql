-- Read by the alert sensor (phoenix_dagster/automation/sensors.py).
select * from ops.degradations where cast(recorded_at as date) = (select max(cast(recorded_at as date)) from ops.degradations)
