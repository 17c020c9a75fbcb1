-- Cost per day and service, added up from ops.cost_events.
-- grain: date, service
select date, service, sum(quantity) as quantity, any_value(unit) as unit, sum(cost_usd) as cost_usd
from ops.cost_events
group by date, service
order by date, service
