-- Read by health (phoenix_dagster/report/sections.py) for the daily HTML report.
select * from ops.service_health
