"""The Maricopa County Assessor API (https://mcassessor.maricopa.gov), as documented in
docs/maricopa-assessor-api.md.

- Headers exactly as the county requires: `AUTHORIZATION: <token>` and `user-agent: null`.
- `GET /search/property/?q=<query>&page=<n>` and `GET /parcel/{apn}`.
- A bad token is answered with HTTP 500 "Unauthorized access!": an authentication error,
  never retried; after it this client makes no more requests.
- Everything else transient (429, 5xx, timeouts, broken connections) is retried politely
  by sources/http.py. A reply still failing after its retries is returned (and landed) as it
  came; a request that never got a reply raises FetchFailed.

The token lives only in the httpx client's headers: not in paths, records, errors or logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, Optional
from urllib.parse import urlsplit

import dagster as dg
import httpx

from phoenix_dagster.redact import MaskedRepr
from phoenix_dagster.sources.base import RawPayload
from phoenix_dagster.sources.env_values import number, url
from phoenix_dagster.sources.http import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_FETCH_BYTES,
    HTTP_MAX_ATTEMPTS,
    HTTP_TIMEOUT_S,
    AuthenticationFailed,
    HttpSource,
    PoliteClient,
    RetryBudget,
    RetryPolicy,
    retry_after_seconds,
)
from phoenix_dagster.sources.probes import (
    DEFAULT_TIMEOUT_S,
    NoAnswer,
    Probe,
    ProbeResult,
    by_status,
    get,
    open_client,
    reply_json,
    turn_at,
)
from phoenix_dagster.sources.rate_limit import SlidingWindowLimiter, shared_limiter
from phoenix_dagster.sources.rate_limit_stores import DEFAULT_OUTAGE_S
from phoenix_dagster.sources.registry import SourceDescriptor

AUTH_MARKER = "Unauthorized access"


class MaricopaAuthError(AuthenticationFailed):
    """The county refused (or was never given) the token."""


def _refused(response: httpx.Response) -> str | None:
    if response.status_code == 500 and AUTH_MARKER in response.text:
        return (
            f"The Maricopa Assessor API refused the token (HTTP 500 'Unauthorized access!' on "
            f"{response.request.url.path}): check MARICOPA_API_TOKEN. No further requests were made."
        )
    return None


class MaricopaApi(HttpSource):
    name = "maricopa"

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        limiter: SlidingWindowLimiter,
        budget: RetryBudget,
        timeout_s: float = HTTP_TIMEOUT_S,
        max_attempts: int = HTTP_MAX_ATTEMPTS,
        backoff_base_s: float = 1.0,
        backoff_cap_s: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_fetch_bytes: int | None = None,
    ):
        if not token:
            raise MaricopaAuthError(
                "MARICOPA_API_TOKEN is not set: the county answers every request without a "
                "token with 'Unauthorized access!'. Request one from the Assessor's office."
            )
        client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"AUTHORIZATION": token, "user-agent": "null", "accept": "application/json"},
            timeout=timeout_s,
            transport=transport,
        )
        self._http = PoliteClient(
            client,
            limiter=limiter,
            budget=budget,
            auth_failure=_refused,
            policy=RetryPolicy(max_attempts, backoff_base_s, backoff_cap_s),
            max_body_bytes=max_body_bytes,
            max_total_bytes=max_fetch_bytes,
        )

    def search_page(self, query: str, page: int) -> RawPayload:
        return self._get("search", "search_page", f"q={query}&page={page}", f"/search/property/?q={query}&page={page}")

    def parcel(self, apn: str) -> RawPayload:
        return self._get("parcel", "parcel", apn, f"/parcel/{apn}")

    def _get(self, endpoint: str, entity: str, record_key: str, path: str) -> RawPayload:
        try:
            response = self._http.get(endpoint, path, record_key)
        except AuthenticationFailed as exc:
            raise MaricopaAuthError(str(exc)) from None
        return RawPayload(
            self.name, entity, record_key, path, response.status_code, datetime.now(UTC), response.content
        )


# -- configuration and the Dagster resource ---------------------------------------------
@dataclass(frozen=True)
class MaricopaSettings:
    """How the collector treats the county's API (the token is a secret: MARICOPA_API_TOKEN)."""

    url: str = "https://mcassessor.maricopa.gov"
    rate_limit_per_hour: int = 1000
    rate_window_s: float = 3600.0  # the limit's window: an hour (tests use seconds)
    refresh_days: int = 30
    concurrency: int | None = None  # pinned when set; otherwise the tuning state decides
    pool_limit: int = 1  # county-calling steps at once across every run (the `maricopa_api` pool)
    timeout_s: float = HTTP_TIMEOUT_S
    retry_budget: int = 200
    max_attempts: int = HTTP_MAX_ATTEMPTS
    store_outage_s: float = DEFAULT_OUTAGE_S  # PHOENIX_RATE_LIMIT_STORE_OUTAGE_S

    @classmethod
    def from_env(cls, env) -> MaricopaSettings:
        return cls(
            url=url(env, "MARICOPA_API_URL", cls.url),
            rate_limit_per_hour=number(env, "MARICOPA_RATE_LIMIT_PER_HOUR", cls.rate_limit_per_hour),
            rate_window_s=number(env, "MARICOPA_RATE_WINDOW_S", cls.rate_window_s, float),
            refresh_days=number(env, "MARICOPA_REFRESH_DAYS", cls.refresh_days, low=0),
            concurrency=number(env, "MARICOPA_CONCURRENCY", None),
            pool_limit=number(env, "MARICOPA_POOL_LIMIT", cls.pool_limit),
            timeout_s=number(env, "MARICOPA_TIMEOUT_S", cls.timeout_s, kind=float),
            retry_budget=number(env, "MARICOPA_RETRY_BUDGET", cls.retry_budget, low=0),
            max_attempts=number(env, "MARICOPA_MAX_ATTEMPTS", cls.max_attempts),
            store_outage_s=number(env, "PHOENIX_RATE_LIMIT_STORE_OUTAGE_S", cls.store_outage_s, float, low=0),
        )


