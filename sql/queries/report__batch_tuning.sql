-- Read by throughput (phoenix_dagster/report/sections.py) for the daily HTML report.
select * from ops.batch_tuning
