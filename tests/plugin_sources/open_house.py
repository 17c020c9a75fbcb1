"""An "open house" listing feed, added from this one module to prove a new source needs nothing
else: a JSON feed answering `GET {OPEN_HOUSE_URL}/listings?zip=<ZIP>` with every current listing
of the ZIP as RESO-named fields in `value`, behind an `X-Api-Key` header (OPEN_HOUSE_API_KEY, a
secret). Replies are landed as `listing_page` payloads, which staging reads as RESO pages.

PHOENIX_SOURCE_MODULES=plugin_sources.open_house PHOENIX_LISTING_SOURCE=open_house

Several feeds of this kind are instances of the one module: OPEN_HOUSE_FEEDS=east,west declares
`open_house_east` and `open_house_west`, each reading its own OPEN_HOUSE_<FEED>_URL and
OPEN_HOUSE_<FEED>_API_KEY, with its own resource, asset, pool, probe and price.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import ClassVar, Optional
from urllib.parse import urlsplit

import dagster as dg
import httpx

from phoenix_dagster.redact import MaskedRepr
from phoenix_dagster.sources.base import FetchFailed, FetchFailure, ListingFetch, RawPayload
from phoenix_dagster.sources.env_values import number, split, text
from phoenix_dagster.sources.http import HttpSource, PoliteClient, RetryBudget
from phoenix_dagster.sources.http_policy import HttpPolicy
from phoenix_dagster.sources.probes import DEFAULT_TIMEOUT_S, NoAnswer, Probe, ProbeResult, by_status, get, open_client
from phoenix_dagster.sources.rate_limit import shared_limiter
from phoenix_dagster.sources.registry import SourceDescriptor


class OpenHouseFeed(HttpSource):
    complete = True  # each reply lists every current listing of the ZIP

    def __init__(self, name: str, base_url: str, api_key: str, *, limiter, policy: HttpPolicy):
        self.name = name
        self.base_url = base_url.rstrip("/")
        client = httpx.Client(headers={"X-Api-Key": api_key}, timeout=policy.timeout_s)
        self._http = PoliteClient(
            client,
            limiter=limiter,
            budget=RetryBudget(policy.retry_budget),
            policy=policy.retry_policy(),
            max_body_bytes=policy.max_body_bytes,
            max_total_bytes=policy.max_fetch_bytes,
        )

    def fetch(self, zip_code: str, since: datetime | None = None) -> ListingFetch:
        result = ListingFetch()
        try:
            response = self._http.get("listings", f"{self.base_url}/listings", zip_code, params={"zip": zip_code})
        except FetchFailed as failure:
            result.failures.append(FetchFailure(zip_code, failure.path, failure.reason))
            return result
        request = response.request.url.raw_path.decode()
        result.payloads.append(
            RawPayload(
                self.name, "listing_page", zip_code, request, response.status_code, datetime.now(UTC), response.content
            )
        )
        return result


@dataclass(frozen=True)
class OpenHouseSettings:
    name: str = "open_house"  # the instance: its variables are <NAME>_URL, <NAME>_API_KEY, …
    url: str | None = None  # <NAME>_URL
    rate_limit_per_minute: int = 60  # <NAME>_RATE_LIMIT_PER_MINUTE

    @property
    def key_variable(self) -> str:
        return f"{self.name.upper()}_API_KEY"

    @classmethod
    def from_env(cls, env, name: str = "open_house") -> OpenHouseSettings:
        prefix = name.upper()
        return cls(
            name=name,
            url=text(env, f"{prefix}_URL", None),
            rate_limit_per_minute=number(env, f"{prefix}_RATE_LIMIT_PER_MINUTE", cls.rate_limit_per_minute),
        )


class OpenHouseResource(MaskedRepr, dg.ConfigurableResource):
    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset({"api_key"})

    name: str = "open_house"
    url: Optional[str] = None
    api_key: Optional[str] = None
    rate_limit_per_minute: int = OpenHouseSettings.rate_limit_per_minute
    http: HttpPolicy = HttpPolicy()

    @classmethod
    def from_settings(cls, settings: OpenHouseSettings, shared, secret) -> OpenHouseResource:
        return cls(
            name=settings.name,
            url=settings.url,
            api_key=secret(settings.key_variable),
            rate_limit_per_minute=settings.rate_limit_per_minute,
            http=HttpPolicy.from_shared(shared),
        )

    def open(self, *, replay_time: datetime | None = None, day: str | None = None) -> OpenHouseFeed:
        if not self.url:
            raise dg.Failure(f"PHOENIX_LISTING_SOURCE includes {self.name} but {self.name.upper()}_URL is not set")
        limiter = shared_limiter(urlsplit(self.url).netloc, self.rate_limit_per_minute, 60.0)
        return OpenHouseFeed(self.name, self.url, self.api_key or "", limiter=limiter, policy=self.http)

    def probe(self, *, zip_code: str, required: bool, timeout_s: float = DEFAULT_TIMEOUT_S, http=None) -> ProbeResult:
        probe = Probe(self.name, required, [self.api_key])
        if not self.url or not self.api_key:
            prefix = self.name.upper()
            return probe.result("misconfigured", f"{prefix}_URL or {prefix}_API_KEY is not set")
        try:
            with open_client(http) as client:
                response = get(
                    probe, client, self.url.rstrip("/") + "/health", timeout_s, headers={"X-Api-Key": self.api_key}
                )
        except NoAnswer as no:
            return probe.result(no.state, no.detail)
        if response.status_code != 200:
            return probe.result(*by_status(response, "/health", f"{self.name.upper()}_URL"))
        return probe.result("up", "200 from /health")


def feed(name: str) -> SourceDescriptor:
    """One open-house feed: its name is its variables' prefix, its service, its pool and its price key."""
    prefix = name.upper()
    return SourceDescriptor(
        "listings",
        name,
        resource=OpenHouseResource.from_settings,
        settings=partial(OpenHouseSettings.from_env, name=name),
        service=name,
        complete=True,
        pool=f"listing_source_{name}",
        secrets=(f"{prefix}_API_KEY",),
        remedies={
            "refused": f"check {prefix}_API_KEY",
            "down": f"check {prefix}_URL and the feed's status",
            "misconfigured": f"check {prefix}_URL and {prefix}_API_KEY",
        },
    )


DESCRIPTORS = (feed("open_house"),)


def declare(env) -> tuple[SourceDescriptor, ...]:
    """The feeds OPEN_HOUSE_FEEDS names, each an instance of its own (`open_house_<feed>`)."""
    return tuple(feed(f"open_house_{name}") for name in split(env.get("OPEN_HOUSE_FEEDS", "")))
