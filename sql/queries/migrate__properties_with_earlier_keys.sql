-- Read by phoenix-estate migrate (phoenix_dagster/cli/migrate.py): how many properties of the
-- published warehouse still have a property_id an earlier version made (without the county).
select count(*) as n from marts.properties where not regexp_matches(property_id, $1)
