"""All three real listing sources through the whole graph, against servers on 127.0.0.1."""

import csv
import io

import dagster as dg
import polars as pl
import pytest
from listing_fixtures import sample_listings
from platform_harness import make_platform
from servers.mls_html import MlsHtmlServer
from servers.reso import ResoContractServer
from test_listing_sources import HEADER

from phoenix_dagster.sources.http_policy import HttpPolicy
from phoenix_dagster.sources.mls_html import MlsHtmlResource
from phoenix_dagster.sources.reso import ResoResource

pytestmark = pytest.mark.integration

ZIP = "85031"


def redfin_export(listings: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    header = next(csv.reader([HEADER]))
    writer.writerow(header)
    for r in listings:
        row = dict.fromkeys(header, "")
        row.update(
            {
                "SALE TYPE": "MLS Listing",
                "PROPERTY TYPE": "Single Family Residential",
                "ADDRESS": r["UnparsedAddress"],
                "CITY": "Phoenix",
                "STATE OR PROVINCE": "AZ",
                "ZIP OR POSTAL CODE": r["PostalCode"],
                "PRICE": f"${r['ListPrice']:,}",
                "BEDS": r["BedroomsTotal"] or "",
                "BATHS": r["BathroomsFull"],
                "SQUARE FEET": f"{r['LivingArea']:,}" if r["LivingArea"] else "",
                "YEAR BUILT": r["YearBuilt"] or "",
                "STATUS": "Active",
                "MLS#": f"R{r['ListingId']}",
            }
        )
        writer.writerow(row.values())
    return out.getvalue()


@pytest.fixture
def feeds(tmp_path, monkeypatch):
    listings = sample_listings(ZIP)
    reso_part, mls_part, csv_part = listings[:30], listings[30:55], listings[55:]
    monkeypatch.setenv("RESO_API_TOKEN", "reso-token")
    with ResoContractServer(reso_part) as reso, MlsHtmlServer(mls_part) as mls:
        fast = HttpPolicy(backoff_base_s=0.01)
        sources = {
            "listings_source__reso": ResoResource(
                url=reso.url, token=dg.EnvVar("RESO_API_TOKEN"), page_size=10, http=fast
            ),
            "listings_source__mls_html": MlsHtmlResource(url=mls.url, rate_limit_per_minute=10_000, http=fast),
        }
        inbox = tmp_path / "data" / "inbox"
        inbox.mkdir(parents=True)
        (inbox / "redfin_export.csv").write_text(redfin_export(csv_part))
        yield (
            make_platform(
                tmp_path / "data",
                env={"PHOENIX_LISTING_SOURCE": "reso,mls_html,csv_inbox", "PHOENIX_INBOX_SETTLE_S": "0"},
                **sources,
            ),
            reso,
            {"reso": reso_part, "mls_html": mls_part, "csv_inbox": csv_part},
        )


def test_three_sources_resolve_to_one_property_each_and_reach_every_mart(feeds):
    platform, _, parts = feeds
    [outcome] = platform.run(day="2026-11-27", zip_codes=[ZIP])
    assert outcome.success, outcome.error
    rates = platform.warehouse.query("select * from marts.listing_match_rates order by source")
    by_source = {r["source"]: r for r in rates.iter_rows(named=True)}
    assert {s: by_source[s]["listings"] for s in parts} == {s: len(p) for s, p in parts.items()}
    ghosts = {s: sum("Construction" in r["UnparsedAddress"] for r in p) for s, p in parts.items()}
    assert {s: by_source[s]["unmatched"] for s in parts} == ghosts  # only the houses the assessor never saw
    assert by_source["mls_html"]["matched_by_apn"] == 0  # the pages carry no APN: all by address
    assert by_source["reso"]["matched_by_apn"] > 0
    props = platform.warehouse.query("select * from marts.properties where ListingId is not null")
    listed_sources = {s for row in props["sources"].to_list() for s in row if s.startswith("listing:")}
    assert listed_sources == {"listing:reso", "listing:mls_html", "listing:csv_inbox"}
    stats = platform.warehouse.query("select * from marts.zip_market_stats")
    assert stats["active_listings"][0] > 0
    assert (
        platform.mongo.db().properties.count_documents({"PostalCode": ZIP})
        == platform.warehouse.query("select count(*) as n from marts.properties")["n"][0]
    )


def test_price_and_status_changes_become_listing_events(feeds):
    platform, reso, parts = feeds
    assert platform.run(day="2026-11-27", zip_codes=[ZIP])[0].success  # MongoDB's price history is kept per build
    cut, sold = reso.listings[0], reso.listings[1]
    cut.update(ListPrice=cut["ListPrice"] - 10_000, ModificationTimestamp="2026-11-27T18:00:00Z")
    sold.update(StandardStatus="Closed", ClosePrice=sold["ListPrice"], ModificationTimestamp="2026-11-27T19:00:00Z")
    seen_before = len(reso.seen)
    assert platform.run(day="2026-11-28", zip_codes=[ZIP])[0].success
    day_two = [seen for seen in reso.seen[seen_before:] if seen["query"].get("$top") != "1"]  # not the probe
    assert "ModificationTimestamp gt" in day_two[0]["query"]["$filter"]  # incremental
    events = platform.warehouse.query("select * from marts.listing_events where source = 'reso' and event <> 'listed'")
    assert sorted(zip(events["ListingKey"], events["event"])) == sorted(
        [(cut["ListingKey"], "price_change"), (sold["ListingKey"], "sold")]
    )
    change = events.filter(pl.col("event") == "price_change").row(0, named=True)
    assert float(change["old_value"]) - float(change["new_value"]) == 10_000
    # listings the feed did not resend still belong to their properties on day two
    listed = platform.warehouse.query(
        "select count(*) as n from marts.properties where list_contains(sources, 'listing:reso')"
    )
    assert listed["n"][0] == len(parts["reso"])
    doc = platform.mongo.db().properties.find_one({"ListingId": cut["ListingId"]})
    assert [h["ListPrice"] for h in doc["price_history"]] == [cut["ListPrice"] + 10_000, cut["ListPrice"]]


@pytest.mark.parametrize("optional", [False, True])
def test_a_wrong_reso_url_fails_the_run_or_warns_never_a_quiet_zero(tmp_path, monkeypatch, optional):
    monkeypatch.setenv("RESO_API_TOKEN", "reso-token")
    with ResoContractServer(sample_listings(ZIP)[:5]) as reso:
        feed = ResoResource(
            url=reso.url.replace("/reso/odata", "/odata-typo"),
            token=dg.EnvVar("RESO_API_TOKEN"),
            http=HttpPolicy(backoff_base_s=0.01),
        )
        platform = make_platform(
            tmp_path / "data",
            env={"PHOENIX_LISTING_SOURCE": "reso", **({"PHOENIX_OPTIONAL_SOURCES": "reso"} if optional else {})},
            listings_source__reso=feed,
        )
        [outcome] = platform.run(day="2026-11-27", zip_codes=[ZIP])
    if not optional:  # required: the run's preflight probe stops it, one line, before any collection
        assert not outcome.success and outcome.checks_failed == ["raw_listing_payloads__reso:reso_up"]
        assert "reso misconfigured: 404 from /odata-typo/Property" in outcome.error
        assert "check RESO_API_URL" in outcome.error and len(reso.seen) == 1  # the probe's request only
        assert platform.instance.get_latest_materialization_event(dg.AssetKey("raw_listing_payloads__reso")) is None
        return
    delivered = ["stg_listings__listings:sources_delivered"]  # optional: a WARN, the rest flows on
    assert outcome.success and outcome.checks_failed == []
    assert sorted(outcome.checks_warned) == sorted(
        [
            "raw_listing_payloads__reso:reso_up",
            "listing_text_facts:ollama_up",  # the probes: both optional here
            "stg_listings__listings:quarantine_rate",
            *delivered,
        ]
    )  # all listings quarantined
    record = platform.instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("stg_listings__listings"), "sources_delivered")]
    )
    evaluation = next(iter(record.values())).evaluation
    assert (
        evaluation.description == f"2026-11-27|{ZIP}: delivered nothing: reso: none of its 1 payload(s) could be read"
    )
    assert evaluation.metadata["zips_failing"].value == ZIP  # which ZIP failed, in the UI
    assert evaluation.metadata["zips_checked"].value == ZIP
    rejected = platform.warehouse.query("select asset, reason from ops.quarantine where source = 'reso'")
    assert rejected.rows() == [("stg_listings__listings", "HTTP 404 reply")]
    quality = platform.warehouse.query(
        "select status, records, quarantined from ops.quality_daily where source = 'listing:reso'"
    )
    assert quality.rows() == [("NO_DATA", 0, 1)]


def test_an_mls_crawl_cut_short_keeps_yesterdays_listings(tmp_path):
    with MlsHtmlServer(sample_listings(ZIP), per_page=20) as mls:
        site = MlsHtmlResource(url=mls.url, rate_limit_per_minute=10_000, http=HttpPolicy(backoff_base_s=0.01))
        platform = make_platform(
            tmp_path / "data", env={"PHOENIX_LISTING_SOURCE": "mls_html"}, listings_source__mls_html=site
        )
        platform.run(day="2026-11-27", zip_codes=[ZIP], build=False)
        mls.search_failures[2] = 503
        [outcome] = platform.run(day="2026-11-28", zip_codes=[ZIP])
    assert outcome.success
    lake = platform.defs.resources["lake"]
    assert lake.read("int_listings_matched", "2026-11-27", ZIP).height == 74
    assert lake.read("int_listings_matched", "2026-11-28", ZIP).height == 74  # not the 20 page 1 showed
    fetches = platform.warehouse.query("select partition, complete, cut_short from ops.source_fetches order by 1")
    assert fetches.rows() == [
        ("2026-11-27|85031", True, None),
        ("2026-11-28|85031", False, "search page 2 got HTTP 503: the crawl saw only part of the ZIP"),
    ]
