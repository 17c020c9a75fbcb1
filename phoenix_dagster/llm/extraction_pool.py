"""Run the model over listing texts: cache first, then batches through a bounded pool, every
failure recorded as the reason the rules extractor answered instead."""

from __future__ import annotations

import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import httpx

from phoenix_dagster.llm.client import LlmReply, OllamaExtractor, call_errors
from phoenix_dagster.llm.facts import ReplyInvalid, validate_reply
from phoenix_dagster.tuning.controller import BATCH_BOUNDS, CONCURRENCY_BOUNDS

CONSECUTIVE_FAILURES_TO_GIVE_UP = 3  # the server went away: stop calling, let the rules answer


def text_key(text: str) -> str:
    """The cache key's text part: SHA-256 of the text with its whitespace normalised."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


@dataclass
class Outcome:
    method: str  # llm | cache | rules
    values: dict = field(default_factory=dict)
    evidence: dict = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)
    reason: str | None = None  # why the rules answered
    reply: LlmReply | None = None  # a new model reply (to cache and to cost)
    call_seconds: float | None = None  # wall time of the call made in this run
    failed_call: bool = False  # a call was made and did not return a usable reply
    timed_out: bool = False


@dataclass
class RunStats:
    calls: int = 0
    max_in_flight: int = 0
    model_state: str = ""


def clamp(value: int, bounds: tuple[int, int]) -> int:
    return max(bounds[0], min(bounds[1], value))


def run_extraction(
    texts: dict[str, str],
    cached: dict[str, LlmReply],
    extractor: OllamaExtractor | None,
    *,
    today: date,
    batch_size: int = 10,
    concurrency: int = 5,
) -> tuple[dict[str, Outcome], RunStats]:
    """`texts`: text_key → text. `cached`: text_key → an earlier reply for this model and prompt.
    Returns an Outcome per key and what the run did."""
    outcomes: dict[str, Outcome] = {}
    stats = RunStats()
    for key, reply in cached.items():
        if key in texts:
            outcomes[key] = _judge(reply, today, texts[key], method="cache")
    todo = [key for key in texts if key not in outcomes]
    if not todo:
        stats.model_state = "cache only"
        return outcomes, stats
    reason = "no model configured" if extractor is None else extractor.unavailable_reason()
    if reason:
        stats.model_state = reason
        return outcomes | {key: Outcome("rules", reason=reason) for key in todo}, stats
    stats.model_state = f"{extractor.model} at {extractor.host}"
    batch_size, concurrency = clamp(batch_size, BATCH_BOUNDS), clamp(concurrency, CONCURRENCY_BOUNDS)
    lock, in_flight, failures_in_a_row = threading.Lock(), [0], [0]

    def call(key: str) -> tuple[str, Outcome]:
        with lock:
            if failures_in_a_row[0] >= CONSECUTIVE_FAILURES_TO_GIVE_UP:
                return key, Outcome("rules", reason=f"Ollama stopped answering at {extractor.host}; not called")
            in_flight[0] += 1
            stats.calls += 1
            stats.max_in_flight = max(stats.max_in_flight, in_flight[0])
        started = time.perf_counter()
        try:
            reply = extractor.extract(texts[key])
        except (
            httpx.TimeoutException
        ) as exc:  # a hung server: a failure like any other, or it costs a timeout a listing
            with lock:
                failures_in_a_row[0] += 1
            return key, Outcome(
                "rules",
                reason=f"model call timed out ({type(exc).__name__})",
                failed_call=True,
                timed_out=True,
                call_seconds=time.perf_counter() - started,
            )
        except call_errors() as exc:
            with lock:
                failures_in_a_row[0] += 1
            return key, Outcome(
                "rules",
                reason=f"model call failed ({type(exc).__name__}: {str(exc)[:120]})",
                call_seconds=time.perf_counter() - started,
                failed_call=True,
            )
        else:
            outcome = _judge(reply, today, texts[key], method="llm")
            outcome.failed_call = outcome.method != "llm"
        finally:
            with lock:
                in_flight[0] -= 1
        outcome.call_seconds = time.perf_counter() - started
        with lock:
            failures_in_a_row[0] = 0
        return key, outcome

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ollama") as pool:
        for start in range(0, len(todo), batch_size):
            outcomes.update(pool.map(call, todo[start : start + batch_size]))
    return outcomes, stats


def _judge(reply: LlmReply, today: date, text: str, method: str) -> Outcome:
    """A reply read against its listing's text (a cached one again each time it is used)."""
    try:
        values, evidence, rejected = validate_reply(reply.content, today, text)
    except ReplyInvalid as exc:
        return Outcome("rules", reason=str(exc), reply=reply if method == "llm" else None)
    return Outcome(method, values, evidence, rejected, reply=reply if method == "llm" else None)
