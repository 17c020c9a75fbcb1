-- Read by cost (phoenix_dagster/report/sections.py) for the daily HTML report.
select service, sum(cost_usd) as usd from ops.cost_daily where strftime(date, '%Y-%m') = ? and date <= ? group by 1 order by usd desc
