-- How well each listing source's listings found their parcels, per ZIP and day: by each stage
-- of the resolver (APN, exact address, house number + street, scored street name), ambiguous
-- (two or more parcels fit: none guessed) or not at all — and whether the day's match rate fell
-- more than 5 points below its median over the 14 days before (a quality issue and an alert;
-- judged only with at least 7 earlier days and 10 listings that day, so one miss among three
-- listings, or a baseline of one day, does not alert).
-- grain: source, PostalCode, date
with daily as (
    select
        source,
        PostalCode,
        observed_date as date,
        count(*) as listings,
        count(*) filter (where match_method = 'apn') as matched_by_apn,
        count(*) filter (where match_method = 'address') as matched_by_address,
        count(*) filter (where match_method = 'street') as matched_by_street,
        count(*) filter (where match_method = 'fuzzy') as matched_by_fuzzy,
        count(*) filter (where match_method = 'ambiguous') as ambiguous,
        count(*) filter (where match_method = 'unmatched_listing') as unmatched,
        round(count(*) filter (where match_method in ('apn', 'address', 'street', 'fuzzy')) / count(*), 4) as match_rate
    from staging.stg_lake__listings_matched
    group by all
),
with_baseline as (
    select
        *,
        median(match_rate) over baseline as match_rate_14d_median,
        count(*) over baseline as baseline_days
    from daily
    window baseline as (
        partition by source, PostalCode order by date
        range between interval 14 days preceding and interval 1 day preceding
    )
)
select
    * exclude (baseline_days),
    coalesce(baseline_days >= 7 and listings >= 10 and match_rate < match_rate_14d_median - 0.05, false)
        as match_rate_dropped
from with_baseline
order by source, PostalCode, date
