"""The targets data quality is scored and alerted against (PHOENIX_FRESHNESS_TARGET_HOURS), and the
system levels stages are alerted against (PHOENIX_CPU_WARN_PCT … PHOENIX_MEMORY_CRITICAL_PCT)."""

import dagster as dg

from phoenix_dagster.transforms.quality import QualityTargets


class QualityTargetsResource(dg.ConfigurableResource):
    freshness_target_hours: float
    cpu_warn_pct: float = 70.0
    cpu_critical_pct: float = 85.0
    memory_warn_pct: float = 75.0
    memory_critical_pct: float = 90.0

    def targets(self) -> QualityTargets:
        return QualityTargets(freshness_target_hours=self.freshness_target_hours)
