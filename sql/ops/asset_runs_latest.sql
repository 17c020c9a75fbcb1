-- The latest successful run of each asset and partition: what the lake holds now, and what the
-- other ops models count from.
-- grain: asset, partition
select
    asset,
    partition,
    date,
    split_part(partition, '|', 2) as PostalCode,
    arg_max(run_id, finished_at) as run_id,
    arg_max(rows_out, finished_at) as rows_out,
    max(finished_at) as finished_at
from bookkeeping.run_log
where succeeded and partition is not null
group by asset, partition, date
order by partition, asset
