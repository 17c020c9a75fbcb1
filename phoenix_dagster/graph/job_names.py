"""The jobs' names and the tag the run queue limits, shared by definitions, sensors and the CLI."""

DAILY_REFRESH = "daily_refresh"  # one run per day × ZIP partition; writes the lake only
BUILD_WAREHOUSE = "build_warehouse"  # the warehouse's only writer; once after the day's partitions
WAREHOUSE_WRITER_TAG = "phoenix/warehouse-writer"  # the run queue starts one run with this tag at a time
DELIVER_ALERTS = "deliver_alerts"  # the small run the alert sensor requests: sends what is owed, records it
COMPACT_RAW_BODIES = "compact_raw_bodies"  # daily: raw county bodies past the retention lose owners' names
TUNE_BATCHES = "tune_batches"  # the small run the tuning sensor requests: batch_tuning decides and records
PROBE_SERVICES = "probe_services"  # every few minutes (its sensor): each configured dependency probed, recorded
ASSET_JOB = "__ASSET_JOB"  # Dagster's job for what the UI launches from the asset graph
REPORT_DAYS_TAG = "phoenix/report_days"  # a build run's tag: the days whose HTML report it rewrites
BUILT_BY_COMMAND_TAG = "phoenix/built_by_command"  # a partition run whose command builds the warehouse itself
