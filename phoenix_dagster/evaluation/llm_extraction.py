"""Score an extractor against the labelled descriptions in tests/eval/listing_facts.jsonl:
per field, precision (of the values it gave, how many were right) and recall (of the facts
stated, how many it gave right)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl

from phoenix_dagster.llm.client import OllamaExtractor
from phoenix_dagster.llm.extraction_pool import run_extraction, text_key
from phoenix_dagster.llm.facts import FACT_FIELDS
from phoenix_dagster.settings import PROJECT_ROOT
from phoenix_dagster.transforms.listing_text_rules import extract_listing_facts

EVAL_FILE = PROJECT_ROOT / "tests" / "eval" / "listing_facts.jsonl"
# The labelled set scores the facts it labels: every field the model is asked for but the
# condition words (NewConstructionYN, Condition), which no label set states.
FIELDS = [name for name in FACT_FIELDS if name not in ("NewConstructionYN", "Condition")]


def load_examples(path: Path = EVAL_FILE) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def rules_predictions(examples: list[dict], today: date) -> dict[str, dict]:
    frame = pl.DataFrame(
        {
            "source": "eval",
            "ListingKey": [e["id"] for e in examples],
            "property_id": "eval",
            "PostalCode": "00000",
            "PublicRemarks": [e["text"] for e in examples],
            "ModificationTimestamp": None,
            "fetched_at": None,
        },
        schema_overrides={"ModificationTimestamp": pl.Datetime("us", "UTC"), "fetched_at": pl.Datetime("us", "UTC")},
    )
    facts = extract_listing_facts(frame, today)
    return {row["ListingKey"]: {f: row[f] for f in FIELDS if row[f] is not None} for row in facts.iter_rows(named=True)}


def llm_predictions(examples: list[dict], extractor: OllamaExtractor, today: date) -> dict[str, dict]:
    texts = {text_key(e["text"]): e["text"] for e in examples}
    outcomes, stats = run_extraction(texts, {}, extractor, today=today)
    if stats.calls == 0:
        raise RuntimeError(f"the model did not answer: {stats.model_state}")
    return {
        e["id"]: (outcomes[text_key(e["text"])].values if outcomes[text_key(e["text"])].method == "llm" else {})
        for e in examples
    }


def _same(field: str, predicted, truth) -> bool:
    if field == "LivingArea":
        return abs(float(predicted) - float(truth)) <= 0.01 * float(truth)
    return predicted == truth


def score(examples: list[dict], predictions: dict[str, dict]) -> pl.DataFrame:
    rows = []
    for field in FIELDS:
        tp = fp = fn = 0
        for example in examples:
            truth, predicted = example["facts"].get(field), predictions.get(example["id"], {}).get(field)
            right = truth is not None and predicted is not None and _same(field, predicted, truth)
            tp += right
            fp += predicted is not None and not right
            fn += truth is not None and not right
        rows.append(
            {
                "field": field,
                "stated": tp + fn,
                "answered": tp + fp,
                "correct": tp,
                "precision": round(tp / (tp + fp), 3) if tp + fp else None,
                "recall": round(tp / (tp + fn), 3) if tp + fn else None,
            }
        )
    return pl.DataFrame(rows)
