"""What every source hands the raw layer: payloads exactly as received."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import polars as pl

RAW_PAYLOAD_SCHEMA = {
    "source": pl.String,
    "entity": pl.String,
    "record_key": pl.String,
    "request": pl.String,
    "http_status": pl.Int32,
    "fetched_at": pl.Datetime("us", "UTC"),
    "sha256": pl.String,
    "bytes": pl.Int64,
    "body": pl.Binary,
}


@dataclass(frozen=True)
class RawPayload:
    """One response body as a source returned it, before anything parses it.

    `request` is the path and query only: credentials travel in headers and never here.
    """

    source: str
    entity: str
    record_key: str
    request: str
    http_status: int
    fetched_at: datetime
    body: bytes
    sha256: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", hashlib.sha256(self.body).hexdigest())


def payloads_frame(payloads: Iterable[RawPayload]) -> pl.DataFrame:
    rows = [
        {
            "source": p.source,
            "entity": p.entity,
            "record_key": p.record_key,
            "request": p.request,
            "http_status": p.http_status,
            "fetched_at": p.fetched_at,
            "sha256": p.sha256,
            "bytes": len(p.body),
            "body": p.body,
        }
        for p in payloads
    ]
    return pl.DataFrame(rows, schema=RAW_PAYLOAD_SCHEMA)


@dataclass(frozen=True)
class RequestRecord:
    """One attempt at one request, for the run's request log (ops.source_requests)."""

    endpoint: str  # search | parcel | listings
    status: int | None  # None: no HTTP reply
    outcome: str  # ok, not_found, redirect, rate_limited, server_error, client_error, timeout, connection, undecodable, too_large, auth
    attempt: int  # 1 for the first try, 2+ for retries
    bytes: int
    seconds: float
    waited_s: float  # time held by the rate limit before it started


class CollectionFailed(RuntimeError):
    """A source cannot collect the partition at all (a refused token, a search that cannot be
    enumerated, a shared store gone): the collection step fails with this message, having recorded
    the requests it made. Anything a single reply does wrong is quarantined instead."""


class SourceUnavailable(CollectionFailed):
    """The source cannot collect any ZIP (a refused token, its rate limit's shared store gone): the
    collection step stops at once instead of asking about the county's other ZIPs."""


class FetchFailed(RuntimeError):
    """A source got no usable reply for a record after every retry."""

    def __init__(self, record_key: str, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.record_key, self.path, self.reason = record_key, path, reason


class AssessorApi(Protocol):
    """The county assessor's two endpoints the collector uses."""

    name: str
    records: list[RequestRecord]

    def search_page(self, query: str, page: int) -> RawPayload: ...

    def parcel(self, apn: str) -> RawPayload: ...

    def request_summary(self) -> pl.DataFrame: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class FetchFailure:
    """A record a source could not get, with the reason; it goes to ops.quarantine."""

    record_key: str
    request: str
    reason: str


@dataclass
class ListingFetch:
    payloads: list[RawPayload] = field(default_factory=list)
    failures: list[FetchFailure] = field(default_factory=list)
    cut_short: str | None = None  # why a complete source's fetch did not see everything (it then replaces nothing)


class ListingSource(Protocol):
    """A listing feed for one ZIP code.

    `complete` sources return every current listing of the ZIP on each fetch (a listing
    missing from today's fetch is gone); incremental ones return only what changed since
    `since` (the latest ModificationTimestamp already staged).
    """

    name: str
    complete: bool
    records: list[RequestRecord]

    def fetch(self, zip_code: str, since: datetime | None) -> ListingFetch: ...

    def request_summary(self) -> pl.DataFrame: ...


def request_summary(records: list[RequestRecord], proxy_bytes: int = 0) -> pl.DataFrame:
    """Attempts grouped by endpoint, outcome and status: requests, retries, bytes, seconds, waits;
    bytes sent through paid proxies as an endpoint `proxy` of their own."""
    frame = pl.DataFrame(
        [r.__dict__ for r in records],
        schema={
            "endpoint": pl.String,
            "status": pl.Int32,
            "outcome": pl.String,
            "attempt": pl.Int64,
            "bytes": pl.Int64,
            "seconds": pl.Float64,
            "waited_s": pl.Float64,
        },
    )
    summary = (
        frame.group_by("endpoint", "outcome", "status")
        .agg(
            pl.len().cast(pl.Int64).alias("requests"),
            (pl.col("attempt") > 1).sum().cast(pl.Int64).alias("retries"),
            pl.col("bytes").sum(),
            pl.col("seconds").sum(),
            pl.col("waited_s").sum().alias("rate_limit_wait_s"),
        )
        .sort("endpoint", "outcome", "status")
    )
    if not proxy_bytes:
        return summary
    proxied = {"endpoint": "proxy", "outcome": "ok", "status": None, "requests": 0, "retries": 0}
    proxied |= {"bytes": proxy_bytes, "seconds": 0.0, "rate_limit_wait_s": 0.0}
    return pl.concat([summary, pl.DataFrame([proxied], schema=summary.schema)])


class RecordedRequests:
    """A client that keeps a record of its requests and reports their summary for the ledger."""

    records: list[RequestRecord]
    proxy_bytes: int = 0  # bytes its paid proxies carried (the MLS crawler's)

    def request_summary(self) -> pl.DataFrame:
        return request_summary(self.records, self.proxy_bytes)
