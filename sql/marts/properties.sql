-- One row per property in metro Phoenix: the resolved, enriched latest state, RESO names.
-- Contract: phoenix_dagster/schemas/marts.py (Properties); checked after every build.
-- grain: property_id
select * exclude (ListingKey, listing_source, observed_date, observed_at)
from intermediate.int_properties_latest
order by PostalCode, property_id
