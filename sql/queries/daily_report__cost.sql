-- Read by daily_report (assets/serving.py): what each partition cost.
select partition, sum(cost_usd) as usd from ops.cost_events group by 1
