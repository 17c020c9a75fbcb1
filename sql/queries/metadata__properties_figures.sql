-- Read by the key figures a built table shows in the Dagster UI (phoenix_dagster/warehouse/model_metadata.py).
select count(*) as properties,
       count(*) filter (where StandardStatus in ('Active', 'ActiveUnderContract', 'ComingSoon')) as active_listings,
       round(median(ListPrice) filter (where StandardStatus in ('Active', 'ActiveUnderContract', 'ComingSoon')))
           as median_active_list_price_usd,
       round(100.0 * count(*) filter (where match_method in ('unmatched_listing', 'ambiguous'))
             / nullif(count(*) filter (where match_method <> 'assessor_only'), 0), 1) as unmatched_listing_pct
from marts.properties
