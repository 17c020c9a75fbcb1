"""The embedded sample: recorded replies in the county's and a RESO feed's shapes.

Replays files from `data/sample/` (see its README for what is real and what is
constructed), as they read on the partition's day (sample_evolution: the files themselves on
BASE_DAY). Needs no network; `fetched_at` is the partition's day, so a re-run of a
partition produces byte-identical payloads.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import dagster as dg

from phoenix_dagster.sources.base import ListingFetch, RawPayload, RecordedRequests, RequestRecord
from phoenix_dagster.sources.json_reply import UnreadableJson, read_json
from phoenix_dagster.sources.registry import SourceDescriptor
from phoenix_dagster.sources.sample_evolution import evolve_listing_page, evolve_parcel_body, evolve_search_page

NO_MATCH = b'{\n "TOTAL": 0,\n "Results": []\n}'
NOT_FOUND = b"[parcel]:Requested content was not found"


class SampleAssessorApi(RecordedRequests):
    name = "sample"

    def __init__(self, sample_dir: Path, fetched_at: datetime):
        self.dir = sample_dir / "assessor"
        self.fetched_at = fetched_at
        self.records: list[RequestRecord] = []
        self._parcel_replies: dict[str, dict] = {}
        for path in sorted((self.dir / "parcels").glob("*.jsonl")):
            for line in path.read_text().splitlines():
                reply = json.loads(line)
                self._parcel_replies[reply["path"]] = reply

    def close(self) -> None:
        """Nothing to release; here so every assessor API closes alike."""

    def _replay(self, endpoint: str, entity: str, key: str, request: str, status: int, body: bytes) -> RawPayload:
        outcome = {200: "ok", 404: "not_found"}.get(status, "server_error")
        self.records.append(RequestRecord(endpoint, status, outcome, 1, len(body), 0.0, 0.0))
        return RawPayload(self.name, entity, key, request, status, self.fetched_at, body)

    def _has_detail(self, apn: str) -> bool:
        """Whether the sample holds a readable detail for `apn` (only those parcels evolve)."""
        reply = self._parcel_replies.get(f"/parcel/{apn}")
        if reply is None or reply["status"] != 200:
            return False
        try:
            return isinstance(read_json(reply["body"]), dict)
        except UnreadableJson:  # the truncated reply
            return False

    def search_page(self, query: str, page: int) -> RawPayload:
        path = self.dir / "search" / f"q{query}_page{page:03d}.json"
        body = path.read_bytes() if path.exists() else NO_MATCH
        body = evolve_search_page(body, self.fetched_at.date(), self._has_detail)  # the file on BASE_DAY
        return self._replay(
            "search", "search_page", f"q={query}&page={page}", f"/search/property/?q={query}&page={page}", 200, body
        )

    def parcel(self, apn: str) -> RawPayload:
        path = f"/parcel/{apn}"
        reply = self._parcel_replies.get(path, {"status": 404, "body": NOT_FOUND.decode()})
        body = evolve_parcel_body(reply["body"], self.fetched_at.date()) if reply["status"] == 200 else reply["body"]
        return self._replay("parcel", "parcel", apn, path, reply["status"], body.encode())


class SampleListingSource(RecordedRequests):
    """One RESO-shaped page (`{"value": [...]}`) per ZIP code, the complete set each time, as it
    reads on the partition's day (sample_evolution: the file itself on BASE_DAY)."""

    name = "sample"
    complete = True

    def __init__(self, sample_dir: Path, fetched_at: datetime):
        self.dir = sample_dir / "listings"
        self.parcels_dir = sample_dir / "assessor" / "parcels"
        self.fetched_at = fetched_at
        self.records: list[RequestRecord] = []

    def fetch(self, zip_code: str, since: datetime | None = None) -> ListingFetch:
        path = self.dir / f"{zip_code}.json"
        body = path.read_bytes() if path.exists() else b'{"value": []}'
        body = evolve_listing_page(
            body,
            zip_code,
            self.fetched_at.date(),  # the file on BASE_DAY, evolved by day
            lambda: self._parcel_details(zip_code),
        )
        self.records.append(RequestRecord("listings", 200, "ok", 1, len(body), 0.0, 0.0))
        return ListingFetch(
            [
                RawPayload(
                    self.name,
                    "listing_page",
                    f"{zip_code}:1",
                    f"/Property?PostalCode={zip_code}",
                    200,
                    self.fetched_at,
                    body,
                )
            ]
        )

    def _parcel_details(self, zip_code: str) -> list[dict]:
        """The ZIP's readable parcel details as the files hold them (BASE_DAY): new listings are
        drawn from them, so a listing's price stays what it was listed at."""
        path = self.parcels_dir / f"{zip_code}.jsonl"
        details = []
        for line in path.read_text().splitlines() if path.exists() else []:
            reply = json.loads(line)
            if reply["status"] != 200:
                continue
            try:
                detail = read_json(reply["body"])
            except UnreadableJson:  # the truncated reply
                continue
            if isinstance(detail, dict):
                details.append(detail)
        return details


class SampleAssessorResource(dg.ConfigurableResource):
    """The sample's county replies, stamped with the partition's day."""

    sample_dir: str

    @classmethod
    def from_settings(cls, settings, shared, secret) -> SampleAssessorResource:
        return cls(sample_dir=shared.sample_dir)

    def open(self, *, replay_time: datetime, day: str | None = None) -> SampleAssessorApi:
        return SampleAssessorApi(Path(self.sample_dir), replay_time)


class SampleListingResource(dg.ConfigurableResource):
    """The sample's RESO pages, stamped with the partition's day."""

    sample_dir: str

    @classmethod
    def from_settings(cls, settings, shared, secret) -> SampleListingResource:
        return cls(sample_dir=shared.sample_dir)

    def open(self, *, replay_time: datetime, day: str | None = None) -> SampleListingSource:
        return SampleListingSource(Path(self.sample_dir), replay_time)


DESCRIPTORS = (
    # replays files: nothing outside to probe, nothing shared, so a day's partitions collect at once
    SourceDescriptor("assessor", "sample", resource=SampleAssessorResource.from_settings),
    # each day's page lists every current listing
    SourceDescriptor("listings", "sample", resource=SampleListingResource.from_settings, complete=True),
)
