-- Read by daily_report (assets/serving.py): each partition's quarantined records by asset
-- and reason, the most frequent first.
select partition, asset, reason, count(*) as records from ops.quarantine group by all order by records desc
