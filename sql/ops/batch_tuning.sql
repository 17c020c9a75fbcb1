-- Every decision of the tuning controller, with the run whose metrics drove it; the next run of
-- a stage uses the latest.
-- grain: stage, run_id
select decided_at, stage, run_id, batch_size_old, batch_size_new, concurrency_old, concurrency_new, reason
from control.batch_tuning
order by decided_at, stage
