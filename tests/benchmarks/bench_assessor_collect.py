"""Benchmark: the Maricopa collector against the contract server, with the rate limit lifted.

    .venv/bin/python tests/benchmarks/bench_assessor_collect.py [--parcels 3000] [--concurrency 4]

The server runs in its own process (so the numbers are the client's), answering with
parcel bodies taken from the embedded sample. Reports parcels per second, requests per
parcel, and the client process's peak memory; then the same crawl again with its replies
landed in Parquet parts as the raw asset lands them (sources/landing.py, a part every 250
replies, into a temporary local lake), so the cost of landing as it goes shows; then stages
the payloads (decode + Polars transform) and reports that throughput too. Not a test:
nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/, for servers.maricopa

TOKEN = "bench-token"


def serve(parcels: int, queue) -> None:
    from servers.maricopa import MaricopaContractServer

    from phoenix_dagster.settings import SAMPLE_DIR

    sample = MaricopaContractServer.from_sample(SAMPLE_DIR)
    template_rows = sample.search_rows["85031"]
    bodies = [body for status, body in sample.parcels.values() if status == 200 and body.endswith(b"}")]
    rows, details = [], {}
    for i in range(parcels):
        apn = f"9{i:07d}"
        rows.append(dict(template_rows[i % len(template_rows)], APN=apn, SitusZip="85031", PropertyType="RESIDENTIAL"))
        detail = json.loads(bodies[i % len(bodies)])
        detail["APN"] = apn
        details[apn] = (200, json.dumps(detail).encode())
    with MaricopaContractServer({"85031": rows}, details, token=TOKEN) as server:
        queue.put(server.url)
        queue.get()  # until the client is done


def crawl_landing(url: str, concurrency: int) -> tuple[float, int]:
    """The crawl again, each reply landed as the raw asset lands it; (seconds, parts written)."""
    import tempfile

    from phoenix_dagster.settings import DEFAULT_RESIDENTIAL_TYPES
    from phoenix_dagster.sources.assessor_crawl import crawl_zip
    from phoenix_dagster.sources.http import RetryBudget
    from phoenix_dagster.sources.landing import RawLanding
    from phoenix_dagster.sources.maricopa import MaricopaApi
    from phoenix_dagster.sources.rate_limit import SlidingWindowLimiter
    from phoenix_dagster.storage.lake_storage import LakeStorage

    with tempfile.TemporaryDirectory() as lake:
        api = MaricopaApi(url, TOKEN, limiter=SlidingWindowLimiter(10**9, 1.0), budget=RetryBudget(100))
        landing = RawLanding.open(LakeStorage(lake), "raw_assessor_payloads/zip=85031/date=bench", "bench")
        started = time.perf_counter()
        crawl_zip(api, "85031", DEFAULT_RESIDENTIAL_TYPES, concurrency=concurrency, landing=landing)
        collected = landing.finish()
        seconds = time.perf_counter() - started
        api.close()
    return seconds, len(collected.parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parcels", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(args.parcels, queue), daemon=True)
    server.start()
    url = queue.get(timeout=60)

    import polars as pl

    from phoenix_dagster.settings import DEFAULT_RESIDENTIAL_TYPES
    from phoenix_dagster.sources.assessor_crawl import crawl_zip
    from phoenix_dagster.sources.base import payloads_frame
    from phoenix_dagster.sources.http import RetryBudget
    from phoenix_dagster.sources.maricopa import MaricopaApi
    from phoenix_dagster.sources.rate_limit import SlidingWindowLimiter
    from phoenix_dagster.transforms.assessor import stage_parcels
    from phoenix_dagster.transforms.payloads import decode_json_bodies

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    api = MaricopaApi(url, TOKEN, limiter=SlidingWindowLimiter(10**9, 1.0), budget=RetryBudget(100))
    started = time.perf_counter()
    result = crawl_zip(api, "85031", DEFAULT_RESIDENTIAL_TYPES, concurrency=args.concurrency)
    collect_s = time.perf_counter() - started
    api.close()

    parcels = sum(1 for p in result.payloads if p.entity == "parcel" and p.http_status == 200)
    requests = len(api.records)
    landed_s, parts = crawl_landing(url, args.concurrency)
    queue.put("done")
    started = time.perf_counter()
    raw = payloads_frame(result.payloads)
    decoded, _, _ = decode_json_bodies(raw.filter(pl.col("entity") == "parcel"))
    staged, rejected = stage_parcels(decoded)
    stage_s = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"collector: {parcels} parcels in {collect_s:.2f} s = {parcels / collect_s:,.0f} parcels/s "
        f"(concurrency {args.concurrency}, rate limit lifted, loopback server in its own process)"
    )
    print(
        f"requests: {requests} for {parcels} parcels = {requests / parcels:.3f} requests/parcel "
        f"({requests - parcels} search pages)"
    )
    print(f"bytes received: {sum(r.bytes for r in api.records) / 1e6:.1f} MB")
    print(
        f"landed as it goes: the same crawl in {landed_s:.2f} s = {parcels / landed_s:,.0f} parcels/s, "
        f"{parts} Parquet parts ({landed_s / collect_s - 1:+.0%} against not landing)"
    )
    print(
        f"staging: {staged.height} parcels decoded and typed in {stage_s:.2f} s = {staged.height / stage_s:,.0f} "
        f"parcels/s ({rejected.height} rejected)"
    )
    print(f"peak RSS of the client process: {peak_mb:.0f} MB (after imports: {rss_before:.0f} MB)")
    at_limit = 1000 / (requests / parcels)
    print(
        f"at the default limit (MARICOPA_RATE_LIMIT_PER_HOUR=1000) a full refresh collects at most "
        f"{at_limit:,.0f} parcels/hour"
    )
    server.join(timeout=10)


if __name__ == "__main__":
    main()
