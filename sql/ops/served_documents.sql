-- Per serving run and ZIP, the property documents served (MongoDB or the export) and how many were written whole.
-- grain: run_id, PostalCode
select run_id, PostalCode, documents, content_writes, target, served_at
from bookkeeping.served_documents
order by served_at, PostalCode
