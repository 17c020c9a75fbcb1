"""Enriched layer: facts read from listing text (a local model through Ollama, cached, with
the rules extractor as fallback), applied where the sources left gaps."""

from datetime import date, datetime, timezone

import dagster as dg
import polars as pl

from phoenix_dagster.llm.prompt import PROMPT_VERSION
from phoenix_dagster.llm.runner import BATCH_BOUNDS, CONCURRENCY_BOUNDS, clamp, run_extraction, text_key
from phoenix_dagster.partitions import ZIP_DAY_PARTITIONS, date_and_zip
from phoenix_dagster.resources.ollama import OllamaResource, cached_replies, remember_replies
from phoenix_dagster.resources.warehouse import WarehouseResource
from phoenix_dagster.run_log import AssetRun
from phoenix_dagster.schemas import column_docs
from phoenix_dagster.schemas.enriched import EnrichedProperties, ListingTextFacts
from phoenix_dagster.transforms.enrich import enrich_properties
from phoenix_dagster.transforms.listing_facts import apply_model_outcomes
from phoenix_dagster.transforms.listing_text_rules import extract_listing_facts
from phoenix_dagster.tuning.metrics import as_metadata, stage_metrics
from phoenix_dagster.tuning.state import current_setting


@dg.asset(group_name="enriched", partitions_def=ZIP_DAY_PARTITIONS, kinds={"ollama", "polars", "parquet"},
          metadata={"dagster/column_schema": column_docs(ListingTextFacts)})
def listing_text_facts(context: dg.AssetExecutionContext, int_listings_matched: pl.DataFrame,
                       ollama: OllamaResource, warehouse: WarehouseResource) -> pl.DataFrame:
    """Facts each current listing's description states, read by the model at OLLAMA_HOST with
    structured output (validated, cached in ops.llm_cache by model, prompt version and text
    hash), or by the rules extractor when the model is unavailable, slow, failing or wrong.
    Every row records its method, model, prompt version and any fallback reason."""
    run = AssetRun(context, warehouse)
    day, _ = date_and_zip(context)
    today = date.fromisoformat(day)
    rules = extract_listing_facts(int_listings_matched, today=today)
    with_text = int_listings_matched.filter(pl.col("PublicRemarks").str.strip_chars().fill_null("") != "")
    keys = {(r["source"], r["ListingKey"]): text_key(r["PublicRemarks"]) for r in with_text.iter_rows(named=True)}
    texts = {key: text for key, text in zip(keys.values(), with_text["PublicRemarks"])}
    cached = cached_replies(warehouse, ollama.model, PROMPT_VERSION, sorted(texts))
    batch, concurrency, origin = current_setting(warehouse, "enrichment", pinned_batch=ollama.batch_size,
                                                 pinned_concurrency=ollama.concurrency)
    outcomes, stats = run_extraction(texts, cached, ollama.extractor(), today=today, batch_size=batch,
                                     concurrency=concurrency)
    remember_replies(warehouse, ollama.model, PROMPT_VERSION,
                     {key: o.reply for key, o in outcomes.items() if o.reply is not None}, datetime.now(timezone.utc))
    facts = apply_model_outcomes(rules, keys, outcomes, model=ollama.model, prompt_version=PROMPT_VERSION)
    methods = dict(facts.group_by("method").len().iter_rows())
    answered = sum(1 for o in outcomes.values() if o.reply is not None)
    valid = sum(1 for o in outcomes.values() if o.reply is not None and o.method == "llm")
    if stats.model_state and not stats.model_state.startswith(ollama.model):
        context.log.warning(f"listing enrichment used the rules extractor: {stats.model_state}")
    context.add_output_metadata(run.finish(
        rows_in=int_listings_matched.height, rows_out=facts.height, model_state=stats.model_state or "no text",
        model_calls=stats.calls, max_concurrent_calls=stats.max_in_flight, cache_hits=len(cached),
        model_validation_pass_rate=round(valid / answered, 4) if answered else 1.0,
        prompt_tokens=int(facts["prompt_tokens"].sum()), completion_tokens=int(facts["completion_tokens"].sum()),
        model_seconds=round(float(facts["model_seconds"].sum()), 3),
        **{f"method_{m}": n for m, n in sorted(methods.items())},
        values_rejected=int(facts["rejected"].list.len().sum()), batch_size=clamp(batch, BATCH_BOUNDS),
        concurrency=clamp(concurrency, CONCURRENCY_BOUNDS), tuning=origin)
        | as_metadata(stage_metrics(
            "enrichment", items=len(texts), duration_s=run.elapsed_s,
            latencies_s=[o.call_seconds for o in outcomes.values() if o.call_seconds is not None],
            errors=sum(o.failed_call for o in outcomes.values()), retries=0, rate_limited=0,
            timeouts=sum(o.timed_out for o in outcomes.values()), batch_size=clamp(batch, BATCH_BOUNDS),
            concurrency=clamp(concurrency, CONCURRENCY_BOUNDS), cpu_pct=run.cpu_pct(), peak_rss_mb=run.peak_rss_mb())))
    return facts


@dg.asset(group_name="enriched", partitions_def=ZIP_DAY_PARTITIONS, kinds={"polars", "parquet"},
          metadata={"dagster/column_schema": column_docs(EnrichedProperties)})
def enriched_properties(context: dg.AssetExecutionContext, int_properties_resolved: pl.DataFrame,
                        listing_text_facts: pl.DataFrame, warehouse: WarehouseResource) -> pl.DataFrame:
    """Resolved properties with listing-text facts filling what no source gave; a source's
    structured value always wins, and where it differs from the text the disagreement is
    recorded. ``enriched_fields`` names what came from text."""
    run = AssetRun(context, warehouse)
    enriched = enrich_properties(int_properties_resolved, listing_text_facts)
    context.add_output_metadata(run.finish(
        rows_in=int_properties_resolved.height, rows_out=enriched.height,
        values_filled_from_text=int(enriched["enriched_fields"].list.len().sum()),
        text_disagreements=int(enriched["text_disagreements"].list.len().sum())))
    return enriched
