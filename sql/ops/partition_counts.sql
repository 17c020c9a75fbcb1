-- What one day × ZIP produced, from the latest successful run of each of its assets: payloads
-- landed, county requests and parcel details received, records staged, properties resolved and
-- matched, records quarantined.
-- grain: date, PostalCode
with collection as (
    select partition, run_id from ops.asset_runs_latest where asset = 'raw_assessor_payloads'
),
county as (
    select
        requests.partition,
        sum(requests.requests) filter (where requests.endpoint in ('search', 'parcel')) as assessor_requests,
        sum(requests.requests) filter (where requests.endpoint = 'parcel' and requests.status = 200) as parcels_collected
    from bookkeeping.source_requests as requests
    join collection on collection.partition = requests.partition and collection.run_id = requests.run_id
    where requests.asset = 'raw_assessor_payloads'
    group by requests.partition
),
written as (
    select
        partition,
        date,
        PostalCode,
        sum(rows_out) filter (where asset like 'raw\_%' escape '\') as raw_payloads,
        sum(rows_out) filter (where asset = 'stg_assessor__parcels') as parcels,
        sum(rows_out) filter (where asset = 'stg_listings__listings') as listings,
        max(finished_at) as recorded_at
    from ops.asset_runs_latest
    group by partition, date, PostalCode
),
resolved as (
    select
        observed_date as date,
        PostalCode,
        count(*) as properties,
        count(*) filter (where ListingKey is not null) as with_listing,
        count(*) filter (where match_method in ('unmatched_listing', 'ambiguous')) as unmatched_listings,
        count(*) filter (where match_method = 'ambiguous') as ambiguous_listings
    from lake.enriched_properties
    group by observed_date, PostalCode
),
rejected as (
    select partition, count(*) as quarantined from ops.quarantine group by partition
)
select
    written.date,
    written.PostalCode,
    collection.run_id,
    cast(coalesce(written.raw_payloads, 0) as bigint) as raw_payloads,
    cast(coalesce(county.assessor_requests, 0) as bigint) as assessor_requests,
    cast(coalesce(county.parcels_collected, 0) as bigint) as parcels_collected,
    cast(round(county.assessor_requests / nullif(county.parcels_collected, 0), 4) as double) as requests_per_parcel,
    cast(coalesce(written.parcels, 0) as bigint) as parcels,
    cast(coalesce(written.listings, 0) as bigint) as listings,
    coalesce(resolved.properties, 0) as properties,
    coalesce(resolved.with_listing, 0) as with_listing,
    coalesce(resolved.unmatched_listings, 0) as unmatched_listings,
    coalesce(resolved.ambiguous_listings, 0) as ambiguous_listings,
    coalesce(rejected.quarantined, 0) as quarantined,
    written.recorded_at
from written
join collection on collection.partition = written.partition
left join county on county.partition = written.partition
left join resolved on resolved.date = written.date and resolved.PostalCode = written.PostalCode
left join rejected on rejected.partition = written.partition
order by written.date, written.PostalCode
