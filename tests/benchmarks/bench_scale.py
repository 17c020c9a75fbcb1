"""Benchmark: how the platform's cost grows with parcels, through `phoenix-estate run` itself.

    make bench-scale                                   # 3 ZIPs × 33,334 parcels (100k)
    .venv/bin/python tests/benchmarks/bench_scale.py --scale 3x33334 --scale 9x33334 [--scale 30x33334]

For each scale, a county server on 127.0.0.1 (its own process, no rate limit) serves N parcels
per ZIP built from the embedded sample's parcels, for as many ZIPs as asked (85031, 85033,
85035, then 85001…): more ZIPs for more parcels. In a temporary data directory it runs the
command a person would, as a subprocess, and measures from outside:

- the full run (day 1: every parcel's detail fetched) and the incremental run (day 2: the search
  pages and the ~1/30 of details whose refresh day it is), each the whole command — the day's partitions through the run queue, the
  tuning run, the warehouse build and the MongoDB export — wall time;
- county requests per parcel (counted at the server);
- the peak RSS of the largest process of the command's tree (the command, its code server,
  each run's process), sampled every 0.1 s, and which process it was;
- the lake's and the published warehouse's size on disk;
- the runs the day made (partition runs, the tuning run, the build) and the partition keys of
  `raw_assessor_payloads` it materialized: one county × day partition for all the ZIPs (they are
  worked on inside the run), so both stay constant as ZIPs are added;
- the partition phase (first partition run created → last one ended, from the instance's run
  records).

The listing source is the embedded sample, which has listings for the three sample ZIPs only;
it is made optional (PHOENIX_OPTIONAL_SOURCES) so the other ZIPs' empty listings warn instead
of failing. The rate limiter is lifted here. Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/, for servers.maricopa

from bench_pipeline import TOKEN, county_data  # noqa: E402  (N parcels per ZIP from the sample's)

SAMPLE_ZIPS = ["85031", "85033", "85035"]
DAYS = ("2026-11-27", "2026-11-28")


def serve(zips: list[str], per_zip: int, connection) -> None:
    """The county server in this process; answers "count" (requests seen so far) until "done"."""
    from servers.maricopa import MaricopaContractServer

    with MaricopaContractServer(*county_data(zips, per_zip), token=TOKEN) as server:
        connection.send(server.url)
        while (message := connection.recv()) != "done":
            assert message == "count", message
            connection.send(len(server.seen))


def zip_codes(count: int) -> list[str]:
    extra = [f"850{n:02d}" for n in range(1, 100) if f"850{n:02d}" not in SAMPLE_ZIPS]
    return (SAMPLE_ZIPS + extra)[:count]


@dataclass
class Measured:
    seconds: float
    peak_rss_mb: float
    peak_process: str
    ok: bool
    output: str
    peaks_by_kind: dict


def process_label(process) -> str:
    command = " ".join(process.cmdline())
    if "phoenix_dagster.cli" in command:
        return "command"
    return "code server" if "api grpc" in command else "run process"


def process_kinds(data_dir: Path, peaks: dict[int, tuple[float, str]]) -> dict[str, float]:
    """The peak RSS (MB) of each kind of process: the command, its code server, the partition
    runs (which name their worker process in their tags, via the run_worker resource) and the
    other runs (the build, the tuning run)."""
    import dagster as dg

    from phoenix_dagster.graph.pools import run_worker

    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    workers = {
        run_worker(run.tags).pid
        for run in instance.get_runs(dg.RunsFilter(job_name="daily_refresh"))
        if run_worker(run.tags)
    }
    kinds: dict[str, float] = {}
    for pid, (mb, label) in peaks.items():
        if label == "run process":
            label = "partition run" if pid in workers else "build or tuning run"
        kinds[label] = max(kinds.get(label, 0.0), mb)
    return kinds


def run_command(args: list[str], env: dict) -> Measured:
    """`phoenix-estate` as a subprocess, its process tree's RSS sampled until it ends."""
    import psutil

    started = time.perf_counter()
    command = subprocess.Popen(
        [sys.executable, "-m", "phoenix_dagster.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    peaks: dict[int, tuple[float, str]] = {}
    done = threading.Event()

    def sample() -> None:
        root = psutil.Process(command.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for process in tree:
                try:
                    mb = process.memory_info().rss / 2**20
                    if mb > peaks.get(process.pid, (0.0, ""))[0]:
                        peaks[process.pid] = (mb, process_label(process))
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = command.communicate()
    done.set()
    sampler.join()
    kinds = process_kinds(Path(env["PHOENIX_DATA_DIR"]), peaks)
    label, mb = max(kinds.items(), key=lambda item: item[1])
    return Measured(time.perf_counter() - started, mb, label, command.returncode == 0, output, kinds)


def partition_runs(data_dir: Path, day: str) -> list:
    """The day's partition runs (`<county>|<day>` keys), from the instance's records."""
    import dagster as dg

    from phoenix_dagster.graph.partitions import day_of_key

    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    return [
        r
        for r in instance.get_run_records(dg.RunsFilter(job_name="daily_refresh"))
        if day_of_key(r.dagster_run.tags.get("dagster/partition", "")) == day
    ]


def partition_phase_s(data_dir: Path, day: str) -> float:
    """First partition run of the day created → last one ended."""
    records = partition_runs(data_dir, day)
    return max(r.end_time for r in records) - min(r.create_timestamp.timestamp() for r in records)


def runs_and_keys(data_dir: Path, day: str, since: float) -> tuple[int, int]:
    """(runs created since `since`, the partition keys of raw_assessor_payloads materialized for `day`)."""
    import dagster as dg

    from phoenix_dagster.graph.partitions import day_of_key

    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    runs = [r for r in instance.get_run_records() if r.create_timestamp.timestamp() >= since]
    keys = instance.get_materialized_partitions(dg.AssetKey("raw_assessor_payloads"))
    return len(runs), sum(1 for key in keys if day_of_key(key) == day)


def latest_run_s(data_dir: Path, job_name: str) -> tuple[float, float]:
    """(queued → started, started → ended) seconds of the job's latest run: the launch (a process
    started by the code server, importing the code location) and the work."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    [record] = instance.get_run_records(dg.RunsFilter(job_name=job_name), limit=1)
    return record.start_time - record.create_timestamp.timestamp(), record.end_time - record.start_time


def size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def environment(data_dir: Path, url: str, zips: list[str], max_concurrent_runs: int) -> dict:
    """The command's environment: `max_concurrent_runs` runs at once."""
    env = {
        **os.environ,
        "PHOENIX_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(data_dir / "dagster_home"),
        "PHOENIX_FIRST_DATE": DAYS[0],
        "PHOENIX_ZIP_CODES": ",".join(zips),
        "PHOENIX_ASSESSOR_SOURCE": "maricopa",
        "MARICOPA_API_URL": url,
        "MARICOPA_API_TOKEN": TOKEN,
        "MARICOPA_RATE_LIMIT_PER_HOUR": str(10**9),
        "MARICOPA_CONCURRENCY": "4",
        "PHOENIX_OPTIONAL_SOURCES": "sample",
        "OLLAMA_HOST": "http://127.0.0.1:9",
        "PHOENIX_MAX_CONCURRENT_RUNS": str(max_concurrent_runs),
    }
    for name in ("MONGODB_URI", "PHOENIX_DAGSTER_POSTGRES_URL", "PHOENIX_LAKE_URL", "PHOENIX_RATE_LIMIT_STORE"):
        env.pop(name, None)
    return env


def measure_scale(zip_count: int, per_zip: int, *, concurrent_runs: int, keep: Path | None = None) -> dict:
    zips = zip_codes(zip_count)
    parcels = zip_count * per_zip
    control, server_end = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(zips, per_zip, server_end), daemon=True)
    server.start()
    url = control.recv()
    row = {"parcels": parcels, "zips": zip_count, "concurrent_runs": concurrent_runs}
    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
        data_dir = keep / f"{zip_count}x{per_zip}" if keep else Path(tmp) / "concurrent"
        for label, day in zip(("full", "incremental"), DAYS):
            control.send("count")
            before = control.recv()
            started = time.time()
            measured = run_command(["run", "--date", day], environment(data_dir, url, zips, concurrent_runs))
            control.send("count")
            requests = control.recv() - before
            if not measured.ok:
                print(measured.output[-3000:], file=sys.stderr)
            row[label] = measured
            row[f"{label}_requests_per_parcel"] = requests / parcels
            row[f"{label}_partitions_s"] = partition_phase_s(data_dir, day)
            row[f"{label}_build_s"] = latest_run_s(data_dir, "build_warehouse")
            row[f"{label}_runs"], row[f"{label}_keys"] = runs_and_keys(data_dir, day, started)
        row["lake_mb"] = size_mb(data_dir / "lake")
        row["warehouse_mb"] = size_mb(data_dir / "warehouse.duckdb")
    control.send("done")
    server.join(timeout=30)
    return row


def print_table(rows: list[dict]) -> None:
    print(
        "| parcels | ZIPs | full run | incremental run | requests/parcel (full, incr.) | peak RSS (process) "
        "| lake | warehouse | runs a day (full, incr.) | partition keys a day |"
    )
    print("|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|")
    for row in rows:
        full, incremental = row["full"], row["incremental"]
        peak = max((full, incremental), key=lambda m: m.peak_rss_mb)
        status = "" if full.ok and incremental.ok else " (a run FAILED)"
        print(
            f"| {row['parcels']:,} | {row['zips']} | {full.seconds:.1f} s | {incremental.seconds:.1f} s | "
            f"{row['full_requests_per_parcel']:.3f}, {row['incremental_requests_per_parcel']:.3f} | "
            f"{peak.peak_rss_mb:,.0f} MB ({peak.peak_process}) | {row['lake_mb']:,.1f} MB | "
            f"{row['warehouse_mb']:,.1f} MB | {row['full_runs']}, {row['incremental_runs']} | "
            f"{row['full_keys']}, {row['incremental_keys']}{status} |",
            flush=True,
        )
    print("\nPeak RSS by kind of process (MB):")
    for row in rows:
        for label in ("full", "incremental"):
            kinds = ", ".join(f"{kind} {mb:,.0f}" for kind, mb in sorted(row[label].peaks_by_kind.items()))
            print(f"  {row['parcels']:,} {label}: {kinds}")
    print("\nWhere the command's time goes (partitions: first run queued → last ended; build: launch + work):")
    for row in rows:
        for label in ("full", "incremental"):
            launch, work = row[f"{label}_build_s"]
            print(
                f"  {row['parcels']:,} {label}: command {row[label].seconds:.1f} s = partitions "
                f"{row[f'{label}_partitions_s']:.1f} s + build {launch:.1f} s launch + {work:.1f} s work + the rest "
                "(start-up, the code server, the tuning run, the summary)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--scale", action="append", default=None, help="ZIPSxPARCELS_PER_ZIP, repeatable (default 3x33334)"
    )
    parser.add_argument(
        "--concurrent-runs", type=int, default=2, help="PHOENIX_MAX_CONCURRENT_RUNS of the measured runs (default 2)"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="keep the concurrent run's data directory under KEEP/<scale>/ (to measure a build "
        "again with tests/benchmarks/bench_build_memory.py)",
    )
    args = parser.parse_args()
    rows = []
    for scale in args.scale or ["3x33334"]:
        zip_count, per_zip = (int(part) for part in scale.lower().split("x"))
        print(f"measuring {zip_count} ZIPs × {per_zip:,} parcels …", file=sys.stderr, flush=True)
        rows.append(measure_scale(zip_count, per_zip, concurrent_runs=args.concurrent_runs, keep=args.keep))
    print_table(rows)


if __name__ == "__main__":
    main()
