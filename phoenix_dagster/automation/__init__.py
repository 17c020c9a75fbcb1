"""What runs without a person: sensors, schedules, executors, and the resource that names a run's
worker."""
