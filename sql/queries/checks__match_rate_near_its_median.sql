-- The match_rate_near_its_median check (phoenix_dagster/graph/check_factories.py): one row, passed and detail.
select count(*) = 0 as passed,
       coalesce(string_agg(source || ' in ' || PostalCode || ': ' || round(100 * match_rate, 1) || '% vs '
                || round(100 * match_rate_14d_median, 1) || '%', '; '), 'none') as detail
from marts.listing_match_rates
where match_rate_dropped and date = (select max(date) from marts.listing_match_rates)
