"""Which assessor and listing sources the run collects from, chosen by configuration."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Optional
from urllib.parse import urlsplit

import dagster as dg

from phoenix_dagster.redact import MaskedRepr
from phoenix_dagster.settings import (
    DEFAULT_INBOX_SETTLE_S,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_FETCH_BYTES,
    DEFAULT_MAX_SEARCH_ROWS,
    DEFAULT_RESIDENTIAL_TYPES,
    HTTP_MAX_ATTEMPTS,
    HTTP_TIMEOUT_S,
    SAMPLE_DIR,
    ListingSettings,
    MaricopaSettings,
)
from phoenix_dagster.sources.base import AssessorApi, ListingSource
from phoenix_dagster.sources.csv_inbox import CsvInbox
from phoenix_dagster.sources.http import RetryBudget, RetryPolicy
from phoenix_dagster.sources.maricopa import MaricopaApi
from phoenix_dagster.sources.mls_html import MlsHtmlSource
from phoenix_dagster.sources.mls_selectors import MlsSelectors, load_selectors
from phoenix_dagster.sources.rate_limit import shared_limiter
from phoenix_dagster.sources.registry import descriptor
from phoenix_dagster.sources.reso import ResoWebApi
from phoenix_dagster.sources.sample import SampleAssessorApi, SampleListingSource

_DEFAULTS = MaricopaSettings()
_LISTING_DEFAULTS = ListingSettings()


class HttpPolicy(dg.Config):
    """Retries and timeouts for one HTTP source."""

    timeout_s: float = HTTP_TIMEOUT_S
    retry_budget: int = 200
    max_attempts: int = HTTP_MAX_ATTEMPTS
    backoff_base_s: float = 1.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # PHOENIX_MAX_BODY_MB
    max_fetch_bytes: int = DEFAULT_MAX_FETCH_BYTES  # PHOENIX_MAX_FETCH_MB: every reply of one collection, together

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=self.max_attempts, backoff_base_s=self.backoff_base_s)


class ResoResource(MaskedRepr, dg.ConfigurableResource):
    """A RESO Web API feed: RESO_API_URL, RESO_API_TOKEN (secret, via EnvVar)."""

    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset({"token"})
    URL_FIELDS: ClassVar[frozenset[str]] = frozenset({"url"})

    url: str
    token: Optional[str] = None
    page_size: int = _LISTING_DEFAULTS.reso_page_size
    rate_limit_per_minute: int = _LISTING_DEFAULTS.reso_rate_limit_per_minute
    http: HttpPolicy = HttpPolicy()

    def source(self) -> ResoWebApi:
        limiter = shared_limiter(urlsplit(self.url).netloc, self.rate_limit_per_minute, 60.0)
        return ResoWebApi(
            self.url,
            self.token or "",
            limiter=limiter,
            budget=RetryBudget(self.http.retry_budget),
            policy=self.http.retry_policy(),
            page_size=self.page_size,
            timeout_s=self.http.timeout_s,
            max_body_bytes=self.http.max_body_bytes,
            max_fetch_bytes=self.http.max_fetch_bytes,
        )


class MlsHtmlResource(MaskedRepr, dg.ConfigurableResource):
    """The MLS public search pages: MLS_BASE_URL, the selector file, rate, proxies."""

    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset({"proxies"})
    URL_FIELDS: ClassVar[frozenset[str]] = frozenset({"url"})

    url: str
    selectors_file: str = _LISTING_DEFAULTS.mls_selectors_file
    rate_limit_per_minute: int = _LISTING_DEFAULTS.mls_rate_limit_per_minute
    proxies: Optional[str] = None  # MLS_PROXIES (EnvVar: proxy URLs can hold passwords), comma separated
    allowed_hosts: list[str] = []  # MLS_ALLOWED_HOSTS
    max_details_per_page: int = _LISTING_DEFAULTS.mls_max_details_per_page  # MLS_MAX_DETAILS_PER_PAGE
    user_agent: str = _LISTING_DEFAULTS.mls_user_agent
    http: HttpPolicy = HttpPolicy()

    def selectors(self) -> MlsSelectors:
        return load_selectors(Path(self.selectors_file))

    def source(self) -> MlsHtmlSource:
        limiter = shared_limiter(urlsplit(self.url).netloc, self.rate_limit_per_minute, 60.0)
        return MlsHtmlSource(
            self.url,
            self.selectors(),
            limiter=limiter,
            budget=RetryBudget(self.http.retry_budget),
            policy=self.http.retry_policy(),
            user_agent=self.user_agent,
            proxies=[p for p in re.split(r"[,;\s]+", self.proxies or "") if p],
            timeout_s=self.http.timeout_s,
            max_body_bytes=self.http.max_body_bytes,
            max_fetch_bytes=self.http.max_fetch_bytes,
            max_details_per_page=self.max_details_per_page,
            allowed_hosts=tuple(self.allowed_hosts),
        )


class MaricopaResource(MaskedRepr, dg.ConfigurableResource):
    """The county Assessor API: MARICOPA_API_URL, MARICOPA_API_TOKEN (secret, via EnvVar), limits."""

    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset({"token", "rate_limit_store"})
    URL_FIELDS: ClassVar[frozenset[str]] = frozenset({"url"})

    url: str = _DEFAULTS.url
    token: Optional[str] = None
    rate_limit_per_hour: int = _DEFAULTS.rate_limit_per_hour
    rate_window_s: float = _DEFAULTS.rate_window_s  # MARICOPA_RATE_WINDOW_S
    rate_state_dir: Optional[str] = None  # where the machine-wide window is kept; None: this process only
    rate_limit_store: Optional[str] = (
        None  # PHOENIX_RATE_LIMIT_STORE (EnvVar): a Redis/PostgreSQL URL for every machine
    )
    rate_limit_store_outage_s: float = _DEFAULTS.store_outage_s  # PHOENIX_RATE_LIMIT_STORE_OUTAGE_S
    timeout_s: float = _DEFAULTS.timeout_s
    retry_budget: int = _DEFAULTS.retry_budget
    max_attempts: int = _DEFAULTS.max_attempts
    backoff_base_s: float = 1.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # PHOENIX_MAX_BODY_MB
    max_fetch_bytes: int = DEFAULT_MAX_FETCH_BYTES  # PHOENIX_MAX_FETCH_MB: every reply of one collection, together

    def limiter(self):
        """The county's rate limiter: shared by every request to it on this machine (and across
        machines with PHOENIX_RATE_LIMIT_STORE), the health probes' included."""
        return shared_limiter(
            urlsplit(self.url).netloc,
            self.rate_limit_per_hour,
            self.rate_window_s,
            self.rate_state_dir,
            store_url=self.rate_limit_store,
            store_outage_s=self.rate_limit_store_outage_s,
        )

    def api(self) -> MaricopaApi:
        return MaricopaApi(
            self.url,
            self.token or "",
            limiter=self.limiter(),
            budget=RetryBudget(self.retry_budget),
            timeout_s=self.timeout_s,
            max_attempts=self.max_attempts,
            backoff_base_s=self.backoff_base_s,
            max_body_bytes=self.max_body_bytes,
            max_fetch_bytes=self.max_fetch_bytes,
        )


