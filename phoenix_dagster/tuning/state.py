"""The tuning state: the latest decision per stage, unless pinned by configuration, and the
setting that last had to back off (the controller grows no further than one step below it)."""

from __future__ import annotations

from typing import NamedTuple

import polars as pl

from phoenix_dagster.tuning.controller import Ceiling

# (batch size, concurrency) before any decision. The county collector has no batches: one
# detail request per parcel, `concurrency` in flight; only its concurrency is tuned.
DEFAULTS = {"enrichment": (10, 5), "collection:assessor": (None, 2)}
TUNED_STAGES = tuple(DEFAULTS)
CEILING_MEMORY = 50  # decisions of a stage within which a back-off is remembered


class Setting(NamedTuple):
    batch_size: int | None
    concurrency: int
    origin: str  # default | tuning | pinned


def _stage_history(decisions: pl.DataFrame, stage: str) -> pl.DataFrame:
    # Oldest first; of two at the same moment, the more cautious (smaller concurrency, batch) last.
    return decisions.filter(pl.col("stage") == stage).sort(
        ["decided_at", "concurrency_new", "batch_size_new"], descending=[False, True, True], nulls_last=True
    )


def choose_setting(
    decisions: pl.DataFrame, stage: str, *, pinned_batch: int | None = None, pinned_concurrency: int | None = None
) -> Setting:
    """`decisions`: control batch_tuning rows. The stage's latest decision, its default before
    any, and pinned values over both (a pinned batch only where the stage has batches)."""
    default_batch, default_concurrency = DEFAULTS.get(stage, (10, 1))
    latest = _stage_history(decisions, stage).tail(1)
    if latest.height:
        row = latest.row(0, named=True)
        batch, concurrency, origin = row["batch_size_new"], row["concurrency_new"], "tuning"
    else:
        batch, concurrency, origin = default_batch, default_concurrency, "default"
    if default_batch is None:
        batch, pinned_batch = None, None
    if pinned_batch is not None or pinned_concurrency is not None:
        origin = "pinned"
    return Setting(
        pinned_batch if pinned_batch is not None else batch,
        pinned_concurrency if pinned_concurrency is not None else concurrency,
        origin,
    )


def recent_ceiling(decisions: pl.DataFrame, stage: str) -> Ceiling | None:
    """The lowest setting the stage backed off from within its last CEILING_MEMORY decisions."""
    failed = _stage_history(decisions, stage).tail(CEILING_MEMORY).filter(pl.col("reason").str.starts_with("back off"))
    if not failed.height:
        return None
    batches = failed["batch_size_old"].drop_nulls()
    return Ceiling(int(batches.min()) if batches.len() else None, int(failed["concurrency_old"].min()))
