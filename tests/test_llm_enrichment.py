"""Listing enrichment through the real ollama client against tests/servers/ollama.py on 127.0.0.1."""

from datetime import date

import pytest
from listing_fixtures import sample_listings
from servers.ollama import OllamaServer

from phoenix_dagster.llm.client import OllamaExtractor
from phoenix_dagster.llm.extraction_pool import run_extraction, text_key

pytestmark = pytest.mark.integration

TODAY = date(2026, 11, 28)


def texts(n: int = 20) -> dict[str, str]:
    remarks = [r["PublicRemarks"] for r in sample_listings()[:n]]
    return {text_key(t): t for t in remarks}


def run(server, items, cached=None, *, model="llama3.2", timeout=5.0, batch=10, concurrency=5):
    return run_extraction(
        items,
        cached or {},
        OllamaExtractor(server.url, model, timeout),
        today=TODAY,
        batch_size=batch,
        concurrency=concurrency,
    )


def test_good_replies_are_validated_facts_with_evidence_and_token_counts():
    items = texts(20)
    with OllamaServer() as server:
        outcomes, stats = run(server, items)
    assert {o.method for o in outcomes.values()} == {"llm"} and stats.calls == 20
    request = server.chat_requests[0]
    assert request["format"]["properties"]["BedroomsTotal"] and request["options"] == {"temperature": 0.1, "seed": 42}
    assert request["stream"] is False and request["model"] == "llama3.2"
    some = next(o for o in outcomes.values() if "BedroomsTotal" in o.values)
    assert some.evidence["BedroomsTotal"] and some.reply.prompt_tokens > 0 and some.reply.model_seconds == 0.85


def test_concurrency_never_exceeds_its_bound_and_batches_are_bounded():
    with OllamaServer() as server:
        server.mode, server.delay_s = "slow", 0.05
        _, stats = run(server, texts(30), concurrency=3, batch=7)
    assert server.max_in_flight <= 3 and stats.max_in_flight <= 3 and stats.calls == 30
    with OllamaServer() as server:
        server.mode, server.delay_s = "slow", 0.05
        _, stats = run(server, texts(12), concurrency=50, batch=1000)  # clamped to 5 and 100
    assert server.max_in_flight <= 5


@pytest.mark.parametrize(
    "mode,reason",
    [
        ("error", "model call failed (ResponseError"),
        ("not_json", "reply does not match the facts schema"),
        ("bad_schema", "reply does not match the facts schema"),
    ],
)
def test_failures_fall_back_to_rules_with_the_reason(mode, reason):
    items = texts(4)
    with OllamaServer() as server:
        server.mode = mode
        outcomes, _ = run(server, items)
    assert len(outcomes) == 4 and all(o.method == "rules" for o in outcomes.values())
    # The first three calls fail with the reason; a listing whose call had not started by then is
    # not called at all (three failures in a row stop the batch) — which ones depends on timing.
    failed = [o for o in outcomes.values() if o.reason.startswith(reason)]
    skipped = [o for o in outcomes.values() if o.reason.endswith("; not called")]
    assert len(failed) >= 3 and len(failed) + len(skipped) == 4, [o.reason for o in outcomes.values()]


def test_a_slow_reply_times_out_into_the_rules():
    with OllamaServer() as server:
        server.mode, server.delay_s = "slow", 1.0
        outcomes, _ = run(server, texts(2), timeout=0.2)
    assert all(o.method == "rules" and "timed out" in o.reason for o in outcomes.values())


def test_out_of_range_values_are_dropped_with_the_reason_not_guessed():
    with OllamaServer() as server:
        server.mode = "out_of_range"
        outcomes, _ = run(server, texts(2))
    for outcome in outcomes.values():
        assert outcome.method == "llm" and "BedroomsTotal" not in outcome.values and "YearBuilt" not in outcome.values
        assert outcome.rejected == ["BedroomsTotal=45 outside 0..20", "YearBuilt=2099 outside 1900..2027"]


