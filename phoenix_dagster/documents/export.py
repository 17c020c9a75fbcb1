"""The serving documents as a mongoimport-ready export, when no MongoDB is configured.

One file per collection under `<data dir>/serving/`, one document per line in MongoDB Extended
JSON (dates as {"$date": …}), replaced atomically by each build:

    mongoimport --uri "$MONGODB_URI" --collection properties --mode upsert \\
                --upsertFields property_id --file data/serving/properties.jsonl

Written by Polars in one pass: it grows linearly with the documents. The counts compare the new
export's content hashes with the previous one's, so an unchanged re-run reports 0 content writes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from phoenix_dagster.files import write_atomically

DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%.3fZ"


@dataclass(frozen=True)
class ExportCounts:
    path: Path
    documents: int
    content_writes: int  # new or changed documents against the previous export
    deleted: int  # documents of the previous export no longer served
    bytes: int
    written_keys: frozenset  # the keys of the new or changed documents


def _extended_json(frame: pl.DataFrame) -> pl.DataFrame:
    """Datetimes and dates as {"$date": "…Z"}, at any depth of structs and lists; nulls stay null
    (a `location` of {"type": null} would be refused by the 2dsphere index)."""
    def convert(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
        if isinstance(dtype, pl.Datetime):
            utc = expr.dt.convert_time_zone("UTC") if dtype.time_zone else expr
            return pl.when(expr.is_not_null()).then(pl.struct(utc.dt.strftime(DATE_FORMAT).alias("$date")))
        if dtype == pl.Date:
            return pl.when(expr.is_not_null()).then(pl.struct(expr.dt.strftime("%Y-%m-%dT00:00:00.000Z").alias("$date")))
        if isinstance(dtype, pl.Struct):
            return pl.when(expr.is_not_null()).then(
                pl.struct([convert(expr.struct.field(f.name), f.dtype).alias(f.name) for f in dtype.fields]))
        if isinstance(dtype, pl.List) and _has_dates(dtype.inner):
            return expr.list.eval(convert(pl.element(), dtype.inner))
        return expr

    return frame.select([convert(pl.col(name), dtype).alias(name) for name, dtype in frame.schema.items()])


def _has_dates(dtype: pl.DataType) -> bool:
    if isinstance(dtype, (pl.Datetime, pl.Date)):
        return True
    if isinstance(dtype, pl.Struct):
        return any(_has_dates(f.dtype) for f in dtype.fields)
    if isinstance(dtype, pl.List):
        return _has_dates(dtype.inner)
    return False


def export_documents(docs: pl.DataFrame, path: Path, key: str) -> ExportCounts:
    """Write `docs` to `path` (JSON lines, Extended JSON), atomically; count what changed."""
    previous = pl.DataFrame(schema={key: pl.String, "content_hash": pl.Int64})
    if path.exists() and path.stat().st_size:
        # Only the two columns, by name: inferring every field's type from the first rows fails on
        # a field that is null in all of them and set further down (seen at 300k documents).
        previous = pl.read_ndjson(path, schema={key: pl.String, "content_hash": pl.Int64})
    changed = docs.select(key, "content_hash").join(previous, on=[key, "content_hash"], how="anti")[key]
    deleted = previous.join(docs.select(key), on=key, how="anti").height
    write_atomically(path, _extended_json(docs).write_ndjson)
    return ExportCounts(path, docs.height, changed.len(), deleted, path.stat().st_size, frozenset(changed.to_list()))
