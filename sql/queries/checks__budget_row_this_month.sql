-- The budget_row_this_month check (phoenix_dagster/graph/check_factories.py): one row, passed and detail.
select count(*) filter (where month = (select strftime(max(date), '%Y-%m') from ops.cost_events)) = 1
       or (select count(*) from ops.cost_events) = 0 as passed,
       'latest cost month: ' || coalesce((select strftime(max(date), '%Y-%m') from ops.cost_events), 'none')
       || '; months with a budget row: ' || coalesce(string_agg(month, ', ' order by month), 'none') as detail
from ops.budget_status
