-- How well each listing source's listings found their parcels, per ZIP and day:
-- by APN, by normalised address, or not at all.
-- grain: source, PostalCode, date
select
    source,
    PostalCode,
    observed_date as date,
    count(*) as listings,
    count(*) filter (where match_method = 'apn') as matched_by_apn,
    count(*) filter (where match_method = 'address') as matched_by_address,
    count(*) filter (where match_method = 'unmatched_listing') as unmatched,
    round(count(*) filter (where match_method <> 'unmatched_listing') / count(*), 4) as match_rate
from staging.stg_lake__listings_matched
group by all
order by source, PostalCode, date
