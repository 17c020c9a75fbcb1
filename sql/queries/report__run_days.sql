-- Read by _with_day (phoenix_dagster/report/sections.py) for the daily HTML report.
select run_id, min(date) as run_day from ops.run_log where partition is not null group by 1
