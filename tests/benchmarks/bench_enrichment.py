"""Benchmark: listing enrichment against the Ollama-protocol server, then a cached re-run.

    .venv/bin/python tests/benchmarks/bench_enrichment.py [--listings 600] [--concurrency 5] [--batch 10]

The server runs in its own process and answers at once (it is a protocol stand-in, not a
model), so the rate measured is the client and pipeline overhead: what the platform adds on
top of a real model's own time. Cost per property uses data/unit_prices.yaml and the
model seconds the server reports (0.85 s a call, a figure of the stand-in).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from datetime import date
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def serve(queue) -> None:
    from servers.ollama import OllamaServer

    with OllamaServer() as server:
        queue.put(server.url)
        queue.get()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=5)
    parser.add_argument("--batch", type=int, default=10)
    args = parser.parse_args()

    queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=serve, args=(queue,), daemon=True)
    process.start()
    url = queue.get(timeout=60)

    from listing_fixtures import sample_listings

    from phoenix_dagster.llm.client import OllamaExtractor
    from phoenix_dagster.llm.extraction_pool import run_extraction, text_key
    from phoenix_dagster.settings import PROJECT_ROOT

    remarks = [r["PublicRemarks"] for z in ("85031", "85033", "85035") for r in sample_listings(z)]
    texts = {}
    for i in range(args.listings):
        text = f"{remarks[i % len(remarks)]} Listing {i}."
        texts[text_key(text)] = text
    extractor = OllamaExtractor(url, "llama3.2", 30.0)
    today = date.today()

    started = time.perf_counter()
    outcomes, stats = run_extraction(
        texts, {}, extractor, today=today, batch_size=args.batch, concurrency=args.concurrency
    )
    first_s = time.perf_counter() - started
    cache = {key: o.reply for key, o in outcomes.items() if o.reply is not None}
    started = time.perf_counter()
    again, again_stats = run_extraction(
        texts, cache, extractor, today=today, batch_size=args.batch, concurrency=args.concurrency
    )
    second_s = time.perf_counter() - started
    queue.put("done")

    prices = yaml.safe_load((PROJECT_ROOT / "data" / "unit_prices.yaml").read_text())["prices"]
    replies = [o.reply for o in outcomes.values() if o.reply is not None]
    model_hours = sum(r.model_seconds for r in replies) / 3600
    tokens_in, tokens_out = sum(r.prompt_tokens for r in replies), sum(r.completion_tokens for r in replies)
    cost = (
        model_hours * prices["llm_model_hour"]["usd"]
        + tokens_in / 1000 * prices["llm_prompt_1k_tokens"]["usd"]
        + tokens_out / 1000 * prices["llm_completion_1k_tokens"]["usd"]
    )
    llm = sum(o.method == "llm" for o in outcomes.values())
    hits = sum(o.method == "cache" for o in again.values())
    print(
        f"first run: {len(texts)} listings, {stats.calls} calls in {first_s:.2f} s = {len(texts) / first_s:,.0f} "
        f"enrichments/s (concurrency {args.concurrency}, batch {args.batch}, max in flight {stats.max_in_flight}); "
        f"{llm} by the model"
    )
    print(f"re-run: {again_stats.calls} calls, cache hit rate {hits / len(texts):.1%}, {second_s:.3f} s")
    print(
        f"tokens: {tokens_in:,} prompt + {tokens_out:,} completion; model time {model_hours * 3600:,.0f} s "
        f"(the stand-in's 0.85 s a call)"
    )
    print(
        f"cost: ${cost:.4f} for {llm} listings = ${cost / max(llm, 1):.6f} per enriched listing at "
        f"${prices['llm_model_hour']['usd']}/model hour; $0 per listing on a cached re-run"
    )
    process.join(timeout=10)


if __name__ == "__main__":
    main()
