"""The serving documents as a mongoimport-ready export, when no MongoDB is configured.

One file per collection under `<data dir>/serving/`, one document per line in MongoDB Extended
JSON (dates as {"$date": …}), replaced atomically by each build:

    mongoimport --uri "$MONGODB_URI" --collection properties --mode upsert \\
                --upsertFields property_id --file data/serving/properties.jsonl

Written by Polars a batch at a time (the build serves a ZIP at a time): time grows linearly with
the documents, memory with the largest batch. The counts compare the new export's content hashes
with the previous one's, so an unchanged re-run reports 0 content writes."""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from phoenix_dagster.storage.files import replace_durably

DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%.3fZ"


@dataclass(frozen=True)
class ExportCounts:
    path: Path
    documents: int
    content_writes: int  # new or changed documents against the previous export
    deleted: int  # documents of the previous export no longer served
    bytes: int


def _extended_json(frame: pl.DataFrame) -> pl.DataFrame:
    """Datetimes and dates as {"$date": "…Z"}, at any depth of structs and lists; nulls stay null
    (a `location` of {"type": null} would be refused by the 2dsphere index)."""

    def convert(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
        if isinstance(dtype, pl.Datetime):
            utc = expr.dt.convert_time_zone("UTC") if dtype.time_zone else expr
            return pl.when(expr.is_not_null()).then(pl.struct(utc.dt.strftime(DATE_FORMAT).alias("$date")))
        if dtype == pl.Date:
            return pl.when(expr.is_not_null()).then(
                pl.struct(expr.dt.strftime("%Y-%m-%dT00:00:00.000Z").alias("$date"))
            )
        if isinstance(dtype, pl.Struct):
            return pl.when(expr.is_not_null()).then(
                pl.struct([convert(expr.struct.field(f.name), f.dtype).alias(f.name) for f in dtype.fields])
            )
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


def read_fields(path: Path, schema: dict[str, pl.DataType], chunk_lines: int = 50_000) -> pl.DataFrame:
    """A few fields of every document of a JSON-lines export, parsed `chunk_lines` at a time:
    Polars' own NDJSON readers load the whole file first (907 MB of memory for the 822 MB export
    of 1M documents), this stays at one chunk."""
    frames, lines = [], []
    with open(path, "rb") as handle:
        for line in handle:
            lines.append(line)
            if len(lines) == chunk_lines:
                frames.append(pl.read_ndjson(io.BytesIO(b"".join(lines)), schema=schema))
                lines = []
    if lines:
        frames.append(pl.read_ndjson(io.BytesIO(b"".join(lines)), schema=schema))
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


class DocumentExport:
    """The export written batch by batch (a ZIP's documents at a time, so memory stays one batch):

        with DocumentExport(path, "property_id") as export:
            for docs in batches:
                export.write(docs)        # → the batch's new or changed keys
        export.counts                     # documents, content writes, deleted, bytes

    The file is replaced atomically when the block ends without an error; the previous export is
    read once, for its keys and content hashes only (inferring every field's type from the first
    rows failed on a field null in all of them and set further down, seen at 300k documents), a
    chunk of lines at a time (`read_fields`)."""

    def __init__(self, path: Path, key: str):
        self.path, self.key = path, key
        self.counts: ExportCounts | None = None
        self._previous = pl.DataFrame(schema={key: pl.String, "content_hash": pl.Int64})
        self._served: list[pl.Series] = []
        self._documents = self._content_writes = 0

    def __enter__(self) -> DocumentExport:
        if self.path.exists() and self.path.stat().st_size:
            self._previous = read_fields(self.path, {self.key: pl.String, "content_hash": pl.Int64})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=f"{self.path.suffix}.tmp")
        self._tmp = Path(tmp)
        self._out = os.fdopen(handle, "wb")
        return self

    def write(self, docs: pl.DataFrame) -> pl.Series:
        """Append `docs`; returns the keys of those that are new or changed against the previous export."""
        changed = docs.select(self.key, "content_hash").join(self._previous, on=[self.key, "content_hash"], how="anti")[
            self.key
        ]
        _extended_json(docs).write_ndjson(self._out)
        self._served.append(docs[self.key])
        self._documents += docs.height
        self._content_writes += changed.len()
        return changed

    def __exit__(self, kind, error, traceback) -> None:
        self._out.close()
        if error is not None:
            self._tmp.unlink(missing_ok=True)
            return
        replace_durably(self._tmp, self.path)
        served = (
            pl.concat(self._served).to_frame(self.key) if self._served else pl.DataFrame(schema={self.key: pl.String})
        )
        deleted = self._previous.join(served, on=self.key, how="anti").height
        self.counts = ExportCounts(self.path, self._documents, self._content_writes, deleted, self.path.stat().st_size)


def export_documents(docs: pl.DataFrame, path: Path, key: str) -> ExportCounts:
    """Write `docs` to `path` (JSON lines, Extended JSON) in one batch, atomically; count what changed."""
    with DocumentExport(path, key) as export:
        export.write(docs)
    return export.counts
