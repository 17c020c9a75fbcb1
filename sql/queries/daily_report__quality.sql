-- Read by daily_report (assets/serving.py): quality per day, ZIP and source.
select date, PostalCode, source, records, completeness, validity, freshness_hours, duplicate_rate, agreement,
       overall_score, status, issues
from ops.quality_daily
