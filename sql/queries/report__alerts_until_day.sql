-- Read by alerts (phoenix_dagster/report/sections.py) for the daily HTML report.
select day, condition, severity, status, channels, owed, message from ops.alerts where day <= ? and (day = ? or coalesce(status, 'delivered') <> 'delivered') order by status = 'delivered', day desc, condition
