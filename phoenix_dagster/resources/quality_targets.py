"""The targets data quality is scored and alerted against (PHOENIX_FRESHNESS_TARGET_HOURS)."""

import dagster as dg

from phoenix_dagster.transforms.quality import QualityTargets


class QualityTargetsResource(dg.ConfigurableResource):
    freshness_target_hours: float

    def targets(self) -> QualityTargets:
        return QualityTargets(freshness_target_hours=self.freshness_target_hours)
