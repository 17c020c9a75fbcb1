-- Read by the run summary phoenix-estate prints (phoenix_dagster/cli/summary.py).
select split_part(partition, '|', 2) as zip, replace(asset, 'stg_', '') as asset, source, offered, staged, unchanged, out_of_scope, not_found, quarantined, duplicates from ops.record_ledger where split_part(partition, '|', 1) = ? order by zip, asset, source
