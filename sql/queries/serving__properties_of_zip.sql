-- Read by documents_by_zip (phoenix_dagster/documents/properties.py): one ZIP's properties ($1: the
-- ZIP; null for properties without one).
select * from marts.properties where PostalCode is not distinct from $1
