"""The raw layer, append-only: a collection's replies land in Parquet parts while it runs, and a
collection that was killed is resumed from what it landed without asking the source again.

    <raw asset>/zip=<ZIP>/date=<day>/runs/<started>__<run>/part-<n>.parquet   replies, as they land
    <raw asset>/zip=<ZIP>/date=<day>/runs/<started>__<run>/replies.parquet    …all of them, once it ended
    <raw asset>/zip=<ZIP>/date=<day>/runs/<started>__<run>/_collected.parquet  the run's collection ended
    <raw asset>/zip=<ZIP>/date=<day>/data.parquet                            a collection of an older version

A part is written (whole: a temporary file renamed, or one PUT on S3) every `part_replies`
replies, and every `part_seconds` seconds while replies wait (a timer, so a source that stalls
does not hold them), so a crash loses at most the replies since the last part; a collection that
fails leaves what it fetched in a last part (`abandon`). When the collection ends, its parts are
gathered into one file (`replies.parquet`: at the county's pace a part holds a few replies, and
later collections read a month of partitions), `_collected.parquet` listing it is written, and
only then are the parts removed. A run folder without `_collected.parquet` is a collection that
did not end. A re-run of a partition adds a run folder beside
the earlier ones and never touches them; readers take the newest collection that ended (the
older version's `data.parquet` counts as older than any run folder). Only retention rewrites raw
files, each in place.

A collection that starts after one that did not end (since the last one that did) is handed
that one's replies (`earlier`): it lands them again in its own parts, so its collection is whole
on its own, and asks the source only for the rest. Only replies worth keeping are taken (the
record, or the source saying it has none); an error reply (a 5xx, a 429) is asked again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from phoenix_dagster.redact import mask_url
from phoenix_dagster.sources.base import RAW_PAYLOAD_SCHEMA, RawPayload, payloads_frame
from phoenix_dagster.storage.lake_storage import LakeStorage

RUNS_DIR = "runs"
COLLECTED = "_collected.parquet"
FAILED = "_failed.parquet"  # a collection that failed on what the source answered: its replies are not taken
GATHERED = "replies.parquet"  # a collection's parts, gathered into one file when it ended
LEGACY_FILE = "data.parquet"
DEFAULT_PART_REPLIES = 250
DEFAULT_PART_SECONDS = 30.0
RAW_ROW_GROUP_ROWS = 2_000  # ~40 MB of county details a row group at ~20 KB a body
TAKEN_STATUSES = frozenset({200, 404})  # replies a later collection takes instead of asking again
COLLECTED_SCHEMA = {"run_id": pl.String, "part": pl.String, "replies": pl.Int64, "resumed_from": pl.String}


def run_folder_name(started_at: datetime, run_id: str) -> str:
    """`<UTC start, to the microsecond>__<run id>`: folders sort in the order their runs started."""
    return f"{started_at.astimezone(UTC):%Y%m%dT%H%M%S%fZ}__{run_id}"


@dataclass(frozen=True)
class RunFolder:
    location: str  # where it is (a path or an s3:// URL)
    name: str
    collected: bool  # its collection ended: `_collected.parquet` is there
    failed: bool = False  # it failed on what the source answered (`_failed.parquet`): nothing of it is taken

    @property
    def run_id(self) -> str:
        return self.name.split("__", 1)[1]


def run_folders(storage: LakeStorage, partition_dir: str) -> list[RunFolder]:
    """The partition's run folders, oldest first (`partition_dir` relative to the lake's root, as
    every `partition_dir` here)."""
    parts = storage.glob(f"{partition_dir}/{RUNS_DIR}/*/*.parquet")
    folders: dict[str, set[str]] = {}
    for path in parts:
        folder, file = path.rsplit("/", 1)
        folders.setdefault(folder, set()).add(file)
    return [
        RunFolder(folder, folder.rsplit("/", 1)[1], COLLECTED in files, FAILED in files)
        for folder, files in sorted(folders.items())
    ]


def collected_files(storage: LakeStorage, partition_dir: str, run_id: str | None = None) -> list[str] | None:
    """The files holding the partition's newest collection that ended (its parts, or an older
    version's whole file), or `run_id`'s when that run's collection ended (a step reading what its
    own run collected, whatever another run of the partition did meanwhile); None when no
    collection of the partition has ended."""
    ended = [folder for folder in run_folders(storage, partition_dir) if folder.collected]
    chosen = [folder for folder in ended if folder.run_id == run_id] or ended
    if chosen:
        listed = storage.read_parquet(f"{chosen[-1].location}/{COLLECTED}")
        return [f"{chosen[-1].location}/{part}" for part in listed["part"].to_list()]
    return _legacy_file(storage, partition_dir) or None


def _legacy_file(storage: LakeStorage, partition_dir: str) -> list[str]:
    """The partition's whole file written by a version before run folders, if it has one."""
    legacy = storage.join(partition_dir, LEGACY_FILE)
    return [legacy] if storage.exists(legacy) else []


