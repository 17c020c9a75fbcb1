"""How a `daily_refresh` run executes its steps (PHOENIX_EXECUTOR): in its own process (the
default), a process per step, or as Celery tasks that workers on any machine take from a broker.

The Celery broker and result backend can hold passwords, so they stay in the environment: with
PHOENIX_CELERY_BROKER / PHOENIX_CELERY_BACKEND set, the executor's config names the variable
(Dagster reads it when the run starts), never the value; unset, the loopback defaults below, which
hold none. The workers build their Celery app from the same function (`celery_app_args`, used by
`phoenix_dagster.celery_worker`), so both sides agree on broker, backend and queue. Celery is
imported only when chosen.
"""

from __future__ import annotations

import warnings

import dagster as dg

from phoenix_dagster.settings import Settings

DEFAULT_CELERY_BROKER = "pyamqp://guest@127.0.0.1:5672//"  # the machine's RabbitMQ; no password in it
DEFAULT_CELERY_BACKEND = "rpc://"  # results return over the broker: nothing else to run


def partition_executor(settings: Settings) -> dg.ExecutorDefinition:
    if settings.executor == "multiprocess":
        return dg.multiprocess_executor
    if settings.executor == "celery":
        from celery.exceptions import DuplicateTaskNameWarning
        from dagster_celery import celery_executor

        # dagster-celery 0.29 registers its step task again for each step it submits, and Celery 5.7
        # warns each time (the first registration, the same function, is the one used).
        warnings.filterwarnings(
            "ignore", message="Task name 'execute_plan' is already registered", category=DuplicateTaskNameWarning
        )
        return celery_executor.configured(celery_executor_config(settings), name="celery")
    return dg.in_process_executor


def celery_executor_config(settings: Settings) -> dict:
    """The celery executor's config: broker and backend as `{"env": NAME}` when set (secrets),
    and the queue the steps are sent to (the workers must consume it: `-Q`)."""

    def url(name: str, default: str):
        return {"env": name} if settings.has_secret(name) else default

    return {
        "broker": url("PHOENIX_CELERY_BROKER", DEFAULT_CELERY_BROKER),
        "backend": url("PHOENIX_CELERY_BACKEND", DEFAULT_CELERY_BACKEND),
        "config_source": {"task_default_queue": settings.celery_queue},
    }


def celery_app_args(settings: Settings) -> dict:
    """The Celery app arguments the executor's config resolves to here (Dagster reads the
    variables it names, as when a run starts): what a worker must use to take this deployment's
    steps."""
    from dagster_celery import celery_executor
    from dagster_celery.executor import CeleryExecutor

    from phoenix_dagster.automation.dagster_private import resolved_config

    config = resolved_config(celery_executor.config_schema, celery_executor_config(settings))
    return CeleryExecutor.for_cli(
        broker=config["broker"], backend=config["backend"], config_source=config["config_source"]
    ).app_args()
