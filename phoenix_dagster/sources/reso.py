"""A RESO Web API feed (OData), the standard way an MLS delivers listings.

    GET {RESO_API_URL}/Property?$filter=PostalCode eq '85031' and ModificationTimestamp gt <since>
        &$orderby=ModificationTimestamp&$top=<page size>
    Authorization: Bearer <RESO_API_TOKEN>

Pages are followed through `@odata.nextLink`, but only while the link stays on the
configured host (scheme and authority): a link elsewhere is refused and reported, so a
compromised or misconfigured feed cannot send the token to another server. Incremental:
`since` is the latest ModificationTimestamp already staged for the ZIP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, Optional
from urllib.parse import urljoin, urlsplit

import dagster as dg
import httpx

from phoenix_dagster.redact import MaskedRepr
from phoenix_dagster.sources.base import FetchFailed, FetchFailure, ListingFetch, RawPayload
from phoenix_dagster.sources.env_values import number, url
from phoenix_dagster.sources.http import (
    DEFAULT_MAX_BODY_BYTES,
    HTTP_TIMEOUT_S,
    AuthenticationFailed,
    HttpSource,
    PoliteClient,
    RetryBudget,
    RetryPolicy,
)
from phoenix_dagster.sources.http_policy import HttpPolicy
from phoenix_dagster.sources.json_reply import UnreadableJson, json_kind, read_json
from phoenix_dagster.sources.probes import (
    DEFAULT_TIMEOUT_S,
    NoAnswer,
    Probe,
    ProbeResult,
    by_status,
    get,
    open_client,
    reply_json,
)
from phoenix_dagster.sources.rate_limit import SlidingWindowLimiter, shared_limiter
from phoenix_dagster.sources.registry import SourceDescriptor

MAX_PAGES = 1000  # a feed that pages forever is a bug on its side; stop and say so


def _refused(response: httpx.Response) -> str | None:
    if response.status_code in (401, 403):
        return (
            f"The RESO Web API refused the token (HTTP {response.status_code} on {response.request.url.path}): "
            "check RESO_API_TOKEN."
        )
    return None


def odata_filter(zip_code: str, since: datetime | None) -> str:
    clause = f"PostalCode eq '{zip_code}'"
    if since is not None:
        clause += f" and ModificationTimestamp gt {since.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
    return clause


class ResoWebApi(HttpSource):
    name = "reso"
    complete = False  # incremental: only what changed since the last sync

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        limiter: SlidingWindowLimiter,
        budget: RetryBudget,
        policy: RetryPolicy | None = None,
        page_size: int = 200,
        timeout_s: float = HTTP_TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_fetch_bytes: int | None = None,
    ):
        if not token:
            raise AuthenticationFailed("RESO_API_TOKEN is not set: the RESO Web API needs a Bearer token.")
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        client = httpx.Client(
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout_s,
            transport=transport,
        )
        self._http = PoliteClient(
            client,
            limiter=limiter,
            budget=budget,
            policy=policy,
            auth_failure=_refused,
            max_body_bytes=max_body_bytes,
            max_total_bytes=max_fetch_bytes,
        )

    def _same_host(self, url: str) -> bool:
        mine, theirs = urlsplit(self.base_url), urlsplit(url)
        return (mine.scheme, mine.netloc) == (theirs.scheme, theirs.netloc)

    def fetch(self, zip_code: str, since: datetime | None = None) -> ListingFetch:
        result = ListingFetch()
        url = f"{self.base_url}/Property"
        params: dict | None = {
            "$filter": odata_filter(zip_code, since),
            "$orderby": "ModificationTimestamp",
            "$top": str(self.page_size),
        }
        for page in range(1, MAX_PAGES + 1):
            key = f"{zip_code}:{page}"
            try:
                response = self._http.get("listings", url, key, params=params)
            except FetchFailed as failure:
                result.failures.append(FetchFailure(key, failure.path, failure.reason))
                return result
            request = response.request.url.raw_path.decode()
            result.payloads.append(
                RawPayload(
                    self.name, "listing_page", key, request, response.status_code, datetime.now(UTC), response.content
                )
            )
            if response.status_code != 200:
                return result  # landed; staging quarantines it, the next run asks again
            try:
                document = read_json(response.content)
            except UnreadableJson:
                return result  # landed; staging says why it cannot be read
            next_link = document.get("@odata.nextLink") if isinstance(document, dict) else None
            if not next_link:
                return result
            if not isinstance(next_link, str):
                result.failures.append(
                    FetchFailure(
                        f"{zip_code}:{page + 1}",
                        "nextLink",
                        f"@odata.nextLink is {json_kind(next_link)}, not a link; paging stopped after page {page}",
                    )
                )
                return result
            next_url = urljoin(url, next_link)
            if not self._same_host(next_url):
                host = urlsplit(next_url).netloc
                result.failures.append(
                    FetchFailure(
                        f"{zip_code}:{page + 1}",
                        f"nextLink to {host}",
                        f"refused @odata.nextLink to another host ({host}); paging stopped after page {page}",
                    )
                )
                return result
            url, params = next_url, None
        result.failures.append(FetchFailure(f"{zip_code}:{MAX_PAGES + 1}", url, f"more than {MAX_PAGES} pages"))
        return result


# -- configuration and the Dagster resource ---------------------------------------------
@dataclass(frozen=True)
class ResoSettings:
    """A RESO Web API feed's place and pace (RESO_API_TOKEN is a secret)."""

    url: str | None = None  # RESO_API_URL
    page_size: int = 200  # RESO_PAGE_SIZE
    rate_limit_per_minute: int = 120  # RESO_RATE_LIMIT_PER_MINUTE

    @classmethod
    def from_env(cls, env) -> ResoSettings:
        return cls(
            url=url(env, "RESO_API_URL", None),
            page_size=number(env, "RESO_PAGE_SIZE", cls.page_size),
            rate_limit_per_minute=number(env, "RESO_RATE_LIMIT_PER_MINUTE", cls.rate_limit_per_minute),
        )


