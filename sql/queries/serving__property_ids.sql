-- Read by mongo_properties (assets/serving.py): the properties the mart holds, to count what the
-- documents served.
select property_id from marts.properties
