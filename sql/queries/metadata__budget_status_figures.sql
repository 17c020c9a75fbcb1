-- Read by the key figures a built table shows in the Dagster UI (phoenix_dagster/warehouse/model_metadata.py).
select round(month_to_date_usd, 2) as month_to_date_usd, round(projected_month_usd, 2) as projected_month_usd,
       round(1000 * cost_per_property_usd, 4) as usd_per_1000_properties
from ops.budget_status order by month desc limit 1
