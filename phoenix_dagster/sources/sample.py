"""The embedded sample: recorded replies in the county's and a RESO feed's shapes.

Replays files from ``data/sample/`` (see its README for what is real and what is
constructed). Needs no network; ``fetched_at`` is the partition's day, so a re-run of a
partition produces byte-identical payloads.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cached_property
from pathlib import Path

from phoenix_dagster.sources.base import RawPayload

NO_MATCH = b'{\n "TOTAL": 0,\n "Results": []\n}'
NOT_FOUND = b"[parcel]:Requested content was not found"


class SampleAssessorApi:
    name = "sample"

    def __init__(self, sample_dir: Path, fetched_at: datetime):
        self.dir = sample_dir / "assessor"
        self.fetched_at = fetched_at

    def search_page(self, query: str, page: int) -> RawPayload:
        path = self.dir / "search" / f"q{query}_page{page:03d}.json"
        body = path.read_bytes() if path.exists() else NO_MATCH
        return RawPayload(self.name, "search_page", f"q={query}&page={page}",
                          f"/search/property/?q={query}&page={page}", 200, self.fetched_at, body)

    @cached_property
    def _parcel_replies(self) -> dict[str, dict]:
        replies = {}
        for path in sorted((self.dir / "parcels").glob("*.jsonl")):
            for line in path.read_text().splitlines():
                reply = json.loads(line)
                replies[reply["path"]] = reply
        return replies

    def parcel(self, apn: str) -> RawPayload:
        path = f"/parcel/{apn}"
        reply = self._parcel_replies.get(path, {"status": 404, "body": NOT_FOUND.decode()})
        return RawPayload(self.name, "parcel", apn, path, reply["status"], self.fetched_at, reply["body"].encode())


class SampleListingSource:
    """One RESO-shaped page (``{"value": [...]}``) per ZIP code."""

    name = "sample"

    def __init__(self, sample_dir: Path, fetched_at: datetime):
        self.dir = sample_dir / "listings"
        self.fetched_at = fetched_at

    def fetch(self, zip_code: str) -> list[RawPayload]:
        path = self.dir / f"{zip_code}.json"
        body = path.read_bytes() if path.exists() else b'{"value": []}'
        return [RawPayload(self.name, "listing_page", f"{zip_code}:1", f"/Property?PostalCode={zip_code}",
                           200, self.fetched_at, body)]
