-- Read by documents_by_zip (phoenix_dagster/documents/properties.py): the listing events of one
-- ZIP's properties ($1: the ZIP), for their price histories.
select * from marts.listing_events
where property_id in (select property_id from marts.properties where PostalCode is not distinct from $1)
