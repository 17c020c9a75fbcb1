"""The whole graph materialized into a temporary directory, as `make demo` runs it."""

import json
import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from platform_harness import DAY, ZIPS, make_platform, sample_from

from phoenix_dagster.documents.properties import COLLECTION
from phoenix_dagster.settings import SAMPLE_DIR

pytestmark = pytest.mark.integration


def test_every_layer_is_filled_for_every_zip(sample_run):
    wh = sample_run.warehouse
    per_zip = dict(wh.query("select PostalCode, count(*) as n from marts.properties group by 1").iter_rows())
    assert set(per_zip) == set(ZIPS) and all(n > 200 for n in per_zip.values())
    stats = wh.query("select * from marts.zip_market_stats order by PostalCode")
    assert stats["PostalCode"].to_list() == ZIPS and stats["date"].cast(pl.String).to_list() == [DAY] * 3
    assert (stats["active_listings"] > 0).all() and (stats["median_list_price"] > 100_000).all()
    lake = sample_run.settings.lake_dir
    for asset in (
        "raw_assessor_payloads",
        "raw_listing_payloads__sample",
        "stg_assessor__parcels",
        "enriched_properties",
    ):
        written = "runs/*/_collected.parquet" if asset.startswith("raw_") else "data.parquet"  # raw: per run
        assert sorted(p.relative_to(lake / asset).parts[0] for p in lake.glob(f"{asset}/*/date={DAY}/{written}")) == [
            f"zip={z}" for z in ZIPS
        ]
    logged = wh.query("select asset, count(*) as n from ops.run_log group by 1")
    assert dict(logged.iter_rows())["int_properties_resolved"] == 3


def test_one_property_per_house_whichever_sources_saw_it(sample_run):
    props = sample_run.warehouse.query("select * from marts.properties")
    assert props["property_id"].n_unique() == props.height
    methods = dict(props.group_by("match_method").len().iter_rows())
    assert methods["apn"] > 0 and methods["address"] > 0 and methods["unmatched_listing"] == 6
    both = props.filter(pl.col("sources").list.len() == 2)
    assert both.height == methods["apn"] + methods["address"]
    assert (
        props.filter(pl.col("match_method") == "unmatched_listing")["property_id"].str.starts_with("adr:04013:")
    ).all()


def test_the_countys_last_recorded_sale_reaches_the_mart(sample_run):
    """LastSalePrice and LastSaleDate, staged from each parcel's detail (Owner.SalePrice and
    Owner.SaleDate), are carried to marts.properties for the parcel's property."""
    staged = pl.concat([sample_run.defs.resources["lake"].read("stg_assessor__parcels", DAY, z) for z in ZIPS])
    staged = staged.select(
        pl.format("apn:04013:{}", "ParcelNumber").alias("property_id"), "LastSalePrice", "LastSaleDate"
    )
    mart = sample_run.warehouse.query(
        "select property_id, LastSalePrice, LastSaleDate from marts.properties where property_id like 'apn:%'"
    )
    assert staged.filter(pl.col("LastSalePrice").is_not_null()).height > 100  # the sample records sales
    joined = staged.join(mart, on="property_id", how="inner", suffix="_mart")
    assert joined.height == staged.height
    assert joined.filter(
        (pl.col("LastSalePrice").ne_missing(pl.col("LastSalePrice_mart")))
        | (pl.col("LastSaleDate").ne_missing(pl.col("LastSaleDate_mart")))
    ).is_empty()


def test_the_staged_resolver_keeps_every_match_the_sample_had(sample_run):
    """tests/snapshots/sample_listing_matches.json: the sample's listings as the APN-or-exact-
    address resolver matched them before the staged one replaced it (captured from that version)."""
    before = pl.DataFrame(json.loads((Path(__file__).parent / "snapshots" / "sample_listing_matches.json").read_text()))
    now = sample_run.warehouse.query(
        "select source, ListingKey, property_id, match_method from staging.stg_lake__listings_matched"
    )
    kept = before.filter(pl.col("match_method") != "unmatched_listing").join(
        now, on=["source", "ListingKey"], how="left", suffix="_now"
    )
    assert kept.height > 200
    assert kept.filter(
        (pl.col("property_id") != pl.col("property_id_now")) | (pl.col("match_method") != pl.col("match_method_now"))
    ).is_empty()


