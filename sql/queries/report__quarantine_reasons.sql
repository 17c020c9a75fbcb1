-- Read by quality (phoenix_dagster/report/sections.py) for the daily HTML report.
select regexp_replace(reason, '[0-9]+', 'N', 'g') as reason, count(*) as records from ops.quarantine where cast(split_part(partition, '|', 1) as date) <= ? group by 1 order by records desc limit 15
