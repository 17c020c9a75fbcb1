-- Per run and stage, what the run measured: throughput, latency, errors, 429s, timeouts, CPU,
-- memory, and the batch size and concurrency used.
-- grain: run_id, partition, stage
select * from lake.run_metrics
order by recorded_at, stage
