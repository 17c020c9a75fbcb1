-- Market summary per ZIP and day: how many properties were seen, how many are for sale, and
-- the medians analysts ask for first. "Active" means Active, ActiveUnderContract or ComingSoon.
-- grain: PostalCode, date
select
    PostalCode,
    observed_date as date,
    count(*) as property_count,
    count(*) filter (where StandardStatus in ('Active', 'ActiveUnderContract', 'ComingSoon')) as active_listings,
    cast(median(ListPrice) filter (
        where StandardStatus in ('Active', 'ActiveUnderContract', 'ComingSoon')
    ) as double) as median_list_price,
    cast(median(ListPrice / nullif(LivingArea, 0)) filter (
        where StandardStatus in ('Active', 'ActiveUnderContract', 'ComingSoon')
    ) as double) as median_price_per_sqft,
    cast(median(YearBuilt) as double) as median_year_built
from staging.stg_lake__enriched_properties
group by PostalCode, observed_date
order by PostalCode, date