class SourcesResource(MaskedRepr, dg.ConfigurableResource):
    assessor: str = "sample"  # PHOENIX_ASSESSOR_SOURCE
    max_search_rows: int = DEFAULT_MAX_SEARCH_ROWS  # PHOENIX_MAX_SEARCH_ROWS: the county's TOTAL per ZIP
    max_file_bytes: int = DEFAULT_MAX_BODY_BYTES  # PHOENIX_MAX_BODY_MB: the largest inbox file taken in
    listings: list[str] = ["sample"]  # PHOENIX_LISTING_SOURCE
    assessor_property_types: list[str] = list(DEFAULT_RESIDENTIAL_TYPES)  # PHOENIX_ASSESSOR_PROPERTY_TYPES
    refresh_days: int = _DEFAULTS.refresh_days  # MARICOPA_REFRESH_DAYS
    concurrency: Optional[int] = None  # MARICOPA_CONCURRENCY pins it; else the tuning state decides
    sample_dir: str = str(SAMPLE_DIR)
    inbox_dir: Optional[str] = None  # $PHOENIX_DATA_DIR/inbox, for csv_inbox
    inbox_settle_s: float = DEFAULT_INBOX_SETTLE_S  # PHOENIX_INBOX_SETTLE_S: a file is taken once unchanged this long
    maricopa: Optional[MaricopaResource] = None  # required when assessor == "maricopa"
    reso: Optional[ResoResource] = None  # required when listings include "reso"
    mls_html: Optional[MlsHtmlResource] = None  # required when listings include "mls_html"

    def assessor_api(self, replay_time: datetime) -> AssessorApi:
        """The configured assessor; the sample stamps its replies with `replay_time`."""
        if self.assessor == "sample":
            return SampleAssessorApi(Path(self.sample_dir), replay_time)
        if self.assessor == "maricopa":
            if self.maricopa is None:
                raise dg.Failure("PHOENIX_ASSESSOR_SOURCE=maricopa but no Maricopa API is configured")
            return self.maricopa.api()
        raise dg.Failure(f"PHOENIX_ASSESSOR_SOURCE={self.assessor!r} is not a known assessor source")

    def listing_source(self, name: str, replay_time: datetime, day: str) -> ListingSource:
        """One configured listing source; the sample stamps its replies with `replay_time`."""
        if name == "sample":
            return SampleListingSource(Path(self.sample_dir), replay_time)
        if name == "reso":
            return self._required("reso", self.reso, "RESO_API_URL").source()
        if name == "mls_html":
            return self._required("mls_html", self.mls_html, "MLS_BASE_URL").source()
        if name == "csv_inbox":
            return CsvInbox(
                Path(self._required("csv_inbox", self.inbox_dir, "PHOENIX_DATA_DIR")),
                day,
                max_bytes=self.max_file_bytes,
                settle_s=self.inbox_settle_s,
            )
        raise dg.Failure(f"PHOENIX_LISTING_SOURCE={name!r} is not a known listing source")

    def quality_labels(self) -> tuple[str, ...]:
        """The sources quality is expected of: `assessor:<name>` and `listing:<name>` per configured source."""
        return (f"assessor:{self.assessor}", *(f"listing:{name}" for name in self.listings))

    def complete_listing_sources(self) -> set[str]:
        """Sources whose every fetch returns all current listings of the ZIP."""
        return {name for name in self.listings if descriptor("listings", name).complete}

    def mls_selectors(self) -> MlsSelectors | None:
        return self.mls_html.selectors() if self.mls_html is not None else None

    @staticmethod
    def _required(name: str, value, setting: str):
        if value is None:
            raise dg.Failure(f"PHOENIX_LISTING_SOURCE includes {name} but {setting} is not set")
        return value
