-- Read by cost (phoenix_dagster/report/sections.py) for the daily HTML report.
select c.date, 'USD per 1,000 properties' as series, 1000 * sum(c.cost_usd) / nullif(max(p.properties), 0) as usd
from ops.cost_daily c
join (select date, sum(properties) as properties from ops.partition_counts group by 1) p using (date)
where c.date <= ? group by c.date order by c.date
