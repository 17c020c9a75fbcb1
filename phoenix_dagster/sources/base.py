"""What every source hands the raw layer: payloads exactly as received."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Protocol

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

    ``request`` is the path and query only: credentials travel in headers and never here.
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


class AssessorApi(Protocol):
    """The county assessor's two endpoints the collector uses."""

    name: str

    def search_page(self, query: str, page: int) -> RawPayload: ...

    def parcel(self, apn: str) -> RawPayload: ...


class ListingSource(Protocol):
    name: str

    def fetch(self, zip_code: str) -> list[RawPayload]: ...
