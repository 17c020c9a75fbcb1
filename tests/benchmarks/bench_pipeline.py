"""Benchmark: the whole graph at volume — partitions into the lake, then one warehouse build.

    .venv/bin/python tests/benchmarks/bench_pipeline.py [--parcels-per-zip 33334] [--zips 85031 85033 85035]

A county server on 127.0.0.1 (its own process, rate limit lifted) answers with parcel bodies
taken from the embedded sample, N parcels per ZIP. In a temporary data directory this runs
day 1 (every parcel fetched) and day 2 (incremental: the ~1/30 of details whose refresh day it is) the way
`phoenix-estate run` does — one daily_refresh run per ZIP, then one build_warehouse run — and
reports each run's seconds, requests per parcel and the peak RSS. Serving is left out of the
build: the in-process MongoDB stand-in is quadratic at this size (docs/tables.md, "Serving"). Not a test:
nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/, for servers.maricopa

TOKEN = "bench-token"
NOT_SERVED = ("mongo_properties", "daily_report")


def county_data(zips: list[str], per_zip: int) -> tuple[dict, dict]:
    """Search rows and parcel details for N parcels per ZIP, from the embedded sample's parcels."""
    from servers.maricopa import MaricopaContractServer

    from phoenix_dagster.settings import SAMPLE_DIR

    sample = MaricopaContractServer.from_sample(SAMPLE_DIR)
    template_rows = sample.search_rows["85031"]
    bodies = [body for status, body in sample.parcels.values() if status == 200 and body.endswith(b"}")]
    rows, details = {}, {}
    for z, zip_code in enumerate(zips):
        rows[zip_code] = []
        for i in range(per_zip):
            apn = f"{z + 1}{i:07d}"
            rows[zip_code].append(
                dict(template_rows[i % len(template_rows)], APN=apn, SitusZip=zip_code, PropertyType="RESIDENTIAL")
            )
            detail = json.loads(bodies[i % len(bodies)])
            detail["APN"] = apn
            details[apn] = (200, json.dumps(detail).encode())
    return rows, details


def serve(zips: list[str], per_zip: int, queue) -> None:
    from servers.maricopa import MaricopaContractServer

    with MaricopaContractServer(*county_data(zips, per_zip), token=TOKEN) as server:
        queue.put(server.url)
        queue.get()  # until the client is done


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def county_requests(instance, run_id: str) -> int:
    """Requests raw_assessor_payloads reported in its metadata for the run."""
    import dagster as dg

    for record in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records:
        materialization = record.event_log_entry.dagster_event.event_specific_data.materialization
        if materialization.asset_key.to_user_string() == "raw_assessor_payloads":
            return int(materialization.metadata["requests"].value)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parcels-per-zip", type=int, default=33334)
    parser.add_argument("--zips", nargs="+", default=["85031", "85033", "85035"])
    args = parser.parse_args()

    queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(args.zips, args.parcels_per_zip, queue), daemon=True)
    server.start()
    url = queue.get(timeout=600)

    import dagster as dg

    from phoenix_dagster.cli.local_runs import QUIET_LOGS, DefinitionsJobs, run_partitions
    from phoenix_dagster.definitions import build_definitions
    from phoenix_dagster.graph.job_names import BUILD_WAREHOUSE
    from phoenix_dagster.settings import Settings

    with tempfile.TemporaryDirectory(prefix="bench_pipeline_") as data_dir:
        settings = Settings.from_env(
            {
                "PHOENIX_DATA_DIR": data_dir,
                "PHOENIX_ZIP_CODES": ",".join(args.zips),
                "PHOENIX_ASSESSOR_SOURCE": "maricopa",
                "MARICOPA_API_URL": url,
                "MARICOPA_API_TOKEN": TOKEN,
                "MARICOPA_RATE_LIMIT_PER_HOUR": str(10**9),
                "MARICOPA_CONCURRENCY": "4",
                "OLLAMA_HOST": "http://127.0.0.1:9",
            }
        )
        os.environ["MARICOPA_API_TOKEN"] = TOKEN  # read by the resource through EnvVar
        defs = build_definitions(settings)
        instance = dg.DagsterInstance.ephemeral()
        build_job = defs.resolve_job_def(BUILD_WAREHOUSE)
        selection = [
            key for key in build_job.asset_layer.executable_asset_keys if key.to_user_string() not in NOT_SERVED
        ]
        total = args.parcels_per_zip * len(args.zips)
        print(f"{total:,} parcels ({len(args.zips)} ZIPs × {args.parcels_per_zip:,}), county server on {url}")
        for day in ("2026-11-27", "2026-11-28"):
            started = time.perf_counter()
            outcomes = run_partitions(
                DefinitionsJobs(defs, instance), day, args.zips, settings.zip_counties, out=io.StringIO()
            )
            partitions_s = time.perf_counter() - started
            started = time.perf_counter()
            build = build_job.execute_in_process(
                instance=instance, run_config=QUIET_LOGS, raise_on_error=False, asset_selection=selection
            )
            build_s = time.perf_counter() - started
            requests = sum(county_requests(instance, o.run_id) for o in outcomes)
            print(
                f"{day}: partitions {partitions_s:.1f} s ({', '.join(f'{o.label} {o.seconds:.1f} s' for o in outcomes)}; "
                f"all ok: {all(o.ok for o in outcomes)}), {requests:,} county requests = "
                f"{requests / total:.3f} per parcel; build {build_s:.1f} s (ok: {build.success}); "
                f"peak RSS so far {peak_rss_mb():.0f} MB"
            )
        bookkeeping = sum(1 for _ in (Path(data_dir) / "lake" / "_bookkeeping").rglob("*.parquet"))
        print(
            f"bookkeeping files: {bookkeeping}; published warehouse "
            f"{(Path(data_dir) / 'warehouse.duckdb').stat().st_size / 1e6:.1f} MB"
        )
    queue.put("done")
    server.join(timeout=10)


if __name__ == "__main__":
    main()
