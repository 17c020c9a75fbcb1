"""Benchmark: where the warehouse build's memory goes, step by step, on a kept data directory.

    .venv/bin/python tests/benchmarks/bench_scale.py --scale 9x33334 --no-serial --keep /work/bench-data
    .venv/bin/python tests/benchmarks/bench_build_memory.py /work/bench-data/9x33334

Runs the `build_warehouse` job once, in this process (in-process executor, as the command's
build run does), on the data directory's lake and instance, while a thread samples this
process's RSS every 20 ms. Prints the peak RSS while each step ran and how far the step raised
it above the RSS when it started, largest first, then the run's peak. Not a test: nothing here
asserts a size.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_scale import DAYS, zip_codes  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path, help="a data directory kept by bench_scale.py --keep (named ZIPSxN)")
    parser.add_argument("--top", type=int, default=12, help="steps to print")
    args = parser.parse_args()
    zip_count = int(args.data_dir.name.split("x")[0])
    os.environ.update(
        {
            "PHOENIX_DATA_DIR": str(args.data_dir),
            "DAGSTER_HOME": str(args.data_dir / "dagster_home"),
            "PHOENIX_FIRST_DATE": DAYS[0],
            "PHOENIX_ZIP_CODES": ",".join(zip_codes(zip_count)),
            "PHOENIX_ASSESSOR_SOURCE": "sample",
            "PHOENIX_OPTIONAL_SOURCES": "sample",
            "OLLAMA_HOST": "http://127.0.0.1:9",
        }
    )
    for name in ("MONGODB_URI", "PHOENIX_DAGSTER_POSTGRES_URL", "PHOENIX_LAKE_URL"):
        os.environ.pop(name, None)

    import dagster as dg
    import psutil

    from phoenix_dagster.definitions import build_definitions
    from phoenix_dagster.graph.job_names import BUILD_WAREHOUSE
    from phoenix_dagster.settings import Settings

    me = psutil.Process()
    samples: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.time(), me.memory_info().rss / 2**20))
            time.sleep(0.02)

    defs = build_definitions(Settings.from_env())
    instance = dg.DagsterInstance.ephemeral()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    result = defs.resolve_job_def(BUILD_WAREHOUSE).execute_in_process(instance=instance, raise_on_error=False)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()

    spans: dict[str, list[float]] = {}
    for entry in instance.all_logs(result.run_id):
        event = entry.dagster_event
        if event is None or not entry.step_key:
            continue
        if event.event_type_value == "STEP_START":
            spans[entry.step_key] = [entry.timestamp, float("inf")]
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and entry.step_key in spans:
            spans[entry.step_key][1] = entry.timestamp
    rows = []
    for step, (begin, end) in spans.items():
        during = [mb for t, mb in samples if begin <= t <= end]
        before = [mb for t, mb in samples if t <= begin]
        if during:
            start_mb = before[-1] if before else during[0]
            rows.append((max(during) - start_mb, max(during), end - begin, step))
    print(
        f"build {'succeeded' if result.success else 'FAILED'} in {seconds:.1f} s; "
        f"peak RSS {max(mb for _, mb in samples):,.0f} MB"
    )
    print("| step | seconds | peak RSS while it ran | raised by |\n|---|---:|---:|---:|")
    for raised, peak, step_s, step in sorted(rows, reverse=True)[: args.top]:
        print(f"| {step} | {step_s:.1f} | {peak:,.0f} MB | {raised:+,.0f} MB |")


if __name__ == "__main__":
    main()