def test_a_corrected_match_moves_the_listing_history_and_leaves_no_orphan(platform, monkeypatch):
    """Day 1 runs with a resolver that only knows APNs (every other listing becomes a property of
    its own), day 2 with the real one: the listings' events move to their parcels, and the
    properties the misses made leave the mart and MongoDB."""
    from phoenix_dagster.transforms import resolve as resolve_module

    real = resolve_module.match_addresses

    def apn_only(listings, rows, kept):
        matched = real(listings, rows, kept)
        missed = pl.col("match_method") != "apn"
        return matched.with_columns(
            pl.when(missed).then(pl.lit("unmatched_listing")).otherwise("match_method").alias("match_method"),
            *(pl.when(~missed).then(pl.col(c)).alias(c) for c in ("matched_parcel", "match_confidence")),
        )

    monkeypatch.setattr(resolve_module, "match_addresses", apn_only)
    assert all(o.success for o in platform.run(day="2026-11-27", zip_codes=["85031"]))
    wrong = platform.warehouse.query(
        "select property_id, ListingId from marts.properties where match_method = 'unmatched_listing'"
    )
    docs = platform.mongo.db()[COLLECTION]
    assert (
        wrong.height > 20
        and docs.count_documents({"property_id": {"$in": wrong["property_id"].to_list()}}) == wrong.height
    )

    monkeypatch.setattr(resolve_module, "match_addresses", real)
    assert all(o.success for o in platform.run(day=DAY, zip_codes=["85031"]))
    assert platform.builds[-1].ok
    props = platform.warehouse.query("select property_id, ListingId, match_method from marts.properties")
    still_own = props.filter(pl.col("match_method") == "unmatched_listing")
    assert still_own.height == 2  # the sample's two listings for addresses the county never saw
    assert props["property_id"].n_unique() == props.height
    moved = wrong.join(props, on="ListingId", suffix="_now").filter(pl.col("property_id_now").str.starts_with("apn:"))
    assert moved.height == wrong.height - 2
    events = platform.warehouse.query("select * from marts.listing_events")
    gone = set(wrong["property_id"]) - set(still_own["property_id"])
    assert not set(events["property_id"]) & gone  # day 1's 'listed' events moved to the parcels
    history = events.join(moved.select("ListingId", "property_id_now"), on="ListingId")
    assert history["ListingId"].n_unique() == moved.height  # every moved listing has its events …
    assert (history["property_id"] == history["property_id_now"]).all()  # … under its parcel
    served = {d["property_id"] for d in docs.find({}, {"property_id": 1})}
    assert served == set(props["property_id"]) and not served & gone  # no orphan document


def test_malformed_records_are_quarantined_and_the_rest_flows_on(sample_run):
    quarantine = sample_run.warehouse.query("select * from ops.quarantine order by partition, asset")
    by_asset = dict(quarantine.group_by("asset").len().iter_rows())
    assert by_asset == {"stg_assessor__parcels": 3, "stg_listings__listings": 3}
    truncated = quarantine.filter(pl.col("asset") == "stg_assessor__parcels").row(0, named=True)
    assert truncated["reason"].startswith("invalid JSON (truncated or malformed)")
    assert truncated["partition"] == f"{DAY}|85031" and truncated["raw_record"] is None  # not JSON: raw layer only
    assert truncated["raw_bytes"] > 0 and len(truncated["payload_sha256"]) == 64  # its length, and where it is
    listing = quarantine.filter(pl.col("asset") == "stg_listings__listings").row(0, named=True)
    assert listing["reason"] == "listing has no ListingKey; ListPrice 'Call for price' is not a valid number"
    assert json.loads(listing["raw_record"])["ListPrice"] == "Call for price"
    counts = sample_run.warehouse.query("select * from ops.partition_counts order by PostalCode")
    assert counts["quarantined"].to_list() == [2, 2, 2]
    served = sample_run.warehouse.query("select PostalCode, documents from ops.served_documents order by PostalCode")
    assert served["documents"].to_list() == counts["properties"].to_list()


