-- Read by cost (phoenix_dagster/report/sections.py) for the daily HTML report.
select * from ops.budget_status where month = ?
