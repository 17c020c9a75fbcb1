"""Combine what the model said (or the cache remembered) with the rules extractor's reading:
one listing_text_facts row per listing, the model's values where it answered validly, the
rules' otherwise, with the reason recorded."""

from __future__ import annotations

import json

import polars as pl

from phoenix_dagster.llm.extraction_pool import Outcome
from phoenix_dagster.llm.facts import FACT_FIELDS
from phoenix_dagster.schemas import conform, polars_schema
from phoenix_dagster.schemas.enriched import ListingTextFacts


def apply_model_outcomes(
    rules_facts: pl.DataFrame,
    text_keys: dict[tuple[str, str], str],
    outcomes: dict[str, Outcome],
    *,
    model: str,
    prompt_version: str,
) -> pl.DataFrame:
    """`text_keys`: (source, ListingKey) → text key; `outcomes`: text key → Outcome."""
    rows = []
    for row in rules_facts.iter_rows(named=True):
        key = text_keys.get((row["source"], row["ListingKey"]))
        outcome = outcomes.get(key) if key else None
        row = {**row, "text_sha256": key}
        if outcome is not None and outcome.method == "rules":
            row["fallback_reason"] = outcome.reason
        elif outcome is not None:
            values = outcome.values
            full, half = values.get("BathroomsFull"), values.get("BathroomsHalf")
            row.update({name: values.get(name) for name in FACT_FIELDS})
            row.update(
                {
                    "method": outcome.method,
                    "model": model,
                    "prompt_version": prompt_version,
                    "BathroomsTotal": None if full is None else full + 0.5 * (half or 0),
                    "RenovationYear": None,
                    "NotableFeatures": values.get("NotableFeatures", []),
                    "evidence": json.dumps(outcome.evidence, sort_keys=True),
                    "rejected": outcome.rejected,
                }
            )
        if outcome is not None and outcome.reply is not None:  # a call made in this run: it costs
            row.update(
                {
                    "prompt_tokens": outcome.reply.prompt_tokens,
                    "completion_tokens": outcome.reply.completion_tokens,
                    "model_seconds": outcome.reply.model_seconds,
                }
            )
        rows.append(row)
    return conform(pl.DataFrame(rows, schema=polars_schema(ListingTextFacts)), ListingTextFacts)