def test_mongodb_holds_the_mart(sample_run):
    collection = sample_run.mongo.db()[COLLECTION]
    marts = sample_run.warehouse.query("select property_id, ListPrice from marts.properties")
    assert collection.count_documents({}) == marts.height
    prices = sample_run.warehouse.query(
        "select property_id, list(cast(new_value as double) order by observed_at) as prices from marts.listing_events "
        "where event in ('listed', 'price_change') group by 1 order by 1"
    )
    assert prices.height > 10
    for property_id, history in prices.head(10).iter_rows():  # price history from the listing events
        doc = collection.find_one({"property_id": property_id})
        assert [h["ListPrice"] for h in doc["price_history"]] == history
        assert doc["ListPrice"] == marts.filter(pl.col("property_id") == property_id)["ListPrice"][0]
    located = collection.find_one({"location": {"$ne": None}})
    assert located["location"]["coordinates"] == [located["Longitude"], located["Latitude"]]


def _state(platform):
    wh = platform.warehouse
    docs = sorted((dict(d, _id=None) for d in platform.mongo.db()[COLLECTION].find()), key=lambda d: d["property_id"])
    return {
        "properties": wh.query("select * from marts.properties order by property_id"),
        "stats": wh.query("select * from marts.zip_market_stats order by all"),
        "quarantine": wh.query("select source, asset, partition, record_key, reason from ops.quarantine order by all"),
        "counts": wh.query("select * exclude (run_id, recorded_at) from ops.partition_counts order by all"),
        "lake": sorted(
            str(p.relative_to(platform.settings.lake_dir))
            for p in platform.settings.lake_dir.rglob("*")
            if not p.is_relative_to(platform.settings.lake_dir / "_bookkeeping") and "runs" not in p.parts
        ),
        "raw_runs": len(list(platform.settings.lake_dir.glob("raw_*/*/*/runs/*/_collected.parquet"))),
        "runs": platform.warehouse.query("select asset, count(*) as n from ops.run_log group by 1 order by 1"),
        "docs": docs,
    }


def test_rerunning_a_partition_changes_nothing(platform):
    assert all(o.success for o in platform.run(zip_codes=["85031"]))
    first = _state(platform)
    assert all(o.success for o in platform.run(zip_codes=["85031"]))
    second = _state(platform)
    for name in ("properties", "stats", "quarantine", "counts"):
        assert first[name].equals(second[name]), name
    assert first["lake"] == second["lake"]  # each asset's output replaced, not added to…
    assert second["raw_runs"] == 2 * first["raw_runs"] == 4  # …but the raw layer's: each run's collection kept
    assert first["docs"] == second["docs"]
    assert (second["runs"]["n"] == 2 * first["runs"]["n"]).all()  # the bookkeeping keeps both runs' logs


def test_a_later_day_moves_last_seen_and_keeps_first_seen(platform):
    """Two days' partitions, then the build the daemon's sensor requests after them: one build over
    both days, rewriting each day's report."""
    from phoenix_dagster.cli.local_runs import tick_sensor

    platform.run(day="2026-11-27", zip_codes=["85031"], build=False)
    platform.run(day="2026-11-28", zip_codes=["85031"], build=False)
    _, builds = tick_sensor(platform.jobs, "warehouse_after_partitions")
    assert [b.success for b in builds] == [True]
    reports = platform.settings.reports_dir
    assert (reports / "2026-11-27.html").exists() and (reports / "2026-11-28.html").exists()
    props = platform.warehouse.query("select first_seen_at, last_seen_at from marts.properties")
    assert props["first_seen_at"].dt.date().unique().to_list() == [date(2026, 11, 27)]
    assert props["last_seen_at"].dt.date().unique().to_list() == [date(2026, 11, 28)]
    days = platform.warehouse.query("select count(*) as n from marts.zip_market_stats")["n"][0]
    assert days == 2


