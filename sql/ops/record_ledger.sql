-- Per staging asset, source and partition, every record the source offered and where it went:
-- offered = staged + unchanged + out_of_scope + not_found + quarantined + duplicates, as the
-- latest successful run of each staging asset counted them (checked by records_accounted_for).
-- grain: asset, partition, source
select
    entry.run_id, entry.asset, entry.partition, entry.source, entry.offered, entry.staged, entry.unchanged,
    entry.out_of_scope, entry.not_found, entry.quarantined, entry.duplicates, entry.payloads,
    entry.unreadable_payloads, entry.recorded_at
from bookkeeping.record_ledger as entry
join ops.asset_runs_latest as latest
    on latest.asset = entry.asset and latest.partition = entry.partition and latest.run_id = entry.run_id
order by entry.partition, entry.asset, entry.source
