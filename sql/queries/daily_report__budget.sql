-- Read by daily_report (assets/serving.py): the month's budget status.
select * from ops.budget_status
