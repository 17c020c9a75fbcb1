-- One row per property in metro Phoenix: the resolved, enriched latest state, RESO names.
-- Contract: phoenix_dagster/schemas/marts.py (Properties); checked after every build.
-- grain: property_id
select
    property_id,
    ParcelNumber,
    UnparsedAddress,
    City,
    PostalCode,
    PropertyType,
    LivingArea,
    YearBuilt,
    LotSizeSquareFeet,
    BedroomsTotal,
    BathroomsTotalInteger,
    GarageSpaces,
    PoolPrivateYN,
    AssociationYN,
    AssociationFee,
    ListPrice,
    StandardStatus,
    ListingId,
    FullCashValue,
    Latitude,
    Longitude,
    sources,
    match_method,
    enrichment_method,
    enriched_fields,
    first_seen_at,
    last_seen_at
from intermediate.int_properties_latest
order by PostalCode, property_id
