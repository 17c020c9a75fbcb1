-- The every_partition_scored_overall check (phoenix_dagster/graph/check_factories.py): one row, passed and detail.
select count(*) = 0 as passed,
       count(*) || ' partition(s) without a resolved row' || coalesce(': ' || string_agg(partition, ', '), '')
           as detail
from (select distinct cast(date as varchar) || '|' || PostalCode as partition from ops.quality_daily
      except select distinct cast(date as varchar) || '|' || PostalCode from ops.quality_daily
      where source = 'resolved')