def test_a_failing_blocking_check_stops_what_depends_on_it(tmp_path):
    sample = tmp_path / "sample"
    shutil.copytree(SAMPLE_DIR, sample)
    page_path = sample / "listings" / "85031.json"
    page = json.loads(page_path.read_text())
    page["value"][0]["Latitude"] = 45.0  # far outside Maricopa County
    page_path.write_text(json.dumps(page))
    platform = make_platform(tmp_path / "data", **sample_from(sample))
    [outcome] = platform.run(zip_codes=["85031"])
    assert not outcome.success
    assert outcome.checks_failed == ["stg_listings__listings:matches_schema"]
    assert not (platform.settings.lake_dir / "int_properties_resolved").exists()
    evaluation = platform.instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("stg_listings__listings"), "matches_schema")]
    )
    assert evaluation  # recorded where the UI shows it


def test_quality_cost_and_the_daily_report_come_from_the_run(sample_run):
    wh = sample_run.warehouse
    quality = wh.query("select * from ops.quality_daily")
    assert set(quality["source"]) == {"assessor:sample", "listing:sample", "resolved"} and quality.height == 9
    listing = quality.filter((pl.col("source") == "listing:sample") & (pl.col("PostalCode") == "85031")).row(
        0, named=True
    )
    assert listing["quarantined"] == 1 and listing["validity"] == round(74 / 75, 4)  # 74 listings, 1 keyless record
    assert listing["enriched_rules"] == 1.0 and listing["agreement"] is not None
    resolved = quality.filter(pl.col("source") == "resolved")
    assert resolved["text_disagreements"].is_not_null().all()  # counted from enriched_properties
    budget = wh.query("select * from ops.budget_status").row(0, named=True)
    events = wh.query(
        "select sum(cost_usd) as usd from ops.cost_events where strftime(date, '%Y-%m') = ?", [budget["month"]]
    )["usd"][0]
    assert budget["month_to_date_usd"] == pytest.approx(events) and budget["level"] == "OK"
    assert budget["properties_collected"] == wh.query("select count(*) as n from marts.properties")["n"][0]
    report = sample_run.mongo.db().daily_reports.find_one({"date": DAY})
    assert sorted(report["zips"]) == ZIPS and sample_run.mongo.db().daily_reports.count_documents({}) == 1
    assert report["zips"]["85031"]["records_by_source"]["resolved"] == 255
    assert report["zips"]["85031"]["errors"][0]["records"] >= 1 and report["budget"]["level"] == "OK"


def test_a_warehouse_from_an_older_version_is_rebuilt_not_patched(platform):
    import duckdb

    platform.settings.data_dir.mkdir(parents=True)
    with duckdb.connect(str(platform.settings.warehouse_build_path)) as conn:  # as the previous shape left it
        conn.execute("create schema ops")
        conn.execute("create table ops.partition_counts as select 1 as served, 'x' as PostalCode")
        conn.execute("create table ops.cost_ledger_legacy as select 1 as n")
    platform.run(zip_codes=["85031"])
    assert platform.builds[-1].ok, platform.builds[-1].checks_failed
    columns = platform.warehouse.query(
        "select column_name from information_schema.columns "
        "where table_schema = 'ops' and table_name = 'partition_counts'"
    )
    assert "served" not in columns["column_name"].to_list() and "parcels_collected" in columns["column_name"].to_list()
    tables = platform.warehouse.query("select table_name from information_schema.tables where table_schema = 'ops'")
    assert "cost_ledger_legacy" not in tables["table_name"].to_list() and "partition_counts" in tables["table_name"]


