-- Data quality per day, ZIP and source (formulas: phoenix_dagster/transforms/quality.py), with
-- each listing source's resolution beside it (marts.listing_match_rates): its match rate, the
-- median of the 14 days before, ambiguous and unmatched listings. A match rate more than 5
-- points below that median is one of the row's issues.
-- grain: date, PostalCode, source
select
    quality.* replace (
        case when rates.match_rate_dropped
             then list_append(quality.issues, 'match rate ' || round(100 * rates.match_rate, 1) || '% is more than 5 '
                              || 'points below its 14-day median ' || round(100 * rates.match_rate_14d_median, 1) || '%')
             else quality.issues end as issues
    ),
    rates.match_rate,
    rates.match_rate_14d_median,
    rates.matched_by_apn + rates.matched_by_address + rates.matched_by_street + rates.matched_by_fuzzy
        as matched_listings,
    rates.ambiguous as ambiguous_listings,
    rates.unmatched as unmatched_listings
from lake.quality_daily as quality
left join marts.listing_match_rates as rates
    on quality.source = 'listing:' || rates.source
    and quality.PostalCode = rates.PostalCode
    and quality.date = rates.date
order by quality.date, quality.PostalCode, quality.source
