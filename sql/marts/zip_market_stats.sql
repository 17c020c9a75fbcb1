-- Market summary per ZIP and day: how many properties were seen, how many are for sale or under
-- contract, the medians analysts ask for first, and the day's listing activity — new listings,
-- price cuts, sales with their median price, days on market (the feed's DaysOnMarket at the
-- sale) and list-to-sale ratio (ClosePrice over the list price the day before).
-- "Active" means Active, ActiveUnderContract or ComingSoon. A listing counts as new on its first
-- day only when its ZIP was observed on an earlier day (the first day of data is no one's news).
-- grain: PostalCode, date
with properties as (
    select
        PostalCode,
        observed_date as date,
        count(*) as property_count,
        count(*) filter (where StandardStatus in ('Active', 'ActiveUnderContract', 'ComingSoon')) as active_listings,
        count(*) filter (where StandardStatus in ('Pending', 'ActiveUnderContract')) as pending_listings,
        cast(median(ListPrice) filter (
            where StandardStatus in ('Active', 'ActiveUnderContract', 'ComingSoon')
        ) as double) as median_list_price,
        cast(median(ListPrice / nullif(LivingArea, 0)) filter (
            where StandardStatus in ('Active', 'ActiveUnderContract', 'ComingSoon')
        ) as double) as median_price_per_sqft,
        cast(median(YearBuilt) as double) as median_year_built
    from staging.stg_lake__enriched_properties
    group by PostalCode, observed_date
),
observations as (
    select
        PostalCode,
        observed_date as date,
        ListPrice,
        ClosePrice,
        DaysOnMarket,
        StandardStatus,
        lag(ListPrice) over listing as previous_price,
        lag(StandardStatus) over listing as previous_status,
        min(observed_date) over listing_all as listing_first_day,
        min(observed_date) over (partition by PostalCode) as zip_first_day
    from staging.stg_lake__listings_matched
    window listing as (partition by source, ListingKey order by observed_date),
           listing_all as (partition by source, ListingKey)
),
activity as (
    select
        PostalCode,
        date,
        count(*) filter (where date = listing_first_day and date > zip_first_day) as new_listings,
        count(*) filter (where ListPrice < previous_price) as price_cuts,
        count(*) filter (where StandardStatus = 'Closed' and previous_status is distinct from 'Closed'
                         and date > zip_first_day) as closed_sales,
        cast(median(ClosePrice) filter (where StandardStatus = 'Closed' and previous_status is distinct from 'Closed'
                                        and date > zip_first_day) as double) as median_sale_price,
        cast(median(DaysOnMarket) filter (where StandardStatus = 'Closed' and previous_status is distinct from 'Closed'
                                           and date > zip_first_day) as double) as median_days_on_market,
        cast(median(ClosePrice / nullif(previous_price, 0)) filter (
            where StandardStatus = 'Closed' and previous_status is distinct from 'Closed'
        ) as double) as list_to_sale_ratio
    from observations
    group by PostalCode, date
)
select
    properties.*,
    coalesce(activity.new_listings, 0) as new_listings,
    coalesce(activity.price_cuts, 0) as price_cuts,
    coalesce(activity.closed_sales, 0) as closed_sales,
    activity.median_sale_price,
    activity.median_days_on_market,
    activity.list_to_sale_ratio
from properties
left join activity using (PostalCode, date)
order by PostalCode, date
