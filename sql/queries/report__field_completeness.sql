-- Read by quality (phoenix_dagster/report/sections.py) for the daily HTML report.
select source, f.field, round(avg(f.share), 4) as share
from (select source, unnest(field_completeness) as f from ops.quality_daily
      where date = (select max(date) from ops.quality_daily where date <= ?))
group by all order by source, share
