-- Read by refresh_recommendation (phoenix_dagster/report/sections.py) for the daily HTML report.
select count(*) as n from marts.properties where ParcelNumber is not null
