"""The tuning state: the latest decision per stage in ops.batch_tuning, unless pinned."""

from __future__ import annotations

from phoenix_dagster.resources.warehouse import WarehouseResource

DEFAULTS = {"enrichment": (10, 5), "collection:assessor": (10, 2)}


def current_setting(warehouse: WarehouseResource, stage: str, *, pinned_batch: int | None = None,
                    pinned_concurrency: int | None = None) -> tuple[int, int, str]:
    """(batch size, concurrency, where they came from) for the stage's next run."""
    default_batch, default_concurrency = DEFAULTS.get(stage, (10, 1))
    latest = warehouse.query(
        "select batch_size_new, concurrency_new from ops.batch_tuning where stage = ? "
        "order by decided_at desc, batch_size_new limit 1", [stage])
    batch, concurrency = (latest.row(0) if latest.height else (default_batch, default_concurrency))
    origin = "tuning" if latest.height else "default"
    if pinned_batch is not None or pinned_concurrency is not None:
        origin = "pinned"
    return (pinned_batch if pinned_batch is not None else batch,
            pinned_concurrency if pinned_concurrency is not None else concurrency, origin)
