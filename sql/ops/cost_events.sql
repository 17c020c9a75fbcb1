-- Every billable thing, priced by ops.unit_prices: each run's source requests, proxy traffic and
-- model tokens and hours (bookkeeping usage), the compute time of every asset it ran (run log),
-- and each day's share of a GB-month for what the stores held (the day's last measurement).
-- grain: run_id, partition, service, item
with storage as (
    select
        date,
        run_id,
        case store when 'mongodb' then 'mongodb_gb_month' else 'storage_gb_month' end as service,
        store as item,
        bytes / 1e9 / day(last_day(date)) as quantity,
        measured_at as recorded_at
    from bookkeeping.storage_usage
    qualify row_number() over (partition by date, store order by measured_at desc) = 1
),
used as (
    select date, coalesce(partition, cast(date as varchar)) as partition, run_id, service, item,
           sum(quantity) as quantity, max(recorded_at) as recorded_at
    from bookkeeping.usage
    group by all
    union all
    select date, coalesce(partition, cast(date as varchar)), run_id, 'compute_hour', asset,
           sum(duration_s) / 3600, max(finished_at)
    from bookkeeping.run_log
    group by all
    union all
    select date, cast(date as varchar), run_id, service, item, quantity, recorded_at
    from storage
)
select
    used.date,
    used.partition,
    used.run_id,
    used.service,
    used.item,
    used.quantity,
    coalesce(price.unit, 'unit') as unit,
    coalesce(price.usd, 0) as unit_price_usd,
    used.quantity * coalesce(price.usd, 0) as cost_usd,
    used.recorded_at
from used
left join ops.unit_prices as price on price.service = used.service
order by used.date, used.partition, used.service, used.item
