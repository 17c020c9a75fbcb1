-- Read by refresh_recommendation (phoenix_dagster/report/sections.py) for the daily HTML report.
select usd from ops.unit_prices where service = 'maricopa_request'
