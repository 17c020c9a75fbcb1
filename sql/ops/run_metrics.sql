-- Per partition and stage, what the partition's latest collection and enrichment measured:
-- throughput, latency, errors, 429s, timeouts, CPU, memory, and the batch size and
-- concurrency used.
-- grain: partition, stage
select * from lake.run_metrics
order by partition, stage
