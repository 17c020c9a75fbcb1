"""Portal CSV exports (Redfin's search download) dropped into $PHOENIX_DATA_DIR/inbox/.

Each file is taken in once, by content hash: the first partition of a day that runs moves
`inbox/*.csv` to `inbox/archive/<day>/<sha256>__<name>`; a file whose content was
already archived goes to `inbox/archive/duplicates/` instead and is not ingested again.
Every ZIP partition of that day lands the day's archived files whole (staging keeps the
ZIP's rows). A file that cannot be read as a Redfin download (no header line, or a required
column missing under every known name) or is larger than the body limit (PHOENIX_MAX_BODY_MB)
is not taken in: it moves to `inbox/rejected/` and is reported with the reason (the headers
found and expected), so fixing it and dropping it in again works. Files are hashed in chunks
and judged by their first bytes, so a huge file is refused without being read into memory.
Nothing is deleted.

Only settled files are taken: one whose size and modification time have not changed for
PHOENIX_INBOX_SETTLE_S (60 s), and did not change while it was hashed — a file still being
copied in is left for the next run. A sender can also write `<name>.csv.part` and rename it to
`<name>.csv` when done (a rename is atomic); names starting with a dot are never taken.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from phoenix_dagster.sources import redfin_csv
from phoenix_dagster.sources.base import FetchFailure, ListingFetch, RawPayload, RecordedRequests, RequestRecord
from phoenix_dagster.sources.env_values import number
from phoenix_dagster.sources.http import DEFAULT_MAX_BODY_BYTES
from phoenix_dagster.sources.registry import SourceDescriptor
from phoenix_dagster.storage.files import move_durably

DEFAULT_INBOX_SETTLE_S = 60.0  # an inbox file is taken once unchanged for this long

HEAD_BYTES = 64 * 1024  # the header must stand within a file's first 64 KB (after the disclaimer)
CHUNK_BYTES = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def refusal_reason(path: Path, max_bytes: int) -> str | None:
    """Why the file cannot be taken in (too large, or not a Redfin download), from its size and
    its first bytes only; None when it can."""
    size = path.stat().st_size
    if size > max_bytes:
        return f"file of {size / 2**20:.1f} MB is larger than {max_bytes / 2**20:g} MB (PHOENIX_MAX_BODY_MB)"
    with path.open("rb") as stream:
        head = stream.read(HEAD_BYTES)
    return redfin_csv.unreadable_reason(head.decode("utf-8", errors="replace"))


class CsvInbox(RecordedRequests):
    name = "csv_inbox"
    complete = False  # an export is whatever someone saved; listings not in it are not gone

    def __init__(
        self,
        inbox_dir: Path,
        day: str,
        max_bytes: int = DEFAULT_MAX_BODY_BYTES,
        settle_s: float = DEFAULT_INBOX_SETTLE_S,
    ):
        self.inbox, self.day, self.max_bytes, self.settle_s = inbox_dir, day, max_bytes, settle_s
        self.waiting: list[str] = []  # files not settled yet: left for the next run
        self.archive = inbox_dir / "archive"
        self.records: list[RequestRecord] = []
        self.duplicates: list[str] = []
        self.refused: list[tuple[str, str]] = []  # (file name, why)

    def _archived_hashes(self) -> set[str]:
        return {path.name.split("__", 1)[0] for path in self.archive.glob("*/*__*")}

    def take_arrivals(self) -> list[Path]:
        """Move new files from the inbox into today's archive folder; returns what was taken."""
        taken = []
        known = self._archived_hashes()
        for path in sorted(self.inbox.glob("*.csv")):
            if path.name.startswith("."):
                continue
            try:
                before = path.stat()
                if time.time() - before.st_mtime < self.settle_s:
                    self.waiting.append(path.name)
                    continue
                digest = file_sha256(path)
                reason = refusal_reason(path, self.max_bytes)
                after = path.stat()
                if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
                    self.waiting.append(path.name)  # written to while it was read
                    continue
                if reason is not None:
                    refused = self.inbox / "rejected" / f"{digest}__{path.name}"
                    refused.parent.mkdir(parents=True, exist_ok=True)
                    move_durably(path, refused)
                    self.refused.append((path.name, reason))
                    continue
                folder = self.archive / ("duplicates" if digest in known else self.day)
                folder.mkdir(parents=True, exist_ok=True)
                target = folder / f"{digest}__{path.name}"
                move_durably(path, target)  # keeps the file's modification time: when it arrived
            except FileNotFoundError:
                continue  # another partition's run took it first
            if digest in known:
                self.duplicates.append(path.name)
            else:
                known.add(digest)
                taken.append(target)
        return taken

    def fetch(self, zip_code: str, since: datetime | None = None) -> ListingFetch:
        self.take_arrivals()
        result = ListingFetch()
        for path in sorted((self.archive / self.day).glob("*__*.csv")):
            digest, original = path.name.split("__", 1)
            body = path.read_bytes()
            arrived = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            self.records.append(RequestRecord("inbox", 200, "ok", 1, len(body), 0.0, 0.0))
            result.payloads.append(RawPayload(self.name, "csv_export", digest, f"inbox/{original}", 200, arrived, body))
        for name in self.duplicates:
            result.failures.append(
                FetchFailure(
                    name, f"inbox/{name}", "already ingested (same content hash); moved to inbox/archive/duplicates"
                )
            )
        for name, reason in self.refused:
            result.failures.append(FetchFailure(name, f"inbox/{name}", f"{reason}; moved to inbox/rejected"))
        return result


@dataclass(frozen=True)
class CsvInboxSettings:
    settle_s: float = DEFAULT_INBOX_SETTLE_S  # PHOENIX_INBOX_SETTLE_S

    @classmethod
    def from_env(cls, env) -> CsvInboxSettings:
        return cls(settle_s=number(env, "PHOENIX_INBOX_SETTLE_S", cls.settle_s, float, low=0))


class CsvInboxResource(dg.ConfigurableResource):
    """The inbox under PHOENIX_DATA_DIR where people drop listing exports."""

    inbox_dir: str  # $PHOENIX_DATA_DIR/inbox
    max_file_bytes: int = DEFAULT_MAX_BODY_BYTES  # PHOENIX_MAX_BODY_MB: the largest file taken in
    settle_s: float = DEFAULT_INBOX_SETTLE_S  # PHOENIX_INBOX_SETTLE_S: a file is taken once unchanged this long

    @classmethod
    def from_settings(cls, settings: CsvInboxSettings, shared, secret) -> CsvInboxResource:
        return cls(inbox_dir=shared.inbox_dir, max_file_bytes=shared.max_body_bytes, settle_s=settings.settle_s)

    def open(self, *, replay_time: datetime | None = None, day: str) -> CsvInbox:
        return CsvInbox(Path(self.inbox_dir), day, max_bytes=self.max_file_bytes, settle_s=self.settle_s)


DESCRIPTORS = (
    SourceDescriptor(
        "listings",
        "csv_inbox",
        resource=CsvInboxResource.from_settings,
        settings=CsvInboxSettings.from_env,
        pool="listing_source_csv_inbox",  # its files are shared by the ZIPs' runs
    ),  # an export holds what it was filtered to: not complete
)
