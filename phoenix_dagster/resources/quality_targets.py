"""The targets data quality is scored and alerted against (PHOENIX_FRESHNESS_TARGET_HOURS), and the
system levels stages are alerted against (PHOENIX_CPU_WARN_PCT … PHOENIX_DISK_FREE_CRITICAL_MB)."""

import dagster as dg

from phoenix_dagster.redact import MaskedRepr
from phoenix_dagster.settings import SystemLevels
from phoenix_dagster.transforms.quality import QualityTargets


class QualityTargetsResource(MaskedRepr, dg.ConfigurableResource):
    freshness_target_hours: float
    cpu_warn_pct: float = SystemLevels.cpu_warn_pct
    cpu_critical_pct: float = SystemLevels.cpu_critical_pct
    memory_warn_pct: float = SystemLevels.memory_warn_pct
    memory_critical_pct: float = SystemLevels.memory_critical_pct
    disk_free_warn_mb: float = SystemLevels.disk_free_warn_mb
    disk_free_critical_mb: float = SystemLevels.disk_free_critical_mb

    def targets(self) -> QualityTargets:
        return QualityTargets(freshness_target_hours=self.freshness_target_hours)

    def system_levels(self) -> SystemLevels:
        return SystemLevels(**{name: getattr(self, name) for name in SystemLevels.__dataclass_fields__})
