"""Enrichment inside the whole graph, with the model at a local Ollama-protocol server."""

import json

import polars as pl
import pytest
from platform_harness import make_platform
from servers.ollama import OllamaServer

import assets.enriched

pytestmark = pytest.mark.integration

ZIP = "85031"


def test_model_facts_reach_the_marts_and_a_rerun_makes_no_calls(tmp_path, monkeypatch):
    with OllamaServer(models=("llama3.2:latest", "qwen2.5:latest")) as server:
        platform = make_platform(
            tmp_path / "data", env={"OLLAMA_HOST": server.url, "OLLAMA_BATCH_SIZE": "10", "OLLAMA_CONCURRENCY": "3"}
        )
        [outcome] = platform.run(zip_codes=[ZIP])
        assert outcome.success, outcome.error
        assert outcome.enrichment_methods == {"llm": 74} and outcome.model_state == f"llama3.2 at {server.url}"
        assert len(server.chat_requests) == 74 and server.max_in_flight <= 3
        facts = platform.warehouse.query("select * from marts.listing_facts")
        assert facts.height == 74 and set(facts["method"]) == {"llm"} and set(facts["prompt_version"]) == {"facts-v1"}
        row = facts.filter(pl.col("BedroomsTotal").is_not_null()).row(0, named=True)
        assert json.loads(row["evidence"])["BedroomsTotal"] and row["prompt_tokens"] > 0
        props = platform.warehouse.query("select * from marts.properties where enrichment_method = 'llm'")
        assert props.height == 74

        [again] = platform.run(zip_codes=[ZIP], build=False)
        assert again.enrichment_methods == {"cache": 74} and len(server.chat_requests) == 74  # zero new calls
        cached = platform.defs.resources["lake"].read("listing_text_facts", "2026-11-28", ZIP)
        assert cached["prompt_tokens"].sum() == 0  # a cache hit costs nothing

        other = make_platform(tmp_path / "data", env={"OLLAMA_HOST": server.url, "OLLAMA_MODEL": "qwen2.5"})
        [switched] = other.run(zip_codes=[ZIP], build=False)
        assert switched.enrichment_methods == {"llm": 74} and len(server.chat_requests) == 148  # a new model: new calls

        monkeypatch.setattr(assets.enriched, "PROMPT_VERSION", "facts-v2")
        [reprompted] = platform.run(zip_codes=[ZIP], build=False)
        assert reprompted.enrichment_methods == {"llm": 74} and len(server.chat_requests) == 222
        monkeypatch.setattr(assets.enriched, "PROMPT_VERSION", "facts-v1")
        [back] = platform.run(zip_codes=[ZIP], build=False)
        assert back.enrichment_methods == {"cache": 74} and len(server.chat_requests) == 222  # v1 entries still valid


def test_without_a_server_the_rules_enrich_everything_and_say_why(platform):
    [outcome] = platform.run(zip_codes=[ZIP])
    assert outcome.success and outcome.enrichment_methods == {"rules": 74}
    facts = platform.warehouse.query("select distinct fallback_reason from marts.listing_facts")
    assert facts["fallback_reason"][0].startswith("Ollama not reachable at")
