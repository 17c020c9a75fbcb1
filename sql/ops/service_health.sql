-- Every probe of every configured dependency, newest last: state, latency and the reason.
-- grain: checked_at, service
select checked_at, service, required, state, latency_ms, detail, run_id
from control.service_health
order by checked_at, service
