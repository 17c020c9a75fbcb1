-- Read by latest_partition_day (phoenix_dagster/report/__init__.py): the day a report is written for by default.
select max(date) as day from ops.partition_counts
