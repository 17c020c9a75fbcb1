-- Read by the run summary phoenix-estate prints (phoenix_dagster/cli/summary.py).
select coalesce(sum(cost_usd), 0) as usd from ops.cost_events where run_id in (select unnest(?))
