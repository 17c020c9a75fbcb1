"""The Maricopa County Assessor API (https://mcassessor.maricopa.gov), as documented in
shared/reference/maricopa-assessor-api.md.

- Headers exactly as the county requires: ``AUTHORIZATION: <token>`` and ``user-agent: null``.
- ``GET /search/property/?q=<query>&page=<n>`` and ``GET /parcel/{apn}``.
- A bad token is answered with HTTP 500 "Unauthorized access!": an authentication error,
  never retried; after it this client makes no more requests.
- 429 (Retry-After honoured, and every thread held back), 5xx, timeouts and broken
  connections are retried with exponential backoff and full jitter, within a per-attempt
  limit and a retry budget shared by the run.
- A reply that is still an error after its retries is returned (and landed) as it came;
  a request that never got a reply raises FetchFailed.

The token lives only in the httpx client's headers: not in paths, records, errors or logs.
"""

from __future__ import annotations

import email.utils
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

import httpx
import tenacity

from phoenix_dagster.sources.base import FetchFailed, RawPayload, RequestRecord
from phoenix_dagster.sources.rate_limit import SlidingWindowLimiter

DEFAULT_URL = "https://mcassessor.maricopa.gov"
AUTH_MARKER = "Unauthorized access"


class MaricopaAuthError(RuntimeError):
    """The county refused the token; the message tells the user what to check."""

    @classmethod
    def refused(cls, path: str) -> "MaricopaAuthError":
        return cls(f"The Maricopa Assessor API refused the token (HTTP 500 'Unauthorized access!' on {path}): "
                   "check MARICOPA_API_TOKEN. No further requests were made.")


class _RetryableReply(Exception):
    def __init__(self, response: httpx.Response):
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


@dataclass
class RetryBudget:
    """Retries the whole run may spend, shared by every request."""

    remaining: int
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self) -> bool:
        with self._lock:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def _outcome(response: httpx.Response) -> str:
    status = response.status_code
    if status == 200:
        return "ok"
    if status == 404:
        return "not_found"
    if status == 429:
        return "rate_limited"
    return "server_error" if status >= 500 else "client_error"


class MaricopaApi:
    name = "maricopa"

    def __init__(self, base_url: str, token: str, *, limiter: SlidingWindowLimiter, budget: RetryBudget,
                 timeout_s: float = 30.0, max_attempts: int = 5, backoff_base_s: float = 1.0,
                 backoff_cap_s: float = 60.0, max_retry_after_s: float = 600.0,
                 transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep):
        if not token:
            raise MaricopaAuthError("MARICOPA_API_TOKEN is not set: the county answers every request without a "
                                    "token with 'Unauthorized access!'. Request one from the Assessor's office.")
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"AUTHORIZATION": token, "user-agent": "null", "accept": "application/json"},
            timeout=timeout_s,
            transport=transport,
        )
        self.limiter, self.budget = limiter, budget
        self.max_attempts, self.backoff_base_s, self.backoff_cap_s = max_attempts, backoff_base_s, backoff_cap_s
        self.max_retry_after_s = max_retry_after_s
        self._sleep = sleep
        self.records: list[RequestRecord] = []
        self._auth_failed = threading.Event()

    def close(self) -> None:
        self._client.close()

    def search_page(self, query: str, page: int) -> RawPayload:
        return self._get("search", "search_page", f"q={query}&page={page}", f"/search/property/?q={query}&page={page}")

    def parcel(self, apn: str) -> RawPayload:
        return self._get("parcel", "parcel", apn, f"/parcel/{apn}")

    # -- one request, with its retries -------------------------------------------------
    def _wait(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _RetryableReply):
            told = retry_after_seconds(error.response.headers.get("Retry-After"))
            if told is not None:
                told = min(told, self.max_retry_after_s)
                self.limiter.pause(told)  # everybody waits, not only this request
                return told
        backoff = tenacity.wait_random_exponential(multiplier=self.backoff_base_s, max=self.backoff_cap_s)
        return backoff(state)

    def _stop(self, state: tenacity.RetryCallState) -> bool:
        return state.attempt_number >= self.max_attempts or self._auth_failed.is_set() or not self.budget.take()

    def _get(self, endpoint: str, entity: str, record_key: str, path: str) -> RawPayload:
        retrying = tenacity.Retrying(
            stop=self._stop, wait=self._wait, sleep=self._sleep, reraise=True,
            retry=tenacity.retry_if_exception_type((_RetryableReply, httpx.TimeoutException, httpx.TransportError)),
        )
        try:
            response = retrying(self._attempt, endpoint, path, retrying)
        except _RetryableReply as exhausted:
            response = exhausted.response
        except httpx.TimeoutException as exc:
            raise FetchFailed(record_key, path, f"timed out after {self.max_attempts} attempts or the retry budget "
                                                f"({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise FetchFailed(record_key, path, f"no complete reply ({type(exc).__name__}: {exc})") from None
        return RawPayload(self.name, entity, record_key, path, response.status_code, datetime.now(timezone.utc),
                          response.content)

    def _attempt(self, endpoint: str, path: str, retrying: tenacity.Retrying) -> httpx.Response:
        if self._auth_failed.is_set():
            raise MaricopaAuthError.refused(path)
        waited = self.limiter.acquire()
        started = time.perf_counter()
        attempt = retrying.statistics.get("attempt_number", 1)
        try:
            response = self._client.get(path)
            response.read()
        except httpx.TimeoutException:
            self._record(endpoint, None, "timeout", attempt, 0, started, waited)
            raise
        except httpx.TransportError:
            self._record(endpoint, None, "connection", attempt, 0, started, waited)
            raise
        if response.status_code == 500 and AUTH_MARKER in response.text:
            self._auth_failed.set()
            self._record(endpoint, 500, "auth", attempt, len(response.content), started, waited)
            raise MaricopaAuthError.refused(path)
        outcome = _outcome(response)
        self._record(endpoint, response.status_code, outcome, attempt, len(response.content), started, waited)
        if outcome in ("rate_limited", "server_error"):
            raise _RetryableReply(response)
        return response

    def _record(self, endpoint: str, status: int | None, outcome: str, attempt: int, size: int, started: float,
                waited: float) -> None:
        self.records.append(RequestRecord(endpoint, status, outcome, attempt, size,
                                          time.perf_counter() - started, waited))
