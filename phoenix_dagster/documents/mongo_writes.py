"""Writing documents to a MongoDB collection keyed by one field, in bulk and only what changed:
- documents that are new or whose `content_hash` differs are replaced whole (upserted);
- documents whose content is the same only have their sightings moved forward: one
  `update_many` per distinct `last_seen_at` ($max, so an older run never moves it back);
- documents in the collection that are no longer in the set are deleted (a property a
  corrected match removed leaves no orphan behind).
Work grows with the number of documents, not with its square: one read of the stored hashes,
then bulk writes. The build writes a ZIP at a time (`scope`), so memory stays one ZIP's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from time import perf_counter

import polars as pl

BULK = 1000  # operations per bulk_write call


@dataclass(frozen=True)
class WriteCounts:
    documents: int
    content_writes: int
    sightings_moved: int
    deleted: int
    written_keys: frozenset  # the keys of the documents written whole
    call_seconds: tuple[float, ...]  # wall time of each bulk call (the serving stage's latencies)


def _bson(value):
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    if isinstance(value, list):
        return [_bson(v) for v in value]
    if isinstance(value, dict):
        return {k: _bson(v) for k, v in value.items()}
    return value


def _chunks(operations: list, size: int = BULK):
    for start in range(0, len(operations), size):
        yield operations[start : start + size]


def write_changed(collection, docs: pl.DataFrame, key: str, scope: dict | None = None) -> WriteCounts:
    """Bring the documents of `collection` within `scope` (a filter, e.g. one ZIP's; all by
    default) to `docs` (one row per document, a `content_hash` and a `last_seen_at` column)."""
    from pymongo import DeleteMany, ReplaceOne, UpdateMany  # ~0.5 s to import: only where documents are written

    stored = {
        d[key]: d.get("content_hash") for d in collection.find(scope or {}, {key: 1, "content_hash": 1, "_id": 0})
    }
    wanted = docs.with_columns(
        pl.col(key).replace_strict(stored, default=None, return_dtype=pl.Int64).alias("_stored_hash")
    )
    changed = wanted.filter(pl.col("_stored_hash").is_null() | (pl.col("_stored_hash") != pl.col("content_hash")))
    same = wanted.filter(pl.col("_stored_hash") == pl.col("content_hash"))
    writes = [
        ReplaceOne({key: row[key]}, _bson(row), upsert=True)
        for row in changed.drop("_stored_hash").iter_rows(named=True)
    ]
    sightings = [
        UpdateMany({key: {"$in": group[key].to_list()}}, {"$max": {"last_seen_at": _bson(seen)}})
        for (seen,), group in same.group_by("last_seen_at")
    ]
    gone = sorted(set(stored) - set(docs[key].to_list()))
    deletes = [DeleteMany({key: {"$in": chunk}}) for chunk in _chunks(gone)]
    seconds, moved = [], 0
    for batch in [*_chunks(writes + deletes), *([update] for update in sightings)]:
        started = perf_counter()
        modified = bulk_write_unordered(collection, batch)
        seconds.append(perf_counter() - started)
        if isinstance(batch[0], UpdateMany):
            moved += modified
    return WriteCounts(docs.height, len(writes), moved, len(gone), frozenset(changed[key].to_list()), tuple(seconds))


def delete_outside(collection, field: str, values: list) -> int:
    """Delete the documents whose `field` is none of `values` (a ZIP no longer served at all);
    returns how many."""
    return collection.delete_many({field: {"$nin": values}}).deleted_count


def bulk_write_unordered(collection, operations: list) -> int:
    """bulk_write, unordered; returns documents modified. The in-process stand-in (mongomock)
    cannot read pymongo 4's operation objects, so it gets the same operations one by one."""
    from pymongo import ReplaceOne, UpdateMany, UpdateOne

    if type(collection).__module__.startswith("mongomock"):
        modified = 0
        for op in operations:
            if isinstance(op, ReplaceOne):
                modified += collection.replace_one(op._filter, op._doc, upsert=op._upsert).modified_count
            elif isinstance(op, UpdateMany):
                modified += collection.update_many(op._filter, op._doc).modified_count
            elif isinstance(op, UpdateOne):
                modified += collection.update_one(op._filter, op._doc).modified_count
            else:
                collection.delete_many(op._filter)
        return modified
    return collection.bulk_write(operations, ordered=False).modified_count
