"""Polite HTTP for every source: one rate limit per host for the whole process, retries
with exponential backoff and full jitter (tenacity) within a per-attempt limit and a
per-run budget, Retry-After honoured for every thread, and a record of every attempt.

A source supplies what is specific to its contract: headers, and `classify` to tell an
authentication failure from a transient one.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import tenacity

from phoenix_dagster.sources.base import FetchFailed, RecordedRequests, RequestRecord, SourceUnavailable
from phoenix_dagster.sources.rate_limit import SlidingWindowLimiter

HTTP_TIMEOUT_S = 30.0  # an HTTP source's connect/read timeout, per request
HTTP_MAX_ATTEMPTS = 5  # tries of one request before its record is quarantined (429/5xx/timeouts retried)
DEFAULT_MAX_BODY_BYTES = 16 * 2**20  # a reply's decoded body, enforced while it streams in
DEFAULT_MAX_FETCH_BYTES = 1024 * 2**20  # every reply of one source's collection for a partition, together


class AuthenticationFailed(SourceUnavailable):
    """The source refused the credentials; the message says which setting to check."""


class ReplyTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"reply larger than {limit / 2**20:g} MB decoded (PHOENIX_MAX_BODY_MB); not read further")


class FetchBytesSpent(Exception):
    """The collection's replies reached its total-bytes cap (PHOENIX_MAX_FETCH_MB): no more requests."""

    def __init__(self, limit: int):
        super().__init__(
            f"the collection's replies reached {limit / 2**20:g} MB together (PHOENIX_MAX_FETCH_MB); "
            "no more requests this run"
        )


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
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def default_outcome(response: httpx.Response) -> str:
    status = response.status_code
    if status == 200:
        return "ok"
    if status == 404:
        return "not_found"
    if status == 429:
        return "rate_limited"
    if 300 <= status < 400:
        return "redirect"
    return "server_error" if status >= 500 else "client_error"


@dataclass
class RetryPolicy:
    max_attempts: int = HTTP_MAX_ATTEMPTS
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 60.0
    max_retry_after_s: float = 600.0


class HttpSource(RecordedRequests):
    """What every HTTP source shares: its polite client, the record of its attempts, closing."""

    _http: PoliteClient

    @property
    def records(self) -> list[RequestRecord]:
        return self._http.records

    def close(self) -> None:
        self._http.close()

    def stop(self) -> None:
        """Stop making requests (see PoliteClient.stop)."""
        self._http.stop()


class CollectionStopped(Exception):
    """The collection was stopped (its run interrupted) while a request waited its turn."""


