"""The Celery app a worker runs to execute `daily_refresh` steps (PHOENIX_EXECUTOR=celery):

    PHOENIX_EXECUTOR=celery celery -A phoenix_dagster.celery_worker worker -Q "$PHOENIX_CELERY_QUEUE" \\
        -n worker1@%h --concurrency 1 --prefetch-multiplier 1

It is dagster-celery's step task on an app built from this process's settings (broker, backend and
queue exactly as the executor sends them; the broker's URL read from the environment here, never
written to a file the way `dagster-celery worker start -y` does). A worker needs the environment
the code location is built from (PHOENIX_DATA_DIR or the lake's URL, PHOENIX_ZIP_CODES,
PHOENIX_FIRST_DATE, the sources' settings and secrets): each step rebuilds the job from
`phoenix_dagster.code_location` and writes its events to the run's instance (the instance's
reference travels with the task).
"""

from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_task

from phoenix_dagster.automation.executors import celery_app_args
from phoenix_dagster.settings import Settings

app = make_app(celery_app_args(Settings.from_env()))
execute_plan = create_task(app)
