-- Every run's stage metrics as each asset recorded them, serving's included: the history the
-- tuning decisions and the scaling questions are answered from.
-- grain: run_id, asset, partition, stage
select * from bookkeeping.stage_metrics
order by recorded_at, stage
