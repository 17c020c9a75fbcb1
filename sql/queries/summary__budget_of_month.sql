-- Read by the run summary phoenix-estate prints (phoenix_dagster/cli/summary.py).
select * from ops.budget_status where month = ?
