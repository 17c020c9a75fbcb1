-- Every listing observation in the lake: one row per listing per source per observed day,
-- with the property it resolved to. Only selects and pins types.
-- grain: source, ListingKey, observed_date
select
    source,
    ListingKey,
    ListingId,
    property_id,
    match_method,
    match_confidence,
    match_candidates,
    PostalCode,
    StandardStatus,
    cast(ListPrice as double) as ListPrice,
    cast(ClosePrice as double) as ClosePrice,
    cast(DaysOnMarket as integer) as DaysOnMarket,
    ModificationTimestamp,
    fetched_at as observed_at,
    observed_date
from lake.int_listings_matched