class ResoResource(MaskedRepr, dg.ConfigurableResource):
    """A RESO Web API feed: RESO_API_URL, RESO_API_TOKEN (secret, via EnvVar)."""

    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset({"token"})
    URL_FIELDS: ClassVar[frozenset[str]] = frozenset({"url"})

    url: Optional[str] = None  # None: RESO_API_URL is not set (the probe says so; a collection fails)
    token: Optional[str] = None
    page_size: int = ResoSettings.page_size
    rate_limit_per_minute: int = ResoSettings.rate_limit_per_minute
    http: HttpPolicy = HttpPolicy()

    @classmethod
    def from_settings(cls, settings: ResoSettings, shared, secret) -> ResoResource:
        return cls(
            url=settings.url,
            token=secret("RESO_API_TOKEN"),
            page_size=settings.page_size,
            rate_limit_per_minute=settings.rate_limit_per_minute,
            http=HttpPolicy.from_shared(shared),
        )

    def open(self, *, replay_time: datetime | None = None, day: str | None = None) -> ResoWebApi:
        if not self.url:
            raise dg.Failure("PHOENIX_LISTING_SOURCE includes reso but RESO_API_URL is not set")
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

    def probe(self, *, zip_code: str, required: bool, timeout_s: float = DEFAULT_TIMEOUT_S, http=None) -> ProbeResult:
        return probe_reso(self.url, self.token, http, zip_code=zip_code, required=required, timeout_s=timeout_s)


def probe_reso(
    base_url: str | None,
    token: str | None,
    http: httpx.Client | None = None,
    *,
    zip_code: str = "85031",
    required: bool = True,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> ProbeResult:
    """GET {RESO_API_URL}/Property?$filter=PostalCode eq '<zip>'&$top=1 with the Bearer token."""
    probe = Probe("reso", required, [token])
    if not base_url or not token:
        return probe.result("misconfigured", f"{'RESO_API_URL' if not base_url else 'RESO_API_TOKEN'} is not set")
    url = base_url.rstrip("/") + "/Property"
    path = urlsplit(url).path
    params = {"$filter": f"PostalCode eq '{zip_code}'", "$top": "1"}
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    try:
        with open_client(http) as client:
            response = get(probe, client, url, timeout_s, params=params, headers=headers)
    except NoAnswer as no:
        return probe.result(no.state, no.detail)
    if response.status_code != 200:
        return probe.result(*by_status(response, path, "RESO_API_URL"))
    body = reply_json(response)
    if not (isinstance(body, dict) and isinstance(body.get("value"), list)):
        return probe.result("degraded", f"200 from {path} but not an OData page (no 'value' list)")
    return probe.result("up", f"200 from {path} ({len(body['value'])} listing(s) for {zip_code} with $top=1)")


DESCRIPTORS = (
    SourceDescriptor(
        "listings",
        "reso",
        resource=ResoResource.from_settings,
        settings=ResoSettings.from_env,
        service="reso",
        pool="listing_source_reso",
        secrets=("RESO_API_TOKEN",),
        remedies={
            "refused": "check RESO_API_TOKEN",
            "down": "check RESO_API_URL and the feed's status",
            "misconfigured": "check RESO_API_URL and RESO_API_TOKEN",
        },
    ),
)
