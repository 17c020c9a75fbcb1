-- Bytes held by the lake, the published warehouse and MongoDB, measured by each warehouse build.
-- grain: run_id, store
select run_id, date, store, bytes, measured_at
from bookkeeping.storage_usage
order by measured_at, store
