-- Read by the alert sensor (phoenix_dagster/automation/sensors.py).
select * from ops.budget_status where month = ?
