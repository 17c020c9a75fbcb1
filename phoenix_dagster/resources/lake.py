"""The data lake: one Parquet file per asset and partition, in hive-style folders.

    $PHOENIX_DATA_DIR/lake/<asset>/zip=<ZIP>/date=<YYYY-MM-DD>/data.parquet

A re-run of a partition replaces its file atomically, so the lake never holds duplicates.
Analysts can read any layer with DuckDB's read_parquet('…/lake/<asset>/*/*/data.parquet').
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import dagster as dg
import polars as pl


class LakeResource(dg.ConfigurableResource):
    """Reads and writes lake partitions; used by the IO manager, checks and rollups."""

    base_dir: str

    def path_for(self, asset_name: str, day: str, zip_code: str) -> Path:
        return Path(self.base_dir) / asset_name / f"zip={zip_code}" / f"date={day}" / "data.parquet"

    def write(self, frame: pl.DataFrame, asset_name: str, day: str, zip_code: str) -> Path:
        path = self.path_for(asset_name, day, zip_code)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=".parquet.tmp")
        os.close(handle)
        try:
            frame.write_parquet(tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return path

    def read(self, asset_name: str, day: str, zip_code: str) -> pl.DataFrame:
        path = self.path_for(asset_name, day, zip_code)
        if not path.exists():
            raise dg.Failure(f"{asset_name} has not been materialized for {day}|{zip_code} (no {path})")
        return pl.read_parquet(path)


    def history(self, asset_name: str, zip_code: str, *, before: str | None = None, through: str | None = None,
                columns: list[str] | None = None) -> pl.DataFrame | None:
        """The ZIP's partitions of an asset with day < ``before`` and/or ≤ ``through``, stacked
        (only ``columns`` are read). None when there are none."""
        paths = sorted(
            path for path in (Path(self.base_dir) / asset_name / f"zip={zip_code}").glob("date=*/data.parquet")
            if (before is None or path.parent.name[5:] < before) and (through is None or path.parent.name[5:] <= through)
        )
        if not paths:
            return None
        return pl.scan_parquet(paths).select(columns or pl.all()).collect()


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
