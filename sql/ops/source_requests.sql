-- What each run asked of each source, by endpoint, outcome and HTTP status: attempts, retries,
-- bytes, time in requests and time held back by the rate limit.
-- grain: run_id, asset, partition, source, endpoint, outcome, status
select run_id, asset, partition, source, endpoint, outcome, status, requests, retries, bytes, seconds,
       rate_limit_wait_s, recorded_at
from bookkeeping.source_requests
order by recorded_at, source, endpoint
