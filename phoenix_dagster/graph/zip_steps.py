"""A partition's ZIPs, one at a time: how a lake asset of a county × day does its work.

A partition run covers its county's ZIPs, or those its `phoenix/zips` tag names (graph/partitions).
Each lake asset works ZIP by ZIP — the same pure transform over each ZIP's inputs — and the lake
keeps each ZIP's output apart. `ZipFrames` is what such an asset returns and what it is handed:
ZIP → frame, holding only the ZIPs its upstream step made in the run that made its input, so a
ZIP whose collection failed goes no further in that run while the county's other ZIPs do.
`for_each_zip` runs an asset's per-ZIP body with that ZIP's own Bookkeeping (partition
`<day>|<ZIP>`) and reports the ZIPs' metadata as one materialization's (`zip_metadata`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
import polars as pl

from phoenix_dagster.graph.bookkeeping import Bookkeeping
from phoenix_dagster.graph.partitions import day_and_county, selected_zips
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.warehouse.model_metadata import markdown_table

SETTINGS = frozenset({"concurrency", "batch_size", "max_concurrent_calls"})  # whole numbers that are not counts


class ZipFrames(dict):
    """A partition's output or input, one entry per ZIP. An input's frames are read from the lake
    when a ZIP's turn comes (its entry is a loader until then), and an output's are written as
    each ZIP is done (`Written`; a raw collection lands itself): one ZIP's frames in memory at a
    time, however many ZIPs the county has."""

    def __getitem__(self, zip_code: str):
        value = super().__getitem__(zip_code)
        return value() if callable(value) else value


@dataclass(frozen=True)
class Written:
    """A ZIP's output, written to the lake by the step (`for_each_zip`)."""

    path: str
    rows: int


@dataclass(frozen=True)
class PartitionZips:
    day: str
    county: str
    zips: tuple[str, ...]  # the run's: its tag's, else every configured ZIP of the county


def partition_zips(context, lake: LakeResource) -> PartitionZips:
    day, county = day_and_county(context)
    return PartitionZips(day, county, selected_zips(context.run.tags, lake.zips_of(county), county))


def for_each_zip(
    context: dg.AssetExecutionContext,
    lake: LakeResource,
    body: Callable[..., tuple[pl.DataFrame, dict]],
    *inputs: ZipFrames,
) -> ZipFrames:
    """`body(books, zip_code, *frames)` → (the ZIP's frame, its metadata from `books.finish`), for
    each of the run's ZIPs that every input has, each frame written to the lake as soon as it is
    made (the run named in its footer); the ZIPs' metadata as the materialization's."""
    where = partition_zips(context, lake)
    ready = [z for z in where.zips if all(z in frames for frames in inputs)]
    if inputs and not ready:  # not a quiet success that wrote nothing
        raise dg.Failure(
            f"{context.asset_key.to_user_string()}: no ZIP of {where.county}|{where.day} "
            f"({', '.join(where.zips)}) has all of this step's inputs: materialize its upstream first"
        )
    made, metadata = ZipFrames(), {}
    asset_name = context.asset_key.path[-1]
    for zip_code in ready:
        with Bookkeeping(context, lake, zip_code=zip_code) as books:
            frame, metadata[zip_code] = body(books, zip_code, *(frames[zip_code] for frames in inputs))
        path = lake.write(frame, asset_name, where.day, zip_code, run_id=context.run_id)
        made[zip_code] = Written(path, frame.height)
        del frame  # the next ZIP's turn starts with this one's frames out of memory
    context.add_output_metadata(zip_metadata(metadata, left_out=[z for z in where.zips if z not in ready]))
    return made


def _plain(value):
    return getattr(value, "value", value) if isinstance(value, dg.MetadataValue) else value


def zip_metadata(by_zip: dict[str, dict], left_out: list[str] = ()) -> dict:
    """One materialization's metadata from its ZIPs': counts added up (when every ZIP has one), a
    value every ZIP shares once, differing words each once, JSON lists joined, and each ZIP's plain
    values as a row of `by_zip`; `zips_left_out`
    names the run's ZIPs whose inputs were not made in the run."""
    merged: dict = {"zips": len(by_zip)}
    for key in dict.fromkeys(k for values in by_zip.values() for k in values):
        values = [m[key] for m in by_zip.values() if key in m]
        plain = [_plain(v) for v in values]
        every = len(values) == len(by_zip)  # a total of some ZIPs' values only would mislead: the table has them
        counts = all(isinstance(v, int) and not isinstance(v, bool) for v in plain) and key not in SETTINGS
        if counts and len(by_zip) > 1:
            if every:
                merged[key] = sum(plain)
        elif all(isinstance(v, dg.JsonMetadataValue) and isinstance(v.data, list) for v in values):
            merged[key] = dg.MetadataValue.json([item for v in values for item in v.data])
        elif all(v == plain[0] for v in plain) and every:
            merged[key] = values[0]
        elif all(
            isinstance(v, str) for v in plain
        ):  # words that differ (a model's state, a source's reason): each once
            merged[key] = "; ".join(dict.fromkeys(plain))
    rows = [
        {"zip": zip_code, **{k: _plain(v) for k, v in m.items() if isinstance(_plain(v), str | int | float | bool)}}
        for zip_code, m in by_zip.items()
    ]
    if rows:
        merged["by_zip"] = dg.MetadataValue.md(
            markdown_table(pl.DataFrame(rows, infer_schema_length=None, strict=False))
        )
    if left_out:
        merged["zips_left_out"] = ", ".join(left_out)
    return merged
