-- Read by the key figures a built table shows in the Dagster UI (phoenix_dagster/warehouse/model_metadata.py).
select sum(active_listings) as active_listings_latest_day,
       round(median(median_list_price)) as median_list_price_usd_latest_day
from marts.zip_market_stats where date = (select max(date) from marts.zip_market_stats)
