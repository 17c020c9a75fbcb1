-- Read by the run summary phoenix-estate prints (phoenix_dagster/cli/summary.py).
select PostalCode, case when bool_or(status = 'NO_DATA') then 'NO_DATA ' || string_agg(source, ', ') filter (where status = 'NO_DATA') else min(overall_score) || ' ' || arg_min(status, overall_score) end from ops.quality_daily where date = ? group by 1
