-- Data quality per day, ZIP and source (formulas: phoenix_dagster/transforms/quality.py).
-- grain: date, PostalCode, source
select * from lake.quality_daily
order by date, PostalCode, source
