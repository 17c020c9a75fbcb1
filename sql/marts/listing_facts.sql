-- One row per listing: the facts its description states, from its latest reading, with how
-- they were read (llm, cache, rules, none), the model and prompt version, each value's
-- evidence, values rejected for being out of bounds, and why the rules answered if they did.
-- grain: source, ListingKey
select * exclude (reading_rank)
from (
    select
        facts.*,
        row_number() over (partition by source, ListingKey order by observed_date desc) as reading_rank
    from lake.listing_text_facts as facts
)
where reading_rank = 1
order by PostalCode, property_id, source, ListingKey
