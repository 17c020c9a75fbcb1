"""The Ollama client for listing facts: structured output, fixed options, one readiness check."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import ollama

from phoenix_dagster.llm.facts import REPLY_SCHEMA
from phoenix_dagster.llm.prompt import messages

DEFAULT_HOST = "http://127.0.0.1:11434"
DEFAULT_MODEL = "llama3.2"
OPTIONS = {"temperature": 0.1, "seed": 42}  # as the old system used them: near-deterministic
CALL_ERRORS = (ollama.ResponseError, ConnectionError, httpx.HTTPError)


@dataclass(frozen=True)
class LlmReply:
    content: str
    prompt_tokens: int
    completion_tokens: int
    model_seconds: float  # Ollama's total_duration for the call


class OllamaExtractor:
    def __init__(self, host: str = DEFAULT_HOST, model: str = DEFAULT_MODEL, timeout_s: float = 60.0):
        self.host, self.model = host, model
        self._client = ollama.Client(host=host, timeout=timeout_s)

    def unavailable_reason(self) -> str | None:
        """None when the model answers at the host; otherwise why not (asked once per run)."""
        try:
            names = sorted(m.model for m in self._client.list().models)
        except CALL_ERRORS as exc:
            return f"Ollama not reachable at {self.host} ({type(exc).__name__}: {str(exc)[:120]})"
        if self.model not in names and f"{self.model}:latest" not in names:
            return f"model {self.model!r} is not available at {self.host}; it has: {', '.join(names) or 'no models'}"
        return None

    def extract(self, text: str) -> LlmReply:
        response = self._client.chat(model=self.model, messages=messages(text), format=REPLY_SCHEMA,
                                     options=OPTIONS, stream=False)
        return LlmReply(response.message.content or "", response.prompt_eval_count or 0, response.eval_count or 0,
                        (response.total_duration or 0) / 1e9)
