-- Read by quality (phoenix_dagster/report/sections.py) for the daily HTML report.
select date, PostalCode, source, source || ' ' || PostalCode as series, overall_score, status from ops.quality_daily where date <= ? and overall_score is not null order by date, series