def test_a_mongodb_outage_still_publishes_the_warehouse_and_says_so(tmp_path):
    from phoenix_dagster.resources.mongo import MongoResource

    down = MongoResource(
        uri="mongodb://127.0.0.1:9/",
        database="phoenix_test",
        server_selection_timeout_ms=200,
        export_dir=str(tmp_path / "fallback"),
    )
    platform = make_platform(tmp_path / "data", mongo=down)
    [outcome] = platform.run(zip_codes=["85031"])
    build = platform.builds[-1]
    assert outcome.ok and build.success  # the warehouse is built and published …
    assert build.ok and not build.checks_failed  # … the MongoDB outage is a WARN on serving, not a failed build
    assert sorted(build.checks_warned) == [
        "daily_report:documents_served",
        "mongo_properties:documents_match_the_mart",
        "mongo_properties:documents_served",
        "mongo_properties:mongodb_up",
    ]
    mongodb_up = next(e for e in build_evaluations(platform, build) if e.check_name == "mongodb_up")
    assert mongodb_up.description.startswith("mongodb down: no answer from MongoDB at 127.0.0.1:9")
    served = next(
        e
        for e in build_evaluations(platform, build)
        if e.check_name == "documents_served" and e.asset_key == dg.AssetKey("mongo_properties")
    )
    assert "served to the export" in served.metadata["error"].value  # pinged first, then the export instead
    assert len((tmp_path / "fallback" / "properties.jsonl").read_text().splitlines()) == 255
    assert (tmp_path / "fallback" / "daily_reports.jsonl").stat().st_size > 0
    assert platform.warehouse.query("select count(*) as n from marts.properties")["n"][0] == 255
    log = platform.warehouse.query("select rows_in, rows_out from ops.run_log where asset = 'mongo_properties'")
    assert log.rows() == [(255, 0)]
    assert platform.warehouse.query("select store from ops.storage_usage order by store")["store"].to_list() == [
        "lake",
        "warehouse",
    ]  # MongoDB's size could not be measured


def test_a_body_that_raises_still_records_what_it_did(tmp_path, monkeypatch):
    import assets.enriched

    def broken(*args, **kwargs):
        raise RuntimeError("enrichment bug")

    platform = make_platform(tmp_path / "data")
    monkeypatch.setattr(assets.enriched, "enrich_properties", broken)
    [outcome] = platform.run(zip_codes=["85031"], build=False)
    assert not outcome.success and "enrichment bug" in outcome.error
    log = platform.defs.resources["lake"].scan_bookkeeping("run_log").collect()
    failed = log.filter(pl.col("asset") == "enriched_properties")
    assert failed["succeeded"].to_list() == [False] and failed["run_id"].to_list() == [outcome.run_id]


def test_every_record_is_accounted_for_and_a_silent_loss_stops_the_partition(tmp_path, monkeypatch):
    sample = tmp_path / "sample"
    shutil.copytree(SAMPLE_DIR, sample)
    page_path = sample / "assessor" / "search" / "q85031_page002.json"
    page = json.loads(page_path.read_text())
    page["Results"].insert(3, None)  # a null among the rows: quarantined, the rest staged
    page_path.write_text(json.dumps(page))
    platform = make_platform(tmp_path / "ok", **sample_from(sample))
    [outcome] = platform.run(zip_codes=["85031"])
    assert outcome.ok, (outcome.error, outcome.checks_failed)
    ledger = platform.warehouse.query(
        "select * exclude (run_id, recorded_at, partition) from ops.record_ledger order by asset"
    )
    terms = ["staged", "unchanged", "out_of_scope", "not_found", "quarantined", "duplicates"]
    assert (ledger["offered"] == ledger.select(pl.sum_horizontal(terms).alias("sum"))["sum"]).all()
    search = ledger.filter(pl.col("asset") == "stg_assessor__search_results").row(0, named=True)
    assert (search["offered"], search["out_of_scope"], search["duplicates"], search["quarantined"]) == (301, 46, 1, 1)
    # A transform that loses a record without a word (simulated here) breaks the sum:
    import assets.staging
    from phoenix_dagster.transforms.assessor import stage_search_results

    def lossy(pages):
        staged, rejected = stage_search_results(pages)
        return staged.slice(1), rejected

    monkeypatch.setattr(assets.staging, "stage_search_results", lossy)
    broken = make_platform(tmp_path / "broken", **sample_from(sample))
    [outcome] = broken.run(zip_codes=["85031"], build=False)
    assert not outcome.success  # the blocking check stops the partition
    assert outcome.checks_failed == ["stg_assessor__search_results:records_accounted_for"]
    record = broken.instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("stg_assessor__search_results"), "records_accounted_for")]
    )
    evaluation = next(iter(record.values())).evaluation
    assert evaluation.description == "2026-11-28|85031: records unaccounted for: sample +1"


def build_evaluations(platform, build) -> list:
    return [
        entry.dagster_event.event_specific_data
        for entry in platform.instance.all_logs(build.run_id)
        if entry.is_dagster_event and entry.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
