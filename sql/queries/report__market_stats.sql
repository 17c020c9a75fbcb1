-- Read by market (phoenix_dagster/report/sections.py) for the daily HTML report.
select * exclude (property_count, median_year_built) from marts.zip_market_stats where date <= ? order by date, PostalCode