_DEFAULTS = MaricopaSettings()


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

    @classmethod
    def from_settings(cls, settings: MaricopaSettings, shared, secret) -> MaricopaResource:
        return cls(
            url=settings.url,
            token=secret("MARICOPA_API_TOKEN"),
            rate_limit_per_hour=settings.rate_limit_per_hour,
            rate_window_s=settings.rate_window_s,
            rate_state_dir=f"{shared.control_dir}/rate_limits",
            rate_limit_store=secret("PHOENIX_RATE_LIMIT_STORE"),
            rate_limit_store_outage_s=settings.store_outage_s,
            timeout_s=settings.timeout_s,
            retry_budget=settings.retry_budget,
            max_attempts=settings.max_attempts,
            max_body_bytes=shared.max_body_bytes,
            max_fetch_bytes=shared.max_fetch_bytes,
        )

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

    def open(self, *, replay_time: datetime | None = None, day: str | None = None) -> MaricopaApi:
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

    def probe(self, *, zip_code: str, required: bool, timeout_s: float = DEFAULT_TIMEOUT_S, http=None) -> ProbeResult:
        return probe_county_api(
            self.url, self.token, http, query=zip_code, required=required, timeout_s=timeout_s, limiter=self.limiter()
        )


def probe_county_api(
    base_url: str,
    token: str | None,
    http: httpx.Client | None = None,
    *,
    query: str = "85031",
    required: bool = True,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    limiter=None,
) -> ProbeResult:
    """GET /search/property/?q=<query>&page=1 with the county's two headers: one page of 25 rows,
    at its turn at `limiter` (the county's rate limiter) when given."""
    probe = Probe("county_api", required, [token])
    if not token:
        return probe.result(
            "misconfigured", "MARICOPA_API_TOKEN is not set: the county refuses every request without one"
        )
    path = "/search/property/"
    headers = {"AUTHORIZATION": token, "user-agent": "null", "accept": "application/json"}
    try:
        if limiter is not None:
            turn_at(limiter, timeout_s)
        with open_client(http) as client:
            response = get(
                probe, client, base_url.rstrip("/") + path, timeout_s, params={"q": query, "page": "1"}, headers=headers
            )
    except NoAnswer as no:
        return probe.result(no.state, no.detail)
    if response.status_code == 429 and limiter is not None:  # the county asked everyone to wait
        try:
            limiter.pause(retry_after_seconds(response.headers.get("retry-after")) or 60.0)
        except Exception:  # the limiter's store away: the 429 itself is still reported below
            pass
    if response.status_code == 500 and AUTH_MARKER in response.text:
        return probe.result("refused", f"500 'Unauthorized access!' from {path}: the token was refused")
    if response.status_code != 200:
        return probe.result(*by_status(response, path, "MARICOPA_API_URL"))
    body = reply_json(response)
    if not (isinstance(body, dict) and isinstance(body.get("Results"), list) and "TOTAL" in body):
        return probe.result("degraded", f"200 from {path} but not the {{TOTAL, Results}} envelope")
    return probe.result("up", f"200 from {path} (TOTAL {body['TOTAL']} for q={query})")


DESCRIPTORS = (
    SourceDescriptor(
        "assessor",
        "maricopa",
        resource=MaricopaResource.from_settings,
        settings=MaricopaSettings.from_env,
        service="county_api",
        pool="maricopa_api",  # every step that calls the county
        pool_limit=lambda settings: settings.pool_limit,  # MARICOPA_POOL_LIMIT
        secrets=("MARICOPA_API_TOKEN", "PHOENIX_RATE_LIMIT_STORE"),
        remedies={
            "refused": "check MARICOPA_API_TOKEN",
            "down": "check MARICOPA_API_URL and the county's status",
            "misconfigured": "check MARICOPA_API_URL and MARICOPA_API_TOKEN",
        },
    ),
)
