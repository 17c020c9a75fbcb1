-- Records rejected on the way in, with the reason and the record (owners' names and addresses
-- withheld; null when it is not JSON, its hash and length naming its bytes in the raw layer), as the latest
-- successful run of each asset and partition left them (a re-run replaces its own rejects).
-- grain: none (one record can be rejected for two reasons)
select
    rejected.run_id,
    rejected.source,
    rejected.asset,
    rejected.partition,
    rejected.record_key,
    rejected.reason,
    rejected.raw_record,
    rejected.payload_sha256,
    rejected.raw_bytes,
    rejected.quarantined_at
from bookkeeping.quarantine as rejected
join ops.asset_runs_latest as latest
    on latest.asset = rejected.asset and latest.partition = rejected.partition and latest.run_id = rejected.run_id
order by rejected.partition, rejected.asset, rejected.record_key
