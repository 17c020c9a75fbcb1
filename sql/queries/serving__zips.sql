-- Read by documents_by_zip (phoenix_dagster/documents/properties.py): the ZIPs whose documents are
-- written one batch at a time.
select distinct PostalCode from marts.properties order by PostalCode
