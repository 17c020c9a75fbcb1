"""A new source is one module: `tests/plugin_sources/open_house.py` declares a listing feed (its
settings, resource, client, probe, pool and secret) and nothing else in the project is edited.
Named in PHOENIX_SOURCE_MODULES and PHOENIX_LISTING_SOURCE, it appears in the graph with its
check, in its pool, in the preflight and the health round, in the ledger and costs, and its
listings reach the marts and the report — served by a feed on 127.0.0.1 speaking its contract."""

from __future__ import annotations

import json
import threading
from urllib.parse import parse_qs, urlsplit

import dagster as dg
import pytest
from listing_fixtures import sample_listings
from platform_harness import DAY, make_platform
from servers.loopback import LoopbackServer, QuietHandler

from phoenix_dagster.graph.job_names import PROBE_SERVICES
from phoenix_dagster.graph.pools import pool_limits

pytestmark = pytest.mark.integration

ZIP, KEY = "85031", "open-house-key-4f1c9a"


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if self.headers.get("X-Api-Key") != self.owner.key:
            return self.reply(401, b'{"error": "unauthorized"}', "application/json")
        with self.owner.lock:
            self.owner.seen.append(parts.path)  # what was asked with the right key
        if parts.path == "/health":
            return self.reply(200, b'{"status": "ok"}', "application/json")
        if parts.path != "/listings":
            return self.reply(404, b'{"error": "not found"}', "application/json")
        zip_code = parse_qs(parts.query).get("zip", [""])[0]
        rows = [row for row in self.owner.listings if row.get("PostalCode") == zip_code]
        self.reply(200, json.dumps({"value": rows}).encode(), "application/json")


class OpenHouseServer(LoopbackServer):
    handler = _Handler

    def __init__(self, listings: list[dict], key: str = KEY):
        self.listings, self.key, self.seen, self.lock = listings, key, [], threading.Lock()


@pytest.fixture
def feed(tmp_path, monkeypatch):
    monkeypatch.setenv("OPEN_HOUSE_API_KEY", KEY)
    with OpenHouseServer(sample_listings(ZIP)[:12]) as server:
        platform = make_platform(
            tmp_path / "data",
            env={
                "PHOENIX_SOURCE_MODULES": "plugin_sources.open_house",
                "PHOENIX_LISTING_SOURCE": "open_house",
                "OPEN_HOUSE_URL": server.url,
                "OPEN_HOUSE_API_KEY": KEY,
            },
        )
        yield platform, server


def test_a_source_from_one_module_reaches_graph_pool_health_ledger_costs_marts_and_report(feed):
    platform, server = feed
    raw = dg.AssetKey("raw_listing_payloads__open_house")
    graph = platform.defs.resolve_asset_graph()
    assert raw in graph.get_all_asset_keys()
    assert dg.AssetCheckKey(raw, "open_house_up") in graph.asset_check_keys  # its probe is its raw asset's check
    assert graph.get(raw).pools == {"listing_source_open_house"}
    assert pool_limits(platform.settings) == {"listing_source_open_house": 1}
    assert "OPEN_HOUSE_API_KEY" in platform.settings.secrets_set

    [outcome] = platform.run(day=DAY, zip_codes=[ZIP])
    assert outcome.success, outcome.error
    assert server.seen[0] == "/health" and "/listings" in server.seen  # the preflight probed it before collecting
    probes = platform.defs.resolve_job_def(PROBE_SERVICES).execute_in_process(instance=platform.instance)
    assert probes.success
    evaluations = {e.check_name: e.passed for e in probes.get_asset_check_evaluations()}
    assert evaluations["open_house_up"] is True

    query = platform.warehouse.query
    build = platform.build()
    assert build.ok, build.error
    assert query("select state from ops.service_health where service = 'open_house' group by all").rows() == [("up",)]
    assert query("select sum(requests) from ops.source_requests where source = 'open_house'").item() >= 1
    assert query("select count(*) from ops.cost_events where service = 'open_house_request'").item() >= 1
    staged = query("select count(*) from marts.listing_match_rates where source = 'open_house'").item()
    assert staged >= 1
    report = (platform.settings.reports_dir / f"{DAY}.html").read_text()
    assert "listing:open_house" in report  # its quality, scored like every configured source's
    details = query("select string_agg(detail, ' ') from ops.service_health").item()
    assert KEY not in details and KEY not in report  # the key went in a header, nowhere else


def test_one_module_runs_several_instances_each_with_its_own_asset_pool_probe_and_price(tmp_path, monkeypatch):
    """OPEN_HOUSE_FEEDS=east,west: two feeds from the one module, each configured by its own
    variables (URL, key) and each collected, pooled, probed and priced on its own."""
    listings = sample_listings(ZIP)[:12]
    keys = {"east": "east-key-91b2", "west": "west-key-07ce"}
    for feed, key in keys.items():
        monkeypatch.setenv(f"OPEN_HOUSE_{feed.upper()}_API_KEY", key)
    with OpenHouseServer(listings[:6], keys["east"]) as east, OpenHouseServer(listings[6:], keys["west"]) as west:
        platform = make_platform(
            tmp_path / "data",
            env={
                "PHOENIX_SOURCE_MODULES": "plugin_sources.open_house",
                "OPEN_HOUSE_FEEDS": "east,west",
                "PHOENIX_LISTING_SOURCE": "open_house_east,open_house_west",
                "OPEN_HOUSE_EAST_URL": east.url,
                "OPEN_HOUSE_WEST_URL": west.url,
                **{f"OPEN_HOUSE_{feed.upper()}_API_KEY": key for feed, key in keys.items()},
            },
        )
        graph = platform.defs.resolve_asset_graph()
        for feed in keys:
            raw = dg.AssetKey(f"raw_listing_payloads__open_house_{feed}")
            assert graph.get(raw).pools == {f"listing_source_open_house_{feed}"}
            assert dg.AssetCheckKey(raw, f"open_house_{feed}_up") in graph.asset_check_keys
        assert pool_limits(platform.settings) == {
            "listing_source_open_house_east": 1,
            "listing_source_open_house_west": 1,
        }
        assert [s.price_key for s in platform.settings.configured_sources[1:]] == [
            "open_house_east_request",
            "open_house_west_request",
        ]
        [outcome] = platform.run(day=DAY, zip_codes=[ZIP], build=False)
        assert outcome.success, outcome.error
        assert east.seen == ["/health", "/listings"] and west.seen == ["/health", "/listings"]  # each with its own key
