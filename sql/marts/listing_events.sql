-- The history of every listing, from the changes between consecutive observations:
-- listed (first seen), price_change, status_change, sold (status became Closed).
-- A listing first seen already Closed yields only its sale. Every event belongs to the property
-- the listing resolves to now (its latest observation's): when the resolver corrects a match,
-- the listing's whole history moves with it.
-- grain: source, ListingKey, event, observed_at
with observations as (
    select
        * replace (last(property_id) over (
            partition by source, ListingKey order by observed_date, observed_at
            rows between unbounded preceding and unbounded following) as property_id),
        lag(ListPrice) over listing_history as previous_price,
        lag(StandardStatus) over listing_history as previous_status,
        row_number() over listing_history as observation_number
    from staging.stg_lake__listings_matched
    window listing_history as (partition by source, ListingKey order by observed_date, observed_at)
),
events as (
    select property_id, ListingId, ListingKey, source, 'listed' as event,
           null as old_value, cast(ListPrice as varchar) as new_value, observed_at
    from observations
    where observation_number = 1 and StandardStatus is distinct from 'Closed'
    union all
    select property_id, ListingId, ListingKey, source, 'price_change',
           cast(previous_price as varchar), cast(ListPrice as varchar), observed_at
    from observations
    where observation_number > 1 and ListPrice is distinct from previous_price
    union all
    select property_id, ListingId, ListingKey, source,
           case when StandardStatus = 'Closed' then 'sold' else 'status_change' end,
           previous_status, StandardStatus, observed_at
    from observations
    where observation_number > 1 and StandardStatus is distinct from previous_status
    union all
    select property_id, ListingId, ListingKey, source, 'sold',
           null, cast(coalesce(ClosePrice, ListPrice) as varchar), observed_at
    from observations
    where observation_number = 1 and StandardStatus = 'Closed'
)
select * from events
order by property_id, observed_at, event
