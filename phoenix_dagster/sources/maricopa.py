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

from datetime import UTC, datetime

import httpx

from phoenix_dagster.settings import DEFAULT_MAX_BODY_BYTES, HTTP_MAX_ATTEMPTS, HTTP_TIMEOUT_S
from phoenix_dagster.sources.base import RawPayload
from phoenix_dagster.sources.http import AuthenticationFailed, HttpSource, PoliteClient, RetryBudget, RetryPolicy
from phoenix_dagster.sources.rate_limit import SlidingWindowLimiter
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


DESCRIPTORS = (
    SourceDescriptor(
        "assessor",
        "maricopa",
        service="county_api",
        remedies={
            "refused": "check MARICOPA_API_TOKEN",
            "down": "check MARICOPA_API_URL and the county's status",
            "misconfigured": "check MARICOPA_API_URL and MARICOPA_API_TOKEN",
        },
    ),
)
