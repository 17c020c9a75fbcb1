"""Which assessor and listing sources the run collects from, chosen by configuration."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

import dagster as dg

from phoenix_dagster.settings import DEFAULT_RESIDENTIAL_TYPES, SAMPLE_DIR, MaricopaSettings
from phoenix_dagster.sources.base import AssessorApi, ListingSource
from phoenix_dagster.sources.http import RetryBudget
from phoenix_dagster.sources.maricopa import MaricopaApi
from phoenix_dagster.sources.rate_limit import shared_limiter
from phoenix_dagster.sources.sample import SampleAssessorApi, SampleListingSource

_DEFAULTS = MaricopaSettings()


class MaricopaResource(dg.ConfigurableResource):
    """The county Assessor API: MARICOPA_API_URL, MARICOPA_API_TOKEN (secret, via EnvVar), limits."""

    url: str = _DEFAULTS.url
    token: Optional[str] = None
    rate_limit_per_hour: int = _DEFAULTS.rate_limit_per_hour
    rate_window_s: float = 3600.0  # tests shrink the window; production keeps the hour
    timeout_s: float = _DEFAULTS.timeout_s
    retry_budget: int = _DEFAULTS.retry_budget
    max_attempts: int = _DEFAULTS.max_attempts
    backoff_base_s: float = 1.0

    def api(self) -> MaricopaApi:
        limiter = shared_limiter(urlsplit(self.url).netloc, self.rate_limit_per_hour, self.rate_window_s)
        return MaricopaApi(self.url, self.token or "", limiter=limiter, budget=RetryBudget(self.retry_budget),
                           timeout_s=self.timeout_s, max_attempts=self.max_attempts,
                           backoff_base_s=self.backoff_base_s)


class SourcesResource(dg.ConfigurableResource):
    assessor: str = "sample"  # PHOENIX_ASSESSOR_SOURCE
    listings: list[str] = ["sample"]  # PHOENIX_LISTING_SOURCE
    assessor_property_types: list[str] = list(DEFAULT_RESIDENTIAL_TYPES)  # PHOENIX_ASSESSOR_PROPERTY_TYPES
    refresh_days: int = _DEFAULTS.refresh_days  # MARICOPA_REFRESH_DAYS
    concurrency: int = _DEFAULTS.concurrency  # MARICOPA_CONCURRENCY
    sample_dir: str = str(SAMPLE_DIR)
    maricopa: Optional[MaricopaResource] = None  # required when assessor == "maricopa"

    def assessor_api(self, replay_time: datetime) -> AssessorApi:
        """The configured assessor; the sample stamps its replies with ``replay_time``."""
        if self.assessor == "sample":
            return SampleAssessorApi(Path(self.sample_dir), replay_time)
        if self.assessor == "maricopa":
            if self.maricopa is None:
                raise dg.Failure("PHOENIX_ASSESSOR_SOURCE=maricopa but no Maricopa API is configured")
            return self.maricopa.api()
        raise dg.Failure(f"PHOENIX_ASSESSOR_SOURCE={self.assessor!r} is not a known assessor source")

    def listing_sources(self, fetched_at: datetime) -> list[ListingSource]:
        sources: list[ListingSource] = []
        for name in self.listings:
            if name != "sample":
                raise dg.Failure(f"PHOENIX_LISTING_SOURCE={name!r} is not a known listing source")
            sources.append(SampleListingSource(Path(self.sample_dir), fetched_at))
        return sources
