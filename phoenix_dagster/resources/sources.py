"""Which assessor and listing sources the run collects from, chosen by configuration."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dagster as dg

from phoenix_dagster.settings import DEFAULT_RESIDENTIAL_TYPES, SAMPLE_DIR
from phoenix_dagster.sources.base import AssessorApi, ListingSource
from phoenix_dagster.sources.sample import SampleAssessorApi, SampleListingSource


class SourcesResource(dg.ConfigurableResource):
    assessor: str = "sample"  # PHOENIX_ASSESSOR_SOURCE
    listings: list[str] = ["sample"]  # PHOENIX_LISTING_SOURCE
    assessor_property_types: list[str] = list(DEFAULT_RESIDENTIAL_TYPES)  # PHOENIX_ASSESSOR_PROPERTY_TYPES
    sample_dir: str = str(SAMPLE_DIR)

    def assessor_api(self, fetched_at: datetime) -> AssessorApi:
        if self.assessor == "sample":
            return SampleAssessorApi(Path(self.sample_dir), fetched_at)
        raise dg.Failure(f"PHOENIX_ASSESSOR_SOURCE={self.assessor!r} is not available in this build")

    def listing_sources(self, fetched_at: datetime) -> list[ListingSource]:
        sources: list[ListingSource] = []
        for name in self.listings:
            if name != "sample":
                raise dg.Failure(f"PHOENIX_LISTING_SOURCE={name!r} is not a known listing source")
            sources.append(SampleListingSource(Path(self.sample_dir), fetched_at))
        return sources
