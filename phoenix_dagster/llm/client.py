"""The Ollama client for listing facts: structured output, fixed options, one readiness check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import httpx
import polars as pl

from phoenix_dagster.llm.facts import REPLY_SCHEMA
from phoenix_dagster.llm.prompt import messages

OPTIONS = {"temperature": 0.1, "seed": 42}  # near-deterministic replies, so the cache and the evaluation are repeatable


def call_errors() -> tuple[type[Exception], ...]:
    """What a call to Ollama raises when it fails, for `except call_errors()` (evaluated only when an
    exception is being matched, so the client library is imported only where a model is asked)."""
    import ollama

    return ollama.ResponseError, ConnectionError, httpx.HTTPError


@dataclass(frozen=True)
class LlmReply:
    content: str
    prompt_tokens: int
    completion_tokens: int
    model_seconds: float  # Ollama's total_duration for the call


class OllamaExtractor:
    def __init__(self, host: str, model: str, timeout_s: float):
        self.host, self.model = host, model
        import ollama  # ~0.2 s to import: only where a model is asked

        self._client = ollama.Client(host=host, timeout=timeout_s)

    def unavailable_reason(self) -> str | None:
        """None when the model answers at the host; otherwise why not (asked once per run)."""
        try:
            names = sorted(m.model for m in self._client.list().models)
        except call_errors() as exc:
            return f"Ollama not reachable at {self.host} ({type(exc).__name__}: {str(exc)[:120]})"
        if self.model not in names and f"{self.model}:latest" not in names:
            return f"model {self.model!r} is not available at {self.host}; it has: {', '.join(names) or 'no models'}"
        return None

    def extract(self, text: str) -> LlmReply:
        response = self._client.chat(
            model=self.model, messages=messages(text), format=REPLY_SCHEMA, options=OPTIONS, stream=False
        )
        return LlmReply(
            response.message.content or "",
            response.prompt_eval_count or 0,
            response.eval_count or 0,
            (response.total_duration or 0) / 1e9,
        )


def replies_frame(model: str, prompt_version: str, replies: dict[str, LlmReply], when: datetime) -> pl.DataFrame:
    """New replies (text key → reply) as rows of the reply cache."""
    return pl.DataFrame(
        [
            {
                "model": model,
                "prompt_version": prompt_version,
                "text_sha256": key,
                "content": r.content,
                "prompt_tokens": r.prompt_tokens,
                "completion_tokens": r.completion_tokens,
                "model_seconds": r.model_seconds,
                "created_at": when,
            }
            for key, r in replies.items()
        ],
        schema={
            "model": pl.String,
            "prompt_version": pl.String,
            "text_sha256": pl.String,
            "content": pl.String,
            "prompt_tokens": pl.Int64,
            "completion_tokens": pl.Int64,
            "model_seconds": pl.Float64,
            "created_at": pl.Datetime("us", "UTC"),
        },
    )
