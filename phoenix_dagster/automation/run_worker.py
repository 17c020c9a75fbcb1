"""The run's worker process, as the concurrency pools need to know it."""

from __future__ import annotations

import dagster as dg
import psutil

from phoenix_dagster.graph.pools import WORKER_TAG, free_slots_of_dead_runs, worker_tags
from phoenix_dagster.redact import MaskedRepr


class RunWorkerResource(MaskedRepr, dg.ConfigurableResource):
    """Required by every asset in a pool. When a run starts, before any of its steps claims a pool
    slot: names the run's worker process in the run's tags (so a later run can tell it died), and
    frees the slots of runs whose worker is gone."""

    executor: str = "in_process"  # how the run's steps execute: which process claims its slots

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        instance, run = context.instance, context.dagster_run
        if instance is None or run is None:
            return
        if WORKER_TAG not in run.tags:
            worker = self._run_worker()
            if worker is not None:
                instance.add_run_tags(run.run_id, worker_tags(worker))
        for run_id, what in free_slots_of_dead_runs(instance, except_run=run.run_id).items():
            context.log.warning(f"run {run_id}: {what}")

    def _run_worker(self) -> psutil.Process | None:
        """The process that claims the run's slots: this one with the in-process executor (the
        command's, or the one the run queue launched); the parent of this step process with the
        multiprocess executor (the run's orchestrator). A Celery worker runs steps for any run on
        another machine: not named, so not judged from here."""
        if self.executor == "in_process":
            return psutil.Process()
        if self.executor == "multiprocess":
            return psutil.Process().parent()
        return None
