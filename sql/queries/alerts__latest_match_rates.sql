-- Read by the alert sensor (phoenix_dagster/automation/sensors.py).
select * from marts.listing_match_rates where date = (select max(date) from marts.listing_match_rates)
