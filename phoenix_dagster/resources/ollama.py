"""The local model for listing enrichment: OLLAMA_HOST, OLLAMA_MODEL, batch size and concurrency."""

from __future__ import annotations

from typing import ClassVar, Optional

import dagster as dg

from phoenix_dagster.llm.client import OllamaExtractor
from phoenix_dagster.redact import MaskedRepr


class OllamaResource(MaskedRepr, dg.ConfigurableResource):
    URL_FIELDS: ClassVar[frozenset[str]] = frozenset({"host"})

    host: str  # OLLAMA_HOST
    model: str  # OLLAMA_MODEL
    timeout_s: float  # OLLAMA_TIMEOUT_S
    batch_size: Optional[int] = None  # OLLAMA_BATCH_SIZE pins it (bounded 5–100); else the tuning state decides
    concurrency: Optional[int] = None  # OLLAMA_CONCURRENCY pins it (bounded 1–5); else the tuning state decides

    def extractor(self) -> OllamaExtractor:
        return OllamaExtractor(self.host, self.model, self.timeout_s)
