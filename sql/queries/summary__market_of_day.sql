-- Read by the run summary phoenix-estate prints (phoenix_dagster/cli/summary.py).
select PostalCode, active_listings, median_list_price, median_price_per_sqft from marts.zip_market_stats where date = ? order by PostalCode