def every_raw_file(storage: LakeStorage, partition_dir: str) -> list[str]:
    """Every file of the partition that holds replies (each run's parts, ended or not, and an
    older version's whole file): what retention rewrites. (A part being written when its process
    was killed is a temporary file, `left_behind`.)"""
    parts = [p for p in storage.glob(f"{partition_dir}/{RUNS_DIR}/*/*.parquet") if not p.endswith((COLLECTED, FAILED))]
    return [*_legacy_file(storage, partition_dir), *parts]


def left_behind(storage: LakeStorage, partition_dir: str) -> list[str]:
    """Temporary files of parts whose process was killed while writing them (local lakes only: an
    S3 part is one PUT): never read, removed by retention with the partition's replies."""
    return storage.glob(f"{partition_dir}/{RUNS_DIR}/*/*.tmp")


def unfinished_replies(storage: LakeStorage, partition_dir: str) -> tuple[pl.DataFrame, list[str]]:
    """The replies landed by collections of the partition that did not end, since its newest
    collection that did (the latest reply of each entity and record key), and those runs' ids; a
    collection that failed on what the source answered (a ZIP the county would not enumerate) is
    passed over: the next run asks again."""
    folders = run_folders(storage, partition_dir)
    # a failed collection is a cut-off too: it had landed again whatever it took from before it
    last_ended = max((i for i, folder in enumerate(folders) if folder.collected or folder.failed), default=-1)
    unfinished = folders[last_ended + 1 :]
    parts = [p for f in unfinished for p in storage.glob(f"{partition_dir}/{RUNS_DIR}/{f.name}/part-*.parquet")]
    if not parts:
        return pl.DataFrame(schema=RAW_PAYLOAD_SCHEMA), []
    replies = (
        storage.scan_parquet(parts)
        .sort("fetched_at")
        .unique(["entity", "record_key"], keep="last", maintain_order=True)
        .collect()
    )
    return replies, [folder.run_id for folder in unfinished]


@dataclass(frozen=True)
class LandedCollection:
    """A collection that ended: where its parts are, how many replies and bytes they hold."""

    folder: str
    parts: tuple[str, ...]
    replies: int
    bytes: int


