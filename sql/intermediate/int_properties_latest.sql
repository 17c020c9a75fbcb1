-- The latest observation of each property, with when any source first and last returned it.
-- grain: property_id
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
)
where observation_rank = 1
