"""Raw-body retention: county replies older than PHOENIX_RAW_RETENTION_DAYS are compacted to what
staging needs (transforms/retention.py): owners' names and mailing addresses give way to a
stand-in that keeps the kind of owner. Run daily by the `compact_raw_bodies` schedule (RUNNING by
default) and by every `phoenix-estate run` that finds work for it.

It also brings quarantine files an older version wrote up to today's rule, once: their records
were withheld by a text pattern (which missed keys spelt otherwise) and kept whole when they were
not JSON; rewritten through `quarantine_rows`, they hold the withheld record or its hash and
length. A marker in the control folder says it is done."""

from pathlib import Path

import dagster as dg

from phoenix_dagster.resources.control_state import ControlStateResource
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.transforms.privacy import quarantine_rows
from phoenix_dagster.transforms.retention import RAW_WITH_PERSONAL_DATA, compact_payloads, retention_cutoff

QUARANTINE_REWITHHELD = ".quarantine_withheld"  # the control folder's marker: older quarantine files rewritten


def quarantine_rewithheld(control_dir: str | Path, lake: LakeResource) -> bool:
    """Whether no quarantine file of an older version is left (the marker, or none found: then the
    marker is written, so the files are looked at once)."""
    if (Path(control_dir) / QUARANTINE_REWITHHELD).exists():
        return True
    if lake.bookkeeping_files_without("quarantine", "raw_bytes"):
        return False
    mark_quarantine_rewithheld(control_dir, 0)
    return True


def mark_quarantine_rewithheld(control_dir: str | Path, rewritten: int) -> None:
    marker = Path(control_dir) / QUARANTINE_REWITHHELD
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"{rewritten} quarantine file(s) of an older version rewritten\n")


def raw_body_retention_asset(retention_days: int) -> dg.AssetsDefinition:
    @dg.asset(
        name="raw_body_retention",
        group_name="operations",
        kinds={"parquet"},
        deps=[dg.AssetKey(RAW_WITH_PERSONAL_DATA)],
        description=(
            f"Compacts the raw county replies of partitions older than {retention_days} days "
            "(PHOENIX_RAW_RETENTION_DAYS): owners' names and mailing addresses replaced by a "
            "stand-in that keeps the kind of owner; everything staging reads is kept, so an old "
            "partition can still be staged again; a reply that is not JSON gives way to a note of "
            "its length. The only writer of raw files besides collection. Idempotent: a compacted "
            "file is not rewritten."
        ),
    )
    def _retention(
        context: dg.AssetExecutionContext, lake: LakeResource, control_state: ControlStateResource
    ) -> dg.MaterializeResult:
        requarantined = 0
        if not (Path(control_state.control_dir) / QUARANTINE_REWITHHELD).exists():
            requarantined = lake.rewrite_bookkeeping("quarantine", quarantine_rows, unless_column="raw_bytes")
            mark_quarantine_rewithheld(control_state.control_dir, requarantined)
        cutoff = retention_cutoff(lake.today(), retention_days)
        checked = rewritten = bodies = 0
        for zip_code, day in lake.partitions(RAW_WITH_PERSONAL_DATA, before=cutoff):
            checked += 1
            changed_here = lake.remove_left_behind(RAW_WITH_PERSONAL_DATA, day, zip_code)
            for path in lake.raw_files(RAW_WITH_PERSONAL_DATA, day, zip_code):  # every run's, each in place
                compacted, changed = compact_payloads(lake.storage.read_parquet(path))
                if changed:
                    lake.rewrite_raw_file(compacted, path)
                    changed_here += changed
            if changed_here:
                rewritten, bodies = rewritten + 1, bodies + changed_here
                context.log.info(f"{RAW_WITH_PERSONAL_DATA} {day}|{zip_code}: {changed_here} bodies compacted")
        return dg.MaterializeResult(
            metadata={
                "compacted_before": cutoff,
                "retention_days": retention_days,
                "partitions_checked": checked,
                "partitions_rewritten": rewritten,
                "bodies_compacted": bodies,
                "older_quarantine_files_rewritten": requarantined,
            }
        )

    return _retention