class PoliteClient:
    """GETs through an httpx client under a shared limiter, retrying what is transient.

    `auth_failure(response)` returns a message when the reply means the credentials were
    refused; the client then raises AuthenticationFailed and makes no further requests.
    """

    def __init__(
        self,
        client: httpx.Client,
        *,
        limiter: SlidingWindowLimiter,
        budget: RetryBudget,
        policy: RetryPolicy | None = None,
        auth_failure: Callable[[httpx.Response], str | None] = lambda r: None,
        sleep: Callable[[float], None] | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_total_bytes: int | None = None,
    ):
        self.client, self.limiter, self.budget = client, limiter, budget
        self.max_body_bytes, self.max_total_bytes = max_body_bytes, max_total_bytes
        self.bytes_received = 0  # decoded reply bytes of every request so far, against max_total_bytes
        self._bytes_lock = threading.Lock()
        self.policy = policy or RetryPolicy()
        self.auth_failure = auth_failure
        self._stopping = threading.Event()
        self._sleep = sleep or self._sleep_unless_stopped
        self.records: list[RequestRecord] = []
        self._refused: str | None = None

    def close(self) -> None:
        self.client.close()

    def stop(self) -> None:
        """No more requests: those waiting for the rate limiter, a Retry-After or a backoff give up
        at once (CollectionStopped) instead of sleeping it out and asking once more. For a run
        that was interrupted."""
        self._stopping.set()

    def _sleep_unless_stopped(self, seconds: float) -> None:
        if self._stopping.wait(seconds):
            raise CollectionStopped("the collection was stopped")

    def get(self, endpoint: str, url: str, record_key: str, **kwargs) -> httpx.Response:
        """The reply (a 2xx, 404, or an error still failing after its retries), or FetchFailed."""
        retrying = tenacity.Retrying(
            stop=self._stop,
            wait=self._wait,
            sleep=self._sleep,
            reraise=True,
            retry=tenacity.retry_if_exception_type(
                (_RetryableReply, httpx.TimeoutException, httpx.TransportError, httpx.DecodingError)
            ),
        )
        try:
            return retrying(self._attempt, endpoint, url, retrying, kwargs)
        except _RetryableReply as exhausted:
            return exhausted.response
        except (ReplyTooLarge, FetchBytesSpent) as exc:  # not retried: as large again, or nothing left to spend
            raise FetchFailed(record_key, url, str(exc)) from None
        except httpx.TimeoutException as exc:
            raise FetchFailed(
                record_key, url, f"timed out on every attempt or the retry budget ran out ({type(exc).__name__})"
            ) from None
        except httpx.TransportError as exc:
            raise FetchFailed(record_key, url, f"no complete reply ({type(exc).__name__}: {exc})") from None
        except httpx.DecodingError as exc:  # a Content-Encoding the body does not match, on every attempt
            raise FetchFailed(record_key, url, f"the reply's body could not be decoded ({exc})") from None

    def _wait(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _RetryableReply):
            told = retry_after_seconds(error.response.headers.get("Retry-After"))
            if told is not None:
                told = min(told, self.policy.max_retry_after_s)
                self.limiter.pause(told)  # everybody waits, not only this request
                return told
        backoff = tenacity.wait_random_exponential(multiplier=self.policy.backoff_base_s, max=self.policy.backoff_cap_s)
        return backoff(state)

    def _stop(self, state: tenacity.RetryCallState) -> bool:
        return state.attempt_number >= self.policy.max_attempts or self._refused is not None or not self.budget.take()

    def _attempt(self, endpoint: str, url: str, retrying: tenacity.Retrying, kwargs: dict) -> httpx.Response:
        if self._refused is not None:
            raise AuthenticationFailed(self._refused)
        if self._stopping.is_set():
            raise CollectionStopped("the collection was stopped")
        if self.fetch_bytes_spent:
            raise FetchBytesSpent(self.max_total_bytes)
        waited = self.limiter.acquire(sleep=self._sleep_unless_stopped)
        if self.fetch_bytes_spent:  # spent by other threads while this one waited its turn
            raise FetchBytesSpent(self.max_total_bytes)
        started = time.perf_counter()
        attempt = retrying.statistics.get("attempt_number", 1)
        try:
            response = self._bounded_get(url, kwargs)
        except ReplyTooLarge:
            self._record(endpoint, None, "too_large", attempt, self.max_body_bytes, started, waited)
            raise
        except httpx.TimeoutException:
            self._record(endpoint, None, "timeout", attempt, 0, started, waited)
            raise
        except httpx.TransportError:
            self._record(endpoint, None, "connection", attempt, 0, started, waited)
            raise
        except httpx.DecodingError:
            self._record(endpoint, None, "undecodable", attempt, 0, started, waited)
            raise
        refused = self.auth_failure(response)
        if refused:
            self._refused = refused
            self._record(endpoint, response.status_code, "auth", attempt, len(response.content), started, waited)
            raise AuthenticationFailed(refused)
        outcome = default_outcome(response)
        self._record(endpoint, response.status_code, outcome, attempt, len(response.content), started, waited)
        if outcome in ("rate_limited", "server_error"):
            raise _RetryableReply(response)
        return response

    @property
    def fetch_bytes_spent(self) -> bool:
        """Whether the replies so far reached the collection's total-bytes cap."""
        return self.max_total_bytes is not None and self.bytes_received >= self.max_total_bytes

    def _bounded_get(self, url: str, kwargs: dict) -> httpx.Response:
        """GET, reading the decoded body as it streams and stopping past `max_body_bytes` (a small
        gzip can inflate to gigabytes)."""
        with self.client.stream("GET", url, **kwargs) as streamed:
            body = bytearray()
            for chunk in streamed.iter_bytes():
                body += chunk
                with self._bytes_lock:  # every thread's replies count against the collection's cap as they stream
                    self.bytes_received += len(chunk)
                if len(body) > self.max_body_bytes:
                    raise ReplyTooLarge(self.max_body_bytes)
                if self.fetch_bytes_spent:
                    raise FetchBytesSpent(self.max_total_bytes)
            headers = [
                (k, v)
                for k, v in streamed.headers.multi_items()
                if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
            ]
            return httpx.Response(
                streamed.status_code,
                headers=headers,
                content=bytes(body),
                request=streamed.request,
                extensions=streamed.extensions,
            )

    def _record(
        self, endpoint: str, status: int | None, outcome: str, attempt: int, size: int, started: float, waited: float
    ) -> None:
        self.records.append(
            RequestRecord(endpoint, status, outcome, attempt, size, time.perf_counter() - started, waited)
        )
