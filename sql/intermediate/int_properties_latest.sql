-- The latest observation of each property, with when any source first and last returned it.
-- A property that only listings made (unmatched or ambiguous) is left out once none of its
-- listings resolves to it any more (the resolver found their parcel): no duplicate house remains.
-- Only such listing-made observations are left out; a parcel's own never are.
-- grain: property_id
with current_resolution as (
    select source, ListingKey, arg_max(property_id, row(observed_date, observed_at)) as property_id
    from staging.stg_lake__listings_matched
    group by source, ListingKey
),
superseded as (
    select distinct observation.property_id
    from staging.stg_lake__enriched_properties as observation
    join current_resolution as resolution
        on resolution.source = observation.listing_source and resolution.ListingKey = observation.ListingKey
    where observation.match_method in ('unmatched_listing', 'ambiguous')
        and resolution.property_id <> observation.property_id
        and not exists (select 1 from current_resolution as now where now.property_id = observation.property_id)
),
observations as (
    select observation.*
    from staging.stg_lake__enriched_properties as observation
    where not (observation.match_method in ('unmatched_listing', 'ambiguous')
               and exists (select 1 from superseded where superseded.property_id = observation.property_id))
)
select * exclude (observation_rank)
from (
    select
        observation.*,
        min(observation.observed_at) over (partition by observation.property_id) as first_seen_at,
        max(observation.observed_at) over (partition by observation.property_id) as last_seen_at,
        row_number() over (
            partition by observation.property_id
            order by observation.observed_date desc, observation.observed_at desc
        ) as observation_rank
    from observations as observation
)
where observation_rank = 1