def test_a_fact_whose_evidence_is_not_in_the_text_is_rejected():
    """A model that quotes words the listing does not contain made the fact up: dropped with the
    reason, as is a fact with no evidence; the facts whose evidence is in the text stay."""
    items = {key: text for key, text in texts(20).items() if "pool" not in text.lower()}
    with OllamaServer() as server:
        server.mode = "unsupported_evidence"
        outcomes, _ = run(server, items)
    for key, outcome in outcomes.items():
        assert (
            outcome.method == "llm" and "PoolPrivateYN" not in outcome.values and "GarageSpaces" not in outcome.values
        )
        assert "PoolPrivateYN=True: evidence 'sparkling heated pool' is not in the text" in outcome.rejected
        assert "GarageSpaces=3.0: no evidence quoted" in outcome.rejected
        assert all(evidence.casefold() in items[key].casefold() for evidence in outcome.evidence.values())
    assert any("BedroomsTotal" in outcome.values for outcome in outcomes.values())  # supported facts stay


@pytest.mark.parametrize(
    "evidence, supported",
    [("2 BATH", True), ("no hoa", True), ("3   bed,  2\nbath", True), ("4 bedrooms", False), ("", False)],
)
def test_evidence_is_matched_with_case_and_whitespace_aside(evidence, supported):
    from phoenix_dagster.llm.facts import unsupported

    assert (unsupported(evidence, "Cute 3 bed, 2 bath home. No   HOA!") is None) is supported


def test_a_missing_model_is_named_with_what_the_server_has():
    with OllamaServer(models=("qwen2.5:7b", "mistral:latest")) as server:
        outcomes, stats = run(server, texts(3))
    assert server.chat_requests == []
    assert stats.model_state == (
        f"model 'llama3.2' is not available at {server.url}; it has: mistral:latest, qwen2.5:7b"
    )
    assert all(o.method == "rules" and o.reason == stats.model_state for o in outcomes.values())


def test_no_server_at_all():
    with OllamaServer() as server:
        url = server.url
    outcomes, stats = run_extraction(texts(2), {}, OllamaExtractor(url, "llama3.2", 1.0), today=TODAY)
    assert stats.model_state.startswith(f"Ollama not reachable at {url}")
    assert all(o.method == "rules" for o in outcomes.values())


def test_the_server_going_away_mid_batch_leaves_every_listing_enriched():
    items = texts(40)
    with OllamaServer() as server:
        server.die_after = 8
        outcomes, stats = run(server, items, concurrency=2)
    assert len(outcomes) == 40
    by_method = {m: sum(o.method == m for o in outcomes.values()) for m in ("llm", "rules")}
    assert by_method["llm"] == 8 and by_method["rules"] == 32
    assert stats.calls < 40  # it stopped calling once the server was clearly gone
    assert all(o.reason for o in outcomes.values() if o.method == "rules")


def test_a_rerun_over_cached_replies_makes_no_calls():
    items = texts(10)
    with OllamaServer() as server:
        first, _ = run(server, items)
        cache = {key: o.reply for key, o in first.items()}
        second, stats = run(server, items, cached=cache)
    assert len(server.chat_requests) == 10 and stats.calls == 0
    assert {o.method for o in second.values()} == {"cache"}
    assert all(second[k].values == first[k].values for k in items)


def test_a_hung_server_is_given_up_after_three_timeouts_in_a_row():
    items = texts(12)
    with OllamaServer() as server:
        server.mode, server.delay_s = "slow", 1.0
        outcomes, stats = run(server, items, timeout=0.2, batch=5, concurrency=1)
    assert stats.calls == 3  # not 12 timeouts of 0.2 s each
    reasons = [o.reason for o in outcomes.values()]
    assert sum("timed out" in r for r in reasons) == 3
    assert sum(r.startswith("Ollama stopped answering") for r in reasons) == 9
    assert all(o.method == "rules" for o in outcomes.values())
