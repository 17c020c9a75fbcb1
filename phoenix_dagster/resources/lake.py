"""The data lake: every partitioned asset's output and every asset's bookkeeping, as Parquet.

    <lake>/<asset>/zip=<ZIP>/date=<YYYY-MM-DD>/data.parquet                   an asset's output
    <lake>/<raw asset>/zip=<ZIP>/date=<YYYY-MM-DD>/runs/<started>__<run>/…     a raw asset's, per run
    <lake>/_bookkeeping/<table>/zip=<ZIP>/date=<YYYY-MM-DD>/<asset>__<run>.parquet   what it recorded

`<lake>` is a local directory, or an S3 bucket and prefix (PHOENIX_LAKE_URL); where the files
live and how they are read and written is `phoenix_dagster/storage/lake_storage.py`'s job. Every file is
replaced whole (locally a temporary file renamed into place, on S3 one PUT of the complete
object): a re-run replaces an asset's output, and adds its own bookkeeping beside the earlier
runs'. The raw layer is append-only (sources/landing.py): a collection lands its replies in
parts as they arrive, a re-run adds its own beside the earlier ones, readers take the newest
collection that ended. Partitioned work writes only here, never to the warehouse, so partitions
of one day run side by side.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar, Optional

import dagster as dg
import polars as pl

from phoenix_dagster.markets.market import market, today_in_zone
from phoenix_dagster.redact import MaskedRepr
from phoenix_dagster.schemas import conform, with_missing_as_null
from phoenix_dagster.schemas.tables import BOOKKEEPING_TABLES
from phoenix_dagster.settings import Settings
from phoenix_dagster.sources.landing import (
    DEFAULT_PART_REPLIES,
    DEFAULT_PART_SECONDS,
    RAW_ROW_GROUP_ROWS,
    LandedCollection,
    RawLanding,
    collected_files,
    every_raw_file,
    left_behind,
    run_folders,
)
from phoenix_dagster.storage.files import write_atomically
from phoenix_dagster.storage.lake_storage import LakeStorage

BOOKKEEPING_DIR = "_bookkeeping"


def write_parquet_atomically(frame: pl.DataFrame, path: Path) -> Path:
    """A local Parquet file replaced whole (control state; the lake goes through LakeStorage)."""
    return write_atomically(path, frame.write_parquet)


WRITTEN_BY = "phoenix/run_id"  # a lake file's footer: the run that wrote it


def is_raw(asset_name: str) -> bool:
    return asset_name.startswith("raw_")


def partition_of(location: str) -> tuple[str, str]:
    """(ZIP, day) from `…/zip=<ZIP>/date=<day>/…`."""
    zip_part, date_part = re.search(r"/zip=([^/]+)/date=([^/]+)/", location).groups()
    return zip_part, date_part


def _in_days(day: str, *, since: str | None = None, before: str | None = None, through: str | None = None) -> bool:
    return (since is None or day >= since) and (before is None or day < before) and (through is None or day <= through)


def _resolved(value):
    """A credential's value: Dagster resolves EnvVar fields for a run's resources; a resource used
    outside a run (the CLI's and the summary's readers) still holds the EnvVar itself."""
    return value.get_value() if isinstance(value, dg.EnvVar) else value


class LakeResource(MaskedRepr, dg.ConfigurableResource):
    """Reads and writes lake partitions and bookkeeping; used by the IO manager, assets and checks.
    `root` is a local directory or `s3://bucket/prefix`; the S3 credentials come in through EnvVar
    (unset, the AWS SDK's own chain is used)."""

    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"aws_access_key_id", "aws_secret_access_key", "aws_session_token"}
    )
    URL_FIELDS: ClassVar[frozenset[str]] = frozenset({"root", "s3_endpoint_url"})

    root: str
    data_dir: Optional[str] = None  # PHOENIX_DATA_DIR (warehouse, control state): its free disk is measured
    s3_endpoint_url: Optional[str] = None
    s3_region: Optional[str] = None
    aws_access_key_id: Optional[str] = None
    aws_secret_access_key: Optional[str] = None
    aws_session_token: Optional[str] = None
    raw_part_replies: int = DEFAULT_PART_REPLIES  # PHOENIX_RAW_PART_REPLIES: replies per landed part
    raw_part_seconds: float = DEFAULT_PART_SECONDS  # PHOENIX_RAW_PART_SECONDS: at least a part this often
    timezone: Optional[str] = None  # the market's zone: its days are the lake's days (None: the default market's)
    zip_counties: dict[str, str] = {}  # ZIP → its county's FIPS code (Settings.zip_counties)

    @property
    def market_timezone(self) -> str:
        return self.timezone or market().timezone

    def zips_of(self, county: str) -> tuple[str, ...]:
        """The configured ZIPs of a county, in order."""
        return tuple(sorted(zip_code for zip_code, fips in self.zip_counties.items() if fips == county))

    def county_of(self, zip_code: str) -> str:
        """The FIPS code of the county a ZIP's parcels belong to (the default market's, for a ZIP not configured)."""
        return self.zip_counties.get(zip_code) or market().county_of(zip_code).fips

    def today(self) -> str:
        """Today in the market's zone, ISO: the day unpartitioned work files its records under."""
        return today_in_zone(self.market_timezone)

    @property
    def storage(self) -> LakeStorage:
        return LakeStorage(
            self.root,
            endpoint_url=self.s3_endpoint_url,
            region=self.s3_region,
            access_key_id=_resolved(self.aws_access_key_id),
            secret_access_key=_resolved(self.aws_secret_access_key),
            session_token=_resolved(self.aws_session_token),
        )

    @staticmethod
    def partition_dir(asset_name: str, day: str, zip_code: str) -> str:
        return f"{asset_name}/zip={zip_code}/date={day}"

    def path_for(self, asset_name: str, day: str, zip_code: str) -> str:
        """Where a (non-raw) asset's partition is; a raw one's files are `files`'."""
        return self.storage.join(self.partition_dir(asset_name, day, zip_code), "data.parquet")

    def files(self, asset_name: str, day: str, zip_code: str, run_id: str | None = None) -> list[str] | None:
        """The files holding the partition's current data (a raw asset's newest collection that
        ended, or `run_id`'s when it ended); None when it has not been materialized."""
        if is_raw(asset_name):
            return collected_files(self.storage, self.partition_dir(asset_name, day, zip_code), run_id)
        path = self.path_for(asset_name, day, zip_code)
        return [path] if self.storage.exists(path) else None

    def is_materialized(self, asset_name: str, day: str, zip_code: str) -> bool:
        return self.files(asset_name, day, zip_code) is not None

    def write(self, frame: pl.DataFrame, asset_name: str, day: str, zip_code: str, run_id: str | None = None) -> str:
        """A (non-raw) partition's output, replaced whole; the run that wrote it is in the file's footer."""
        if is_raw(asset_name):
            raise ValueError(f"{asset_name}: the raw layer is append-only; a collection lands (`land`)")
        written_by = {WRITTEN_BY: run_id} if run_id else None
        return self.storage.write_parquet(frame, self.path_for(asset_name, day, zip_code), file_metadata=written_by)

    def written_by(self, asset_name: str, day: str, zip_code: str) -> str | None:
        """The run that wrote a (non-raw) partition's output; None when it is not written, or was
        written without one (by an earlier version, or outside a run)."""
        path = self.path_for(asset_name, day, zip_code)
        return self.storage.file_metadata(path).get(WRITTEN_BY) if self.storage.exists(path) else None

    def made_by(self, asset_name: str, day: str, zip_code: str, run_id: str) -> bool:
        """Whether `run_id` made the ZIP's partition of the asset: wrote it, or for a raw asset, landed
        a collection of it that ended."""
        if is_raw(asset_name):
            folders = run_folders(self.storage, self.partition_dir(asset_name, day, zip_code))
            return any(folder.collected and folder.run_id == run_id for folder in folders)
        return self.written_by(asset_name, day, zip_code) == run_id

    def land(self, frame: pl.DataFrame, asset_name: str, day: str, zip_code: str, run_id: str) -> LandedCollection:
        """Replies handed over at the end of a collection, landed as `run_id`'s, beside the earlier runs'."""
        landing = self.landing(asset_name, day, zip_code, run_id, resume=False)
        landing.land_frame(frame)
        return landing.finish()

    def landing(self, asset_name: str, day: str, zip_code: str, run_id: str, *, resume: bool = True) -> RawLanding:
        """A raw collection's landing for `run_id`: its replies land in parts as they come; with
        `resume`, it is handed the replies of collections of the partition that did not end."""
        directory = self.partition_dir(asset_name, day, zip_code)
        policy = dict(part_replies=self.raw_part_replies, part_seconds=self.raw_part_seconds)
        if resume:
            return RawLanding.open(self.storage, directory, run_id, **policy)
        return RawLanding(self.storage, directory, run_id, datetime.now(UTC), **policy)

    def raw_files(self, asset_name: str, day: str, zip_code: str) -> list[str]:
        """Every file of a raw partition that holds replies, of every run: what retention rewrites."""
        return every_raw_file(self.storage, self.partition_dir(asset_name, day, zip_code))

    def remove_left_behind(self, asset_name: str, day: str, zip_code: str) -> int:
        """Retention: the temporary files of parts a killed process was writing (never read; they
        may hold owners' names). Returns how many were removed."""
        found = left_behind(self.storage, self.partition_dir(asset_name, day, zip_code))
        for location in found:
            self.storage.remove(location)
        return len(found)

    def rewrite_raw_file(self, frame: pl.DataFrame, location: str) -> str:
        """Retention's rewrite of one raw file, in place (the only rewrite of the raw layer)."""
        return self.storage.write_parquet(frame, location, RAW_ROW_GROUP_ROWS)

    def scan(self, asset_name: str, day: str, zip_code: str, run_id: str | None = None) -> pl.LazyFrame:
        files = self.files(asset_name, day, zip_code, run_id)
        if files is None:
            raise dg.Failure(f"{asset_name} has not been materialized for {day}|{zip_code}")
        return self.storage.scan_parquet(files)

    def read(
        self, asset_name: str, day: str, zip_code: str, columns: list[str] | None = None, run_id: str | None = None
    ) -> pl.DataFrame:
        return self.scan(asset_name, day, zip_code, run_id).select(columns or pl.all()).collect()

    def _written(self, asset_name: str, zip_code: str = "*") -> list[tuple[str, str]]:
        """(ZIP, day) of every partition of the asset written (a raw one: with any reply landed)."""
        patterns = [f"{asset_name}/zip={zip_code}/date=*/data.parquet"]
        if is_raw(asset_name):
            patterns += [f"{asset_name}/zip={zip_code}/date=*/runs/*/{name}" for name in ("*.parquet", "*.tmp")]
        return sorted({partition_of(path) for pattern in patterns for path in self.storage.glob(pattern)})

    def partitions(self, asset_name: str, *, before: str) -> list[tuple[str, str]]:
        """(ZIP, day) of every partition of the asset written for a day before `before` (a raw one
        with any reply landed, its collection ended or not)."""
        return [(zip_code, day) for zip_code, day in self._written(asset_name) if day < before]

    def history(
        self,
        asset_name: str,
        zip_code: str,
        *,
        before: str | None = None,
        through: str | None = None,
        since: str | None = None,
        columns: list[str] | None = None,
        with_day: bool = False,
    ) -> pl.DataFrame | None:
        """The ZIP's partitions of an asset with day < `before`, ≤ `through` and ≥ `since` (each
        when given), stacked (only `columns` are read; with `with_day`, a `day` column says each
        row's partition day). None when there are none."""
        if is_raw(asset_name):
            paths = [
                path
                for written, day in self._written(asset_name, zip_code)
                if _in_days(day, since=since, before=before, through=through)
                for path in self.files(asset_name, day, written) or []
            ]
        else:
            paths = [
                path
                for path in self.storage.glob(f"{asset_name}/zip={zip_code}/date=*/data.parquet")
                if _in_days(partition_of(path)[1], since=since, before=before, through=through)
            ]
        if not paths:
            return None
        if not with_day:
            return self.storage.scan_parquet(paths).select(columns or pl.all()).collect()
        scanned = self.storage.scan_parquet(paths, include_file_paths="_path")
        return scanned.select(
            *(columns or [pl.all().exclude("_path")]),
            pl.col("_path").str.extract(r"/date=([^/]+)/", 1).alias("day"),
        ).collect()

    # Bookkeeping -------------------------------------------------------------------------

    def bookkeeping_dir(self, table: str) -> str:
        return self.storage.join(BOOKKEEPING_DIR, table)

    def write_bookkeeping(
        self, table: str, frame: pl.DataFrame, *, asset: str, day: str, zip_code: str, run_id: str
    ) -> str:
        rows = conform(with_missing_as_null(frame, BOOKKEEPING_TABLES[table]), BOOKKEEPING_TABLES[table])
        name = f"{asset.replace('/', '.')}__{run_id}.parquet"
        return self.storage.write_parquet(rows, f"{self.bookkeeping_dir(table)}/zip={zip_code}/date={day}/{name}")

    def bookkeeping_files_without(self, table: str, column: str) -> list[str]:
        """The files of a bookkeeping table that lack `column` (an older version wrote them)."""
        return [
            path
            for path in self.storage.glob(f"{BOOKKEEPING_DIR}/{table}/zip=*/date=*/*.parquet")
            if column not in self.storage.columns(path)
        ]

    def rewrite_bookkeeping(self, table: str, rewrite, *, unless_column: str) -> int:
        """Rewrite, in place, every file of a bookkeeping table that lacks `unless_column` (written by
        an older version) with `rewrite(frame)`; returns how many files were rewritten. Idempotent."""
        paths = self.bookkeeping_files_without(table, unless_column)
        for path in paths:
            frame = with_missing_as_null(self.storage.read_parquet(path), BOOKKEEPING_TABLES[table])
            self.storage.write_parquet(conform(rewrite(frame), BOOKKEEPING_TABLES[table]), path)
        return len(paths)

    def scan_bookkeeping(
        self,
        table: str,
        day: str = "*",
        zip_code: str = "*",
        *,
        asset: str | None = None,
        since: str | None = None,
        before: str | None = None,
    ) -> pl.LazyFrame | None:
        """Every file of a bookkeeping table (of one partition, of one asset's writes, of the days
        ≥ `since` and < `before`, when given); None when there are none."""
        name = f"{asset.replace('/', '.')}__*.parquet" if asset else "*.parquet"
        paths = [
            path
            for path in self.storage.glob(f"{BOOKKEEPING_DIR}/{table}/zip={zip_code}/date={day}/{name}")
            if _in_days(partition_of(path)[1], since=since, before=before)
        ]
        return self.storage.scan_parquet(paths, missing_columns="insert", extra_columns="ignore") if paths else None

    def current_bookkeeping(
        self,
        table: str,
        day: str,
        zip_code: str,
        assets: list[str],
        *,
        since: str | None = None,
        before: str | None = None,
    ) -> pl.DataFrame:
        """`table`'s rows of the ZIP's partitions of `day` (or of every day ≥ `since` and < `before`
        with `day="*"`) written by the latest successful run of each of `assets` for each partition."""
        where = dict(asset=assets[0] if len(assets) == 1 else None, since=since, before=before)
        log, rows = (
            self.scan_bookkeeping("run_log", day, zip_code, **where),
            self.scan_bookkeeping(table, day, zip_code, **where),
        )
        if log is None or rows is None:  # (the schema read only when needed: on S3 it reads every file's footer)
            return pl.DataFrame(schema=rows.collect_schema() if rows is not None else None)
        latest = (
            log.filter(pl.col("succeeded") & pl.col("asset").is_in(assets))
            .group_by("asset", "partition")
            .agg(pl.col("run_id").sort_by("finished_at").last())
        )
        return rows.join(latest, on=["asset", "partition", "run_id"], how="semi", nulls_equal=True).collect()


def lake_resource(settings: Settings) -> LakeResource:
    """The lake: the local directory, or S3 with PHOENIX_LAKE_URL (its credentials go in as EnvVar)."""
    parts = dict(
        raw_part_replies=settings.raw_part_replies,
        raw_part_seconds=settings.raw_part_seconds,
        timezone=settings.market.timezone,
        zip_counties=settings.zip_counties,
    )
    if not settings.lake_url:
        return LakeResource(root=str(settings.lake_dir), data_dir=str(settings.data_dir), **parts)
    secret = lambda name: dg.EnvVar(name) if settings.has_secret(name) else None  # noqa: E731
    return LakeResource(
        root=settings.lake_url,
        data_dir=str(settings.data_dir),
        **parts,
        s3_endpoint_url=settings.aws_endpoint_url,
        s3_region=settings.aws_region,
        aws_access_key_id=secret("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=secret("AWS_SECRET_ACCESS_KEY"),
        aws_session_token=secret("AWS_SESSION_TOKEN"),
    )
