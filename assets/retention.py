"""Raw-body retention: county replies older than PHOENIX_RAW_RETENTION_DAYS are compacted to what
staging needs (transforms/retention.py): owners' names and mailing addresses give way to a
stand-in that keeps the kind of owner. Run daily by the `compact_raw_bodies` schedule."""

import dagster as dg

from phoenix_dagster.partitions import today_in_phoenix
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.transforms.retention import RAW_WITH_PERSONAL_DATA, compact_payloads, retention_cutoff


def raw_body_retention_asset(retention_days: int) -> dg.AssetsDefinition:
    @dg.asset(name="raw_body_retention", group_name="operations", kinds={"parquet"},
              deps=[dg.AssetKey(RAW_WITH_PERSONAL_DATA)],
              description=(f"Compacts the raw county replies of partitions older than {retention_days} days "
                           "(PHOENIX_RAW_RETENTION_DAYS): owners' names and mailing addresses replaced by a "
                           "stand-in that keeps the kind of owner; everything staging reads is kept, so an old "
                           "partition can still be staged again; a reply that is not JSON gives way to a note of "
                           "its length. The only writer of raw files besides collection. Idempotent: a compacted "
                           "file is not rewritten."))
    def _retention(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        cutoff = retention_cutoff(today_in_phoenix(), retention_days)
        checked = rewritten = bodies = 0
        for zip_code, day in lake.partitions(RAW_WITH_PERSONAL_DATA, before=cutoff):
            compacted, changed = compact_payloads(lake.read(RAW_WITH_PERSONAL_DATA, day, zip_code))
            checked += 1
            if changed:
                lake.write(compacted, RAW_WITH_PERSONAL_DATA, day, zip_code)
                rewritten, bodies = rewritten + 1, bodies + changed
                context.log.info(f"{RAW_WITH_PERSONAL_DATA} {day}|{zip_code}: {changed} bodies compacted")
        return dg.MaterializeResult(metadata={"compacted_before": cutoff, "retention_days": retention_days,
                                              "partitions_checked": checked, "partitions_rewritten": rewritten,
                                              "bodies_compacted": bodies})
    return _retention
