"""The tuning state: the latest decision per stage, unless pinned by configuration."""

from __future__ import annotations

from typing import NamedTuple

import polars as pl

DEFAULTS = {"enrichment": (10, 5), "collection:assessor": (10, 2)}


class Setting(NamedTuple):
    batch_size: int
    concurrency: int
    origin: str  # default | tuning | pinned


def choose_setting(decisions: pl.DataFrame, stage: str, *, pinned_batch: int | None = None,
                   pinned_concurrency: int | None = None) -> Setting:
    """`decisions`: control batch_tuning rows. The stage's latest decision, its default before
    any, and pinned values over both."""
    default_batch, default_concurrency = DEFAULTS.get(stage, (10, 1))
    # The latest decision; of two at the same moment, the more cautious (smaller batch).
    latest = decisions.filter(pl.col("stage") == stage).sort(["decided_at", "batch_size_new"],
                                                             descending=[False, True]).tail(1)
    batch, concurrency = (latest.row(0, named=True)["batch_size_new"], latest.row(0, named=True)["concurrency_new"]) \
        if latest.height else (default_batch, default_concurrency)
    origin = "tuning" if latest.height else "default"
    if pinned_batch is not None or pinned_concurrency is not None:
        origin = "pinned"
    return Setting(pinned_batch if pinned_batch is not None else batch,
                   pinned_concurrency if pinned_concurrency is not None else concurrency, origin)
