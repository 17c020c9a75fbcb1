"""Enriched layer: facts read from listing text (a local model through Ollama, cached, with
the rules extractor as fallback), applied where the sources left gaps."""

from datetime import UTC, date, datetime

import dagster as dg
import polars as pl

from phoenix_dagster.graph.bookkeeping import Bookkeeping, lake_asset
from phoenix_dagster.graph.zip_steps import ZipFrames, for_each_zip
from phoenix_dagster.llm.client import replies_frame
from phoenix_dagster.llm.extraction_pool import BATCH_BOUNDS, CONCURRENCY_BOUNDS, clamp, run_extraction, text_key
from phoenix_dagster.llm.prompt import PROMPT_VERSION
from phoenix_dagster.resources.control_state import ControlStateResource
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.ollama import OllamaResource
from phoenix_dagster.transforms.costs import model_usage
from phoenix_dagster.transforms.enrich import enrich_properties
from phoenix_dagster.transforms.listing_facts import apply_model_outcomes
from phoenix_dagster.transforms.listing_text_rules import extract_listing_facts
from phoenix_dagster.tuning.metrics import stage_metrics


@lake_asset(records=("llm_replies", "usage", "stage_metrics"), kinds=("ollama", "polars", "parquet"))
def listing_text_facts(
    context: dg.AssetExecutionContext,
    int_listings_matched: ZipFrames,
    ollama: OllamaResource,
    control_state: ControlStateResource,
    lake: LakeResource,
) -> ZipFrames:
    """Facts each current listing's description states, read by the model at OLLAMA_HOST with
    structured output (validated, cached by model, prompt version and text hash), or by the
    rules extractor when the model is unavailable, slow, failing or wrong. Every row records
    its method, model, prompt version and any fallback reason."""

    def extract(books: Bookkeeping, zip_code: str, matched: pl.DataFrame) -> tuple[pl.DataFrame, dict]:
        today = date.fromisoformat(books.day)
        rules = extract_listing_facts(matched, today=today)
        with_text = matched.filter(pl.col("PublicRemarks").str.strip_chars().fill_null("") != "")
        keys = {(r["source"], r["ListingKey"]): text_key(r["PublicRemarks"]) for r in with_text.iter_rows(named=True)}
        texts = dict(zip(keys.values(), with_text["PublicRemarks"]))
        cached = control_state.cached_replies(ollama.model, PROMPT_VERSION, sorted(texts))
        setting = control_state.tuning_setting(
            "enrichment", pinned_batch=ollama.batch_size, pinned_concurrency=ollama.concurrency
        )
        batch, concurrency = clamp(setting.batch_size, BATCH_BOUNDS), clamp(setting.concurrency, CONCURRENCY_BOUNDS)
        outcomes, stats = run_extraction(
            texts, cached, ollama.extractor(), today=today, batch_size=batch, concurrency=concurrency
        )
        new_replies = {key: o.reply for key, o in outcomes.items() if o.reply is not None}
        books.record("llm_replies", replies_frame(ollama.model, PROMPT_VERSION, new_replies, datetime.now(UTC)))
        facts = apply_model_outcomes(rules, keys, outcomes, model=ollama.model, prompt_version=PROMPT_VERSION)
        books.usage(
            model_usage(
                ollama.model,
                prompt_tokens=int(facts["prompt_tokens"].sum()),
                completion_tokens=int(facts["completion_tokens"].sum()),
                model_seconds=float(facts["model_seconds"].sum()),
            )
            if new_replies
            else []
        )
        methods = dict(facts.group_by("method").len().iter_rows())
        valid = sum(1 for o in outcomes.values() if o.reply is not None and o.method == "llm")
        if stats.model_state and not stats.model_state.startswith(ollama.model):
            context.log.warning(f"{zip_code}: listing enrichment used the rules extractor: {stats.model_state}")
        metrics = books.stage_metrics(
            stage_metrics(
                "enrichment",
                items=len(texts),
                duration_s=books.elapsed_s,
                latencies_s=[o.call_seconds for o in outcomes.values() if o.call_seconds is not None],
                errors=sum(o.failed_call for o in outcomes.values()),
                retries=0,
                rate_limited=0,
                timeouts=sum(o.timed_out for o in outcomes.values()),
                batch_size=batch,
                concurrency=concurrency,
                cpu_pct=books.cpu_pct(),
                peak_rss_mb=books.peak_rss_mb(),
            )
        )
        return facts, (
            books.finish(
                rows_in=matched.height,
                rows_out=facts.height,
                model_state=stats.model_state or "no text",
                model_calls=stats.calls,
                max_concurrent_calls=stats.max_in_flight,
                cache_hits=len(cached),
                model_validation_pass_rate=round(valid / len(new_replies), 4) if new_replies else 1.0,
                prompt_tokens=int(facts["prompt_tokens"].sum()),
                completion_tokens=int(facts["completion_tokens"].sum()),
                model_seconds=round(float(facts["model_seconds"].sum()), 3),
                **{f"method_{m}": n for m, n in sorted(methods.items())},
                values_rejected=int(facts["rejected"].list.len().sum()),
                batch_size=batch,
                concurrency=concurrency,
                tuning=setting.origin,
            )
            | metrics
        )

    return for_each_zip(context, lake, extract, int_listings_matched)


@lake_asset()
def enriched_properties(
    context: dg.AssetExecutionContext,
    int_properties_resolved: ZipFrames,
    listing_text_facts: ZipFrames,
    lake: LakeResource,
) -> ZipFrames:
    """Resolved properties with listing-text facts filling what no source gave; a source's
    structured value always wins, and where it differs from the text the disagreement is
    recorded. enriched_fields names what came from text."""

    def enrich(books: Bookkeeping, zip_code: str, resolved: pl.DataFrame, facts: pl.DataFrame) -> tuple:
        enriched = enrich_properties(resolved, facts)
        return enriched, books.finish(
            rows_in=resolved.height,
            rows_out=enriched.height,
            values_filled_from_text=int(enriched["enriched_fields"].list.len().sum()),
            text_disagreements=int(enriched["text_disagreements"].list.len().sum()),
        )

    return for_each_zip(context, lake, enrich, int_properties_resolved, listing_text_facts)
