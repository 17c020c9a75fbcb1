-- Alerts sent, one per condition per day, and where they went.
-- grain: day, condition
select day, condition, severity, message, channels, sent_at
from control.alerts
order by day, condition
