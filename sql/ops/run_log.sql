-- One row per run and asset: rows read, written and quarantined, time taken, and whether the
-- asset's body succeeded (a failed one still records what it did).
-- grain: run_id, asset, partition
select run_id, asset, partition, date, succeeded, error, rows_in, rows_out, rows_quarantined, duration_s, finished_at
from bookkeeping.run_log
order by finished_at, asset
