"""The run's worker process, as the concurrency pools need to know it."""

from __future__ import annotations

import multiprocessing

import dagster as dg

from phoenix_dagster.pools import PID_TAG, free_slots_of_dead_runs, worker_tags


class RunWorkerResource(dg.ConfigurableResource):
    """Required by every asset in a pool. When a run starts, before any of its steps claims a pool
    slot: names the run's worker process in the run's tags (so a later run can tell it died), and
    frees the slots of runs whose worker is gone."""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        instance, run = context.instance, context.dagster_run
        if instance is None or run is None:
            return
        # The process that claims slots: this one, unless it is a step process of the
        # multiprocess executor (a child of the run's orchestrating process, which claims).
        if multiprocessing.parent_process() is None and PID_TAG not in run.tags:
            instance.add_run_tags(run.run_id, worker_tags())
        for run_id, what in free_slots_of_dead_runs(instance, except_run=run.run_id).items():
            context.log.warning(f"run {run_id}: {what}")
