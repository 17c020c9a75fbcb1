"""Which assessor and listing sources the run collects from, chosen by configuration, and how
the collection treats them. Each configured source also has a resource of its own, built from
its descriptor (sources/registry.py) under `<kind>_source__<name>`; its raw asset opens it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import dagster as dg

from phoenix_dagster.redact import MaskedRepr
from phoenix_dagster.settings import DEFAULT_RESIDENTIAL_TYPES
from phoenix_dagster.sources.assessor_crawl import DEFAULT_MAX_SEARCH_ROWS
from phoenix_dagster.sources.maricopa import MaricopaSettings
from phoenix_dagster.sources.mls_selectors import MlsSelectors, load_selectors

_DEFAULTS = MaricopaSettings()


class SourcesResource(MaskedRepr, dg.ConfigurableResource):
    assessor: str = "sample"  # PHOENIX_ASSESSOR_SOURCE
    listings: list[str] = ["sample"]  # PHOENIX_LISTING_SOURCE
    complete_listings: list[str] = ["sample"]  # those whose every fetch lists all of a ZIP's current listings
    max_search_rows: int = DEFAULT_MAX_SEARCH_ROWS  # PHOENIX_MAX_SEARCH_ROWS: the county's TOTAL per ZIP
    assessor_property_types: list[str] = list(DEFAULT_RESIDENTIAL_TYPES)  # PHOENIX_ASSESSOR_PROPERTY_TYPES
    refresh_days: int = _DEFAULTS.refresh_days  # MARICOPA_REFRESH_DAYS
    concurrency: Optional[int] = None  # MARICOPA_CONCURRENCY pins it; else the tuning state decides
    mls_selectors_file: Optional[str] = (
        None  # MLS_SELECTORS_FILE when mls_html is a listing source: staging reads its pages
    )

    def quality_labels(self) -> tuple[str, ...]:
        """The sources quality is expected of: `assessor:<name>` and `listing:<name>` per configured source."""
        return (f"assessor:{self.assessor}", *(f"listing:{name}" for name in self.listings))

    def complete_listing_sources(self) -> set[str]:
        """Sources whose every fetch returns all current listings of the ZIP."""
        return set(self.complete_listings) & set(self.listings)

    def mls_selectors(self) -> MlsSelectors | None:
        return load_selectors(Path(self.mls_selectors_file)) if self.mls_selectors_file else None
