"""Benchmark: serving the property documents at volume — into the mongoimport-ready export (the
default without MONGODB_URI) and into the in-process stand-in at the sizes it can do.

    .venv/bin/python tests/benchmarks/bench_serving.py [--documents 100000] [--stand-in 1000 3000]

The documents are the embedded sample's marts.properties and listing events (one demo run of
the three default ZIPs), repeated with new property ids up to --documents. Each target is served
twice: the first time every document is new; the second time nothing changed, so it must write
0 documents whole (only sightings move).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def sample_marts(data_dir: str):
    import dagster as dg

    from phoenix_dagster.cli.local_runs import DefinitionsJobs, build_warehouse, run_partitions
    from phoenix_dagster.definitions import build_definitions
    from phoenix_dagster.settings import Settings

    settings = Settings.from_env(
        {"PHOENIX_DATA_DIR": data_dir, "OLLAMA_HOST": "http://127.0.0.1:9", "PHOENIX_FIRST_DATE": "2026-11-01"}
    )
    jobs = DefinitionsJobs(build_definitions(settings), dg.DagsterInstance.ephemeral())
    run_partitions(jobs, "2026-11-28", list(settings.zip_codes), settings.zip_counties, out=io.StringIO())
    build_warehouse(jobs, out=io.StringIO())
    warehouse = jobs.defs.resources["warehouse"]
    return warehouse.query("select * from marts.properties"), warehouse.query("select * from marts.listing_events")


def tiled(frame, n: int):
    """`frame` repeated to n rows, each copy's property ids made unique."""
    import polars as pl

    copies = -(-n // frame.height)
    return pl.concat([frame.with_columns(pl.col("property_id") + f"#{copy}") for copy in range(copies)]).head(n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--stand-in", type=int, nargs="*", default=[1000, 3000])
    args = parser.parse_args()

    import mongomock

    from phoenix_dagster.documents.export import export_documents
    from phoenix_dagster.documents.mongo_writes import write_changed
    from phoenix_dagster.documents.properties import ensure_indexes, property_documents

    with tempfile.TemporaryDirectory(prefix="bench_serving_") as data_dir:
        marts, events = sample_marts(data_dir)
        print(f"sample: {marts.height} properties, {events.height} listing events")
        path = Path(data_dir) / "serving" / "properties.jsonl"
        mart, history = tiled(marts, args.documents), None
        import polars as pl

        history = pl.concat(
            [
                events.with_columns(pl.col("property_id") + f"#{copy}")
                for copy in range(-(-args.documents // marts.height))
            ]
        )
        for label in ("first", "unchanged re-run"):
            started = time.perf_counter()
            docs = property_documents(mart, history)
            built = time.perf_counter() - started
            counts = export_documents(docs, path, "property_id")
            total = time.perf_counter() - started
            print(
                f"export, {label}: {docs.height:,} documents in {total:.2f} s ({docs.height / total:,.0f} documents/s; "
                f"building them {built:.2f} s), {counts.content_writes:,} written whole, "
                f"{counts.bytes / 2**20:.1f} MB"
            )
        for size in args.stand_in:
            collection = mongomock.MongoClient().db.properties
            ensure_indexes(collection)
            docs = property_documents(tiled(marts, size), history)
            for label in ("first", "unchanged re-run"):
                started = time.perf_counter()
                counts = write_changed(collection, docs, "property_id")
                seconds = time.perf_counter() - started
                print(
                    f"stand-in (mongomock), {label}: {size:,} documents in {seconds:.2f} s "
                    f"({size / seconds:,.0f} documents/s), {counts.content_writes:,} written whole"
                )


if __name__ == "__main__":
    main()