@dataclass
class RawLanding:
    """One run's landing of one raw partition: `land` each reply as it arrives (from any thread),
    `finish` when the collection ends. `earlier` holds the replies of collections that did not
    end, by (entity, record key), for the collection to take instead of asking again."""

    storage: LakeStorage
    partition_dir: str
    run_id: str
    started_at: datetime
    part_replies: int = DEFAULT_PART_REPLIES
    part_seconds: float = DEFAULT_PART_SECONDS
    earlier: dict[tuple[str, str], RawPayload] = field(default_factory=dict)
    resumed_from: list[str] = field(default_factory=list)
    taken: int = 0  # replies taken from `earlier` instead of asking the source
    parts: list[tuple[str, int]] = field(default_factory=list)  # (file name, replies) landed so far
    _pending: list[RawPayload] = field(default_factory=list)
    _bytes: int = 0  # reply bodies landed
    _last_write: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _timer: threading.Thread | None = None
    _ended: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def open(cls, storage: LakeStorage, partition_dir: str, run_id: str, **policy) -> RawLanding:
        landing = cls(storage, partition_dir, run_id, datetime.now(UTC), **policy)
        replies, runs = unfinished_replies(storage, partition_dir)
        kept = replies.filter(pl.col("http_status").is_in(list(TAKEN_STATUSES)))
        landing.earlier = {(p.entity, p.record_key): p for p in payloads_of(kept)}
        landing.resumed_from = runs
        return landing

    @property
    def folder(self) -> str:
        return self.storage.join(self.partition_dir, RUNS_DIR, run_folder_name(self.started_at, self.run_id))

    def take_earlier(self, entity: str, record_key: str) -> RawPayload | None:
        """The reply a collection that did not end landed for this request, if any (counted in `taken`)."""
        payload = self.earlier.get((entity, record_key))
        if payload is not None:
            with self._lock:
                self.taken += 1
        return payload

    def land(self, payload: RawPayload) -> None:
        with self._lock:
            self._pending.append(payload)
            if len(self._pending) >= self.part_replies:
                self._write_part()
            if self._timer is None:
                self._timer = threading.Thread(target=self._write_while_waiting, name="raw-landing", daemon=True)
                self._timer.start()

    def _write_while_waiting(self) -> None:
        """Every `part_seconds`, the replies that have waited that long are written, until the end."""
        while not self._ended.wait(self.part_seconds / 4):
            with self._lock:
                if self._pending and time.monotonic() - self._last_write >= self.part_seconds:
                    self._write_part()

    def abandon(self, refused: str | None = None) -> None:
        """The collection failed: what it fetched is written (no end marker), for the next one to
        take; with `refused`, the reason it failed on what the source answered, which the next one
        does not take (it asks again)."""
        self._ended.set()
        with self._lock:
            if self._pending:
                self._write_part()
            if refused is not None:
                reason = pl.DataFrame({"run_id": [self.run_id], "reason": [mask_url(refused)[:500]]})
                self.storage.write_parquet(reason, f"{self.folder}/{FAILED}")

    def land_all(self, payloads: Iterable[RawPayload]) -> None:
        for payload in payloads:
            self.land(payload)

    def land_frame(self, frame: pl.DataFrame) -> None:
        """Replies already in a frame (a source that hands its collection over at the end), as one part."""
        with self._lock:
            if self._pending:
                self._write_part()
            self._write_frame(frame.select(list(RAW_PAYLOAD_SCHEMA)))

    def finish(self) -> LandedCollection:
        """The last part, then `_collected.parquet`: the collection ended."""
        self._ended.set()
        with self._lock:
            if self._pending or not self.parts:  # an empty collection is one empty part, not none
                self._write_part()
            journal = [f"{self.folder}/{name}" for name, _ in self.parts] if len(self.parts) > 1 else []
            if journal:  # streamed: the collection's bodies are not held a second time
                self.storage.sink_parquet(
                    self.storage.scan_parquet(journal), f"{self.folder}/{GATHERED}", RAW_ROW_GROUP_ROWS
                )
                self.parts = [(GATHERED, sum(n for _, n in self.parts))]
            listed = pl.DataFrame(
                {
                    "run_id": [self.run_id] * len(self.parts),
                    "part": [name for name, _ in self.parts],
                    "replies": [n for _, n in self.parts],
                    "resumed_from": [",".join(self.resumed_from)] * len(self.parts),
                },
                schema=COLLECTED_SCHEMA,
            )
            self.storage.write_parquet(listed, f"{self.folder}/{COLLECTED}")
            for location in journal:  # the collection ended: its journal is in the gathered file
                self.storage.remove(location)
            return LandedCollection(
                self.folder,
                tuple(f"{self.folder}/{name}" for name, _ in self.parts),
                sum(n for _, n in self.parts),
                self._bytes,
            )

    def _write_part(self) -> None:
        self._write_frame(payloads_frame(self._pending))
        self._pending = []

    def _write_frame(self, frame: pl.DataFrame) -> None:
        name = f"part-{len(self.parts):05d}.parquet"
        self.storage.write_parquet(frame, f"{self.folder}/{name}", RAW_ROW_GROUP_ROWS)
        self.parts.append((name, frame.height))
        self._bytes += int(frame["bytes"].sum() or 0)
        self._last_write = time.monotonic()


def payloads_of(frame: pl.DataFrame) -> list[RawPayload]:
    """Landed rows back into payloads (their sha256 is computed again from the body)."""
    return [
        RawPayload(
            row["source"],
            row["entity"],
            row["record_key"],
            row["request"],
            row["http_status"],
            row["fetched_at"],
            row["body"],
        )
        for row in frame.iter_rows(named=True)
    ]
