-- Per serving run and ZIP, the property documents written to MongoDB.
-- grain: run_id, PostalCode
select run_id, PostalCode, documents, upserted, modified, target, served_at
from bookkeeping.served_documents
order by served_at, PostalCode
