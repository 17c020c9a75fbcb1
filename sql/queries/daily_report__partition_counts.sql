-- Read by daily_report (assets/serving.py): each partition's counts.
select * exclude (run_id, recorded_at) from ops.partition_counts
