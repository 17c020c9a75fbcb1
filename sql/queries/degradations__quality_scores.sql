-- Read by ops.degradations (assets/warehouse_build.py): each source's daily quality score, dated
-- by its partition day, judged as a stage of its own.
select 'quality:' || source as stage,
       cast(date as varchar) || '|' || PostalCode as partition,
       cast(date as timestamp with time zone) as recorded_at,
       overall_score as quality_score
from ops.quality_daily
where overall_score is not null
