-- Per run and listing source, what one fetch delivered and whether it saw the whole ZIP: a
-- complete source cut short (a search page that failed) replaces none of its earlier listings.
-- grain: run_id, partition, source
select run_id, asset, partition, source, complete, payloads, failures, cut_short, recorded_at
from bookkeeping.source_fetches
order by recorded_at, source
