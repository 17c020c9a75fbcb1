-- Each month against the budget in data/unit_prices.yaml: spent so far, projected to the end
-- of the month, cost per property collected, and the alert levels at 80% and 95%.
-- grain: month
with budget as (
    select budget_usd from ops.monthly_budget
),
months as (
    select strftime(date, '%Y-%m') as month, sum(cost_usd) as month_to_date_usd,
           count(distinct date) as days_with_data, max(date) as last_day
    from ops.cost_events
    group by 1
),
projected as (
    select *, month_to_date_usd / days_with_data * day(last_day(last_day)) as projected_month_usd
    from months
),
collected as (
    select strftime(observed_date, '%Y-%m') as month, count(distinct property_id) as properties
    from staging.stg_lake__enriched_properties
    group by 1
)
select
    projected.month,
    projected.month_to_date_usd,
    projected.projected_month_usd,
    budget.budget_usd,
    projected.month_to_date_usd / nullif(collected.properties, 0) as cost_per_property_usd,
    coalesce(collected.properties, 0) as properties_collected,
    case when projected.month_to_date_usd >= 0.95 * budget.budget_usd then 'CRITICAL'
         when projected.month_to_date_usd >= 0.80 * budget.budget_usd then 'WARNING'
         else 'OK' end as level,
    case when projected.projected_month_usd >= 0.95 * budget.budget_usd then 'CRITICAL'
         when projected.projected_month_usd >= 0.80 * budget.budget_usd then 'WARNING'
         else 'OK' end as projected_level
from projected
cross join budget
left join collected on collected.month = projected.month
order by projected.month
