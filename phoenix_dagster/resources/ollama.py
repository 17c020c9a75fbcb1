"""The local model for listing enrichment: OLLAMA_HOST, OLLAMA_MODEL, batch size and concurrency."""

from __future__ import annotations

from typing import Optional

import dagster as dg
import polars as pl

from phoenix_dagster.llm.client import DEFAULT_HOST, DEFAULT_MODEL, LlmReply, OllamaExtractor
from phoenix_dagster.resources.warehouse import WarehouseResource


class OllamaResource(dg.ConfigurableResource):
    host: str = DEFAULT_HOST
    model: str = DEFAULT_MODEL
    timeout_s: float = 60.0
    batch_size: Optional[int] = None  # OLLAMA_BATCH_SIZE pins it (bounded 5–100); else the tuning state decides
    concurrency: Optional[int] = None  # OLLAMA_CONCURRENCY pins it (bounded 1–5); else the tuning state decides

    def extractor(self) -> OllamaExtractor:
        return OllamaExtractor(self.host, self.model, self.timeout_s)


def cached_replies(warehouse: WarehouseResource, model: str, prompt_version: str,
                   keys: list[str]) -> dict[str, LlmReply]:
    """Earlier replies of this model to this prompt version, for these text keys."""
    if not keys:
        return {}
    frame = warehouse.query(
        "select text_sha256, content, prompt_tokens, completion_tokens, model_seconds from ops.llm_cache "
        "where model = ? and prompt_version = ? and text_sha256 in (select unnest(?))", [model, prompt_version, keys])
    return {row["text_sha256"]: LlmReply(row["content"], row["prompt_tokens"], row["completion_tokens"],
                                         row["model_seconds"]) for row in frame.iter_rows(named=True)}


def remember_replies(warehouse: WarehouseResource, model: str, prompt_version: str, replies: dict[str, LlmReply],
                     when) -> None:
    if not replies:
        return
    frame = pl.DataFrame([{"model": model, "prompt_version": prompt_version, "text_sha256": key, "content": r.content,
                           "prompt_tokens": r.prompt_tokens, "completion_tokens": r.completion_tokens,
                           "model_seconds": r.model_seconds, "created_at": when} for key, r in replies.items()])
    warehouse.upsert_rows("ops.llm_cache", frame, keys=["model", "prompt_version", "text_sha256"])
