-- Read by the run summary phoenix-estate prints (phoenix_dagster/cli/summary.py).
select (select count(*) from marts.properties) as properties, (select count(*) from marts.zip_market_stats) as zip_days
