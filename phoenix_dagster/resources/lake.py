"""The data lake: every partitioned asset's output and every asset's bookkeeping, as Parquet.

    <lake>/<asset>/zip=<ZIP>/date=<YYYY-MM-DD>/data.parquet                   an asset's output
    <lake>/_bookkeeping/<table>/zip=<ZIP>/date=<YYYY-MM-DD>/<asset>__<run>.parquet   what it recorded

Every file is written atomically (a temporary file renamed into place): a re-run replaces an
asset's output, and adds its own bookkeeping beside the earlier runs'. Partitioned work writes
only here, never to the warehouse, so partitions of one day run side by side.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl

from phoenix_dagster.files import write_atomically
from phoenix_dagster.schemas import conform
from phoenix_dagster.schemas.tables import BOOKKEEPING_TABLES

BOOKKEEPING_DIR = "_bookkeeping"


def write_parquet_atomically(frame: pl.DataFrame, path: Path) -> Path:
    return write_atomically(path, frame.write_parquet)


class LakeResource(dg.ConfigurableResource):
    """Reads and writes lake partitions and bookkeeping; used by the IO manager, assets and checks."""

    base_dir: str

    def path_for(self, asset_name: str, day: str, zip_code: str) -> Path:
        return Path(self.base_dir) / asset_name / f"zip={zip_code}" / f"date={day}" / "data.parquet"

    def write(self, frame: pl.DataFrame, asset_name: str, day: str, zip_code: str) -> Path:
        return write_parquet_atomically(frame, self.path_for(asset_name, day, zip_code))

    def read(self, asset_name: str, day: str, zip_code: str, columns: list[str] | None = None) -> pl.DataFrame:
        path = self.path_for(asset_name, day, zip_code)
        if not path.exists():
            raise dg.Failure(f"{asset_name} has not been materialized for {day}|{zip_code} (no {path})")
        return pl.read_parquet(path, columns=columns)

    def partitions(self, asset_name: str, *, before: str) -> list[tuple[str, str]]:
        """(ZIP, day) of every partition of the asset written for a day before `before`."""
        found = []
        for path in sorted((Path(self.base_dir) / asset_name).glob("zip=*/date=*/data.parquet")):
            zip_code, day = path.parent.parent.name[4:], path.parent.name[5:]
            if day < before:
                found.append((zip_code, day))
        return found

    def history(self, asset_name: str, zip_code: str, *, before: str | None = None, through: str | None = None,
                columns: list[str] | None = None) -> pl.DataFrame | None:
        """The ZIP's partitions of an asset with day < `before` and/or ≤ `through`, stacked
        (only `columns` are read). None when there are none."""
        paths = sorted(
            path for path in (Path(self.base_dir) / asset_name / f"zip={zip_code}").glob("date=*/data.parquet")
            if (before is None or path.parent.name[5:] < before) and (through is None or path.parent.name[5:] <= through)
        )
        if not paths:
            return None
        return pl.scan_parquet(paths).select(columns or pl.all()).collect()

    # Bookkeeping -------------------------------------------------------------------------

    def bookkeeping_dir(self, table: str) -> Path:
        return Path(self.base_dir) / BOOKKEEPING_DIR / table

    def write_bookkeeping(self, table: str, frame: pl.DataFrame, *, asset: str, day: str, zip_code: str,
                          run_id: str) -> Path:
        rows = conform(frame, BOOKKEEPING_TABLES[table])
        name = f"{asset.replace('/', '.')}__{run_id}.parquet"
        return write_parquet_atomically(rows, self.bookkeeping_dir(table) / f"zip={zip_code}" / f"date={day}" / name)

    def scan_bookkeeping(self, table: str, day: str = "*", zip_code: str = "*") -> pl.LazyFrame | None:
        """Every file of a bookkeeping table (of one partition, when given); None when there are none."""
        paths = sorted(self.bookkeeping_dir(table).glob(f"zip={zip_code}/date={day}/*.parquet"))
        return pl.scan_parquet(paths, missing_columns="insert", extra_columns="ignore") if paths else None

    def current_bookkeeping(self, table: str, day: str, zip_code: str, assets: list[str]) -> pl.DataFrame:
        """`table`'s rows of the partition written by the latest successful run of each of `assets`."""
        log, rows = self.scan_bookkeeping("run_log", day, zip_code), self.scan_bookkeeping(table, day, zip_code)
        empty = pl.DataFrame(schema=rows.collect_schema() if rows is not None else None)
        if log is None or rows is None:
            return empty
        latest = (log.filter(pl.col("succeeded") & pl.col("asset").is_in(assets))
                  .group_by("asset").agg(pl.col("run_id").sort_by("finished_at").last()))
        return rows.join(latest, on=["asset", "run_id"], how="semi").collect()


class LakeIOManager(dg.ConfigurableIOManager):
    """Stores partitioned assets' DataFrames in the lake."""

    lake: LakeResource

    @staticmethod
    def _partition(context: dg.OutputContext | dg.InputContext) -> tuple[str, str, str]:
        if not context.has_asset_partitions:
            raise dg.Failure(f"{context.asset_key.to_user_string()}: the lake stores partitioned assets only")
        keys = context.asset_partition_key.keys_by_dimension
        return context.asset_key.path[-1], keys["date"], keys["zip"]

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        path = self.lake.write(obj, *self._partition(context))
        context.add_output_metadata({"dagster/row_count": obj.height, "path": dg.MetadataValue.path(str(path)),
                                     "bytes": path.stat().st_size})

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        return self.lake.read(*self._partition(context))
