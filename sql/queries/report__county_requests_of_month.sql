-- Read by refresh_recommendation (phoenix_dagster/report/sections.py) for the daily HTML report.
select endpoint, sum(requests) as requests from ops.source_requests
where source <> 'sample' and strftime(cast(split_part(partition, '|', 1) as date), '%Y-%m') = ?
group by 1
