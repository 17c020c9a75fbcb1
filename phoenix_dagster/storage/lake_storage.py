"""Where the lake's files live and how they are reached: a local directory (the default) or an S3
bucket and prefix (`PHOENIX_LAKE_URL=s3://bucket/prefix`).

Locations are strings: a local path, or `s3://bucket/key`. On S3, listing, sizes and writes go
through fsspec's s3fs (listings never cached: another process may have written since), Polars
reads the objects itself (`storage_options`), and DuckDB reads them through the same s3fs
filesystem registered on its connection (`expose_to`), since its own `httpfs` extension cannot
be installed here.

Writes replace a file whole. Locally: a temporary file beside the target renamed over it. On S3:
the Parquet is serialized in memory and stored with one PUT of the complete object; S3 makes an
object visible only once its upload has completed (a single PUT, or for a large object the
completion of the multipart upload s3fs uses instead), so a reader sees the old object or the new
one, never part of one, and a failed write leaves the old object as it was.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cached_property, partial
from itertools import takewhile
from pathlib import Path

import duckdb
import fsspec
import polars as pl

from phoenix_dagster.storage.files import write_atomically

OBJECT_STORAGE_SCHEME = "s3://"


def is_object_storage(location: str) -> bool:
    return location.startswith(OBJECT_STORAGE_SCHEME)


@dataclass(frozen=True)
class LakeStorage:
    """The lake's root (a local directory or `s3://bucket/prefix`) and, on S3, how to reach it.
    Credentials left unset fall back to the AWS SDK's own chain (environment, profile, role)."""

    root: str
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None

    def __repr__(self) -> str:  # never the credentials
        return f"LakeStorage(root={self.root!r}, endpoint_url={self.endpoint_url!r}, region={self.region!r})"

    @property
    def on_object_storage(self) -> bool:
        return is_object_storage(self.root)

    def join(self, *parts: str) -> str:
        return "/".join([self.root.rstrip("/"), *parts])

    @cached_property
    def filesystem(self) -> fsspec.AbstractFileSystem:
        if not self.on_object_storage:
            return fsspec.filesystem("file")
        return self._s3(use_listings_cache=False)

    def _s3(self, **options) -> fsspec.AbstractFileSystem:
        import s3fs

        return s3fs.S3FileSystem(
            key=self.access_key_id,
            secret=self.secret_access_key,
            token=self.session_token,
            endpoint_url=self.endpoint_url,
            client_kwargs={"region_name": self.region} if self.region else {},
            **options,
        )

    @property
    def storage_options(self) -> dict[str, str] | None:
        """Polars' options for reading from S3 (None for a local lake)."""
        if not self.on_object_storage:
            return None
        options = {
            "aws_endpoint_url": self.endpoint_url,
            "aws_region": self.region,
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "aws_session_token": self.session_token,
        }
        if self.endpoint_url and self.endpoint_url.startswith("http://"):
            options["aws_allow_http"] = "true"
        return {name: value for name, value in options.items() if value}

    # Listing and sizes ----------------------------------------------------------------------

    def glob(self, pattern: str) -> list[str]:
        """Files matching `pattern` (relative to the root, `*` within one level), sorted. On S3, one
        listing of everything under the pattern's fixed part (s3fs's own glob lists level by level:
        three requests for a partition's folder, one per ZIP and day for a table)."""
        if not self.on_object_storage:
            return sorted(path.as_posix() for path in Path(self.root).glob(pattern))
        segments = pattern.split("/")
        fixed = list(takewhile(lambda segment: not any(c in segment for c in "*?["), segments))
        wanted = segments[len(fixed) :]
        prefix = self.join(*fixed)[len(OBJECT_STORAGE_SCHEME) :]
        found = []
        for key in self.filesystem.find(prefix):
            below = key[len(prefix) :].lstrip("/").split("/")
            if len(below) == len(wanted) and all(map(fnmatchcase, below, wanted)):
                found.append(OBJECT_STORAGE_SCHEME + key)
        return sorted(found)

    def exists(self, location: str) -> bool:
        return self.filesystem.exists(location)

    def remove(self, location: str) -> None:
        """Delete one file (retention's removal of a part's temporary file left by a killed process)."""
        self.filesystem.rm_file(location)

    def size(self, location: str) -> int:
        return self.filesystem.size(location)

    def total_bytes(self) -> int:
        """Bytes of every file under the root (0 when there is nothing yet)."""
        if not self.on_object_storage:
            root = Path(self.root)
            return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.exists() else 0
        return sum(self.filesystem.du(self.root, total=False, withdirs=False).values())

    # Parquet --------------------------------------------------------------------------------

    def write_parquet(
        self,
        frame: pl.DataFrame,
        location: str,
        row_group_size: int | None = None,
        file_metadata: dict[str, str] | None = None,
    ) -> str:
        """Replace the file at `location` whole (see the module's docstring); returns the location.
        `row_group_size`: rows per row group (Polars' default when None); `file_metadata`: key-value
        pairs kept in the file's footer (`file_metadata` reads them)."""
        write = partial(frame.write_parquet, row_group_size=row_group_size, metadata=file_metadata)
        if not self.on_object_storage:
            write_atomically(Path(location), write)
            return location
        body = io.BytesIO()
        write(body)
        self.filesystem.pipe_file(location, body.getvalue())  # one PUT of the complete object
        return location

    def sink_parquet(self, frame: pl.LazyFrame, location: str, row_group_size: int | None = None) -> str:
        """Stream `frame` into the file at `location` (replaced whole, as `write_parquet`), without
        holding it in memory."""
        if not self.on_object_storage:
            write_atomically(Path(location), lambda tmp: frame.sink_parquet(tmp, row_group_size=row_group_size))
            return location
        frame.sink_parquet(location, row_group_size=row_group_size, storage_options=self.storage_options)
        return location

    def read_parquet(self, location: str, columns: list[str] | None = None) -> pl.DataFrame:
        return pl.read_parquet(location, columns=columns, storage_options=self.storage_options)

    def file_metadata(self, location: str) -> dict[str, str]:
        """The key-value pairs in the file's footer (`write_parquet`'s `file_metadata`)."""
        return pl.read_parquet_metadata(location, storage_options=self.storage_options)

    def columns(self, location: str) -> list[str]:
        """The file's column names, from its footer alone."""
        return list(pl.scan_parquet(location, storage_options=self.storage_options).collect_schema().names())

    def scan_parquet(self, locations: list[str], **options) -> pl.LazyFrame:
        return pl.scan_parquet(locations, storage_options=self.storage_options, **options)

    # DuckDB ---------------------------------------------------------------------------------

    def expose_to(self, conn: duckdb.DuckDBPyConnection) -> None:
        """Let DuckDB's `read_parquet`/`glob` read the lake's locations on this connection. The
        filesystem is the connection's own and caches listings for as long as the connection lives:
        DuckDB asks for a file's size a dozen times while reading it, and without the listing each
        ask is a HEAD request (measured: 3.6 s → 1.2 s for 50 small files from the loopback server)."""
        if self.on_object_storage and "s3" not in conn.list_filesystems():  # not when an open connection did
            conn.register_filesystem(self._s3(use_listings_cache=True, skip_instance_cache=True))
