-- Every alert, one per condition per day: where it went, which channels still owe it, and
-- whether it was delivered, is still owed (tried again every tick of the alert sensor) or was
-- given up on after 7 days (undeliverable). Rows written before `status` existed were delivered
-- to the channels they name.
-- grain: day, condition
select day, condition, severity, message, channels, coalesce(owed, []::varchar[]) as owed,
       coalesce(status, 'delivered') as status, coalesce(first_attempt_at, sent_at) as first_attempt_at, sent_at
from control.alerts
order by day, condition
