-- Every enriched property observation in the lake: one row per property per observed day.
-- Only selects and pins types for the warehouse; nothing is joined or filtered.
-- grain: property_id, observed_date
select
    property_id,
    ParcelNumber,
    UnparsedAddress,
    City,
    PostalCode,
    PropertyType,
    cast(LivingArea as double) as LivingArea,
    cast(YearBuilt as integer) as YearBuilt,
    cast(LotSizeSquareFeet as double) as LotSizeSquareFeet,
    cast(BedroomsTotal as integer) as BedroomsTotal,
    cast(BathroomsTotalInteger as integer) as BathroomsTotalInteger,
    cast(GarageSpaces as double) as GarageSpaces,
    PoolPrivateYN,
    AssociationYN,
    cast(AssociationFee as double) as AssociationFee,
    cast(ListPrice as double) as ListPrice,
    StandardStatus,
    ListingKey,
    ListingId,
    listing_source,
    cast(FullCashValue as double) as FullCashValue,
    Latitude,
    Longitude,
    sources,
    match_method,
    enrichment_method,
    enriched_fields,
    observed_date,
    observed_at
from lake.enriched_properties
