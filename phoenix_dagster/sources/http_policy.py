"""Retries, timeouts and body caps of one HTTP source, as the Dagster config its resource shows."""

from __future__ import annotations

import dagster as dg

from phoenix_dagster.sources.http import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_FETCH_BYTES,
    HTTP_MAX_ATTEMPTS,
    HTTP_TIMEOUT_S,
    RetryPolicy,
)


class HttpPolicy(dg.Config):
    """Retries and timeouts for one HTTP source."""

    timeout_s: float = HTTP_TIMEOUT_S
    retry_budget: int = 200
    max_attempts: int = HTTP_MAX_ATTEMPTS
    backoff_base_s: float = 1.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # PHOENIX_MAX_BODY_MB
    max_fetch_bytes: int = DEFAULT_MAX_FETCH_BYTES  # PHOENIX_MAX_FETCH_MB: every reply of one collection, together

    @classmethod
    def from_shared(cls, shared) -> HttpPolicy:
        return cls(max_body_bytes=shared.max_body_bytes, max_fetch_bytes=shared.max_fetch_bytes)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=self.max_attempts, backoff_base_s=self.backoff_base_s)
