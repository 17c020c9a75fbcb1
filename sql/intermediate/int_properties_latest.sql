-- The latest observation of each property, with when any source first and last returned it.
-- A property that only a listing made (unmatched or ambiguous) is left out once that listing
-- resolves to another property (the resolver found its parcel): no duplicate house remains.
-- grain: property_id
with current_resolution as (
    select source, ListingKey, arg_max(property_id, observed_date) as property_id
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
    from staging.stg_lake__enriched_properties as observation
    where observation.property_id not in (select property_id from superseded)
)
where observation_rank = 1
