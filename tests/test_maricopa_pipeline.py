"""The whole graph with PHOENIX_ASSESSOR_SOURCE=maricopa, against the contract server on 127.0.0.1."""

import json
from datetime import UTC, date

import dagster as dg
import polars as pl
import pytest
from platform_harness import make_platform
from servers.maricopa import RESET, TRUNCATE, MaricopaContractServer, status

from phoenix_dagster.resources.source_clients import SourcesResource
from phoenix_dagster.settings import SAMPLE_DIR
from phoenix_dagster.sources.maricopa import MaricopaResource
from phoenix_dagster.transforms.assessor import is_refresh_day

pytestmark = pytest.mark.integration

TOKEN = "mc-token-6f1e9a-do-not-leak"
ZIP = "85031"


@pytest.fixture
def county(monkeypatch):
    monkeypatch.setenv("MARICOPA_API_TOKEN", TOKEN)
    with MaricopaContractServer.from_sample(SAMPLE_DIR, token=TOKEN) as server:
        yield server


def platform_for(tmp_path, server, **maricopa):
    resource = MaricopaResource(
        url=server.url,
        token=dg.EnvVar("MARICOPA_API_TOKEN"),
        backoff_base_s=0.01,
        rate_limit_per_hour=maricopa.pop("rate_limit", 100_000),
        **maricopa,
    )
    return make_platform(
        tmp_path / "data",
        env={"PHOENIX_ASSESSOR_SOURCE": "maricopa"},
        sources=SourcesResource(assessor="maricopa", concurrency=4),
        assessor_source__maricopa=resource,
    )


def requests_by_endpoint(platform, partition):
    frame = platform.warehouse.query(
        "select endpoint, outcome, sum(requests)::bigint as n from ops.source_requests "
        "where partition = ? and source = 'maricopa' group by all",
        [partition],
    )
    return {(row["endpoint"], row["outcome"]): row["n"] for row in frame.iter_rows(named=True)}


def test_collects_the_county_and_fills_every_layer(tmp_path, county):
    platform = platform_for(tmp_path, county)
    [outcome] = platform.run(day="2026-11-27", zip_codes=[ZIP])
    assert outcome.success, outcome.error
    props = platform.warehouse.query("select * from marts.properties where PostalCode = ?", [ZIP])
    assert props.height == 255 and props.filter(pl.col("sources").list.contains("assessor:maricopa")).height == 253
    requests = requests_by_endpoint(platform, f"2026-11-27|{ZIP}")
    assert requests == {("search", "ok"): 12, ("parcel", "ok"): 252, ("parcel", "not_found"): 1}
    assert len(county.requests_to("/parcel/")) == 253
    materialization = platform.instance.get_latest_materialization_event(dg.AssetKey("raw_assessor_payloads"))
    metadata = materialization.asset_materialization.metadata
    assert metadata["requests"].value == 265 and metadata["parcels_collected"].value == 252
    assert metadata["requests_per_parcel"].value == pytest.approx(265 / 252, abs=1e-3)
    quarantine = platform.warehouse.query("select record_key, reason from ops.quarantine")
    assert quarantine.filter(pl.col("reason").str.starts_with("invalid JSON")).height == 1


def test_the_next_run_makes_only_the_incremental_requests(tmp_path, county):
    platform = platform_for(tmp_path, county)
    assert platform.run(day="2026-11-27", zip_codes=[ZIP])[0].success
    day_one = [r.path.rsplit("/", 1)[-1] for r in county.requests_to("/parcel/")]
    broken = platform.warehouse.query("select record_key from ops.quarantine where asset = 'stg_assessor__parcels'")
    broken_apn = broken["record_key"][0]
    county.parcels[broken_apn] = (200, json.dumps({"APN": broken_apn, "LotSize": "7000"}).encode())  # fixed upstream
    new_row = dict(county.search_rows[ZIP][0], APN="10399999", SitusAddress="5555 W NEW HOME DR")
    county.search_rows[ZIP].append(new_row)
    county.parcels["10399999"] = (200, json.dumps({"APN": "10399999", "LotSize": "6000"}).encode())
    before = len(county.requests_to("/parcel/"))
    assert platform.run(day="2026-11-28", zip_codes=[ZIP])[0].success
    day_two = [r.path.rsplit("/", 1)[-1] for r in county.requests_to("/parcel/")[before:]]
    # new, failed last time, and the parcels whose day of the 30-day refresh window it is (~1/30);
    # not the others, not the 404 (unless it is its day)
    on_their_day = {apn for apn in day_one if is_refresh_day(apn, date(2026, 11, 28), 30)} - {broken_apn}
    assert 0 < len(on_their_day) <= 255 * 2 / 30
    assert sorted(day_two) == sorted([broken_apn, "10399999", *on_their_day])
    props = platform.warehouse.query("select property_id, LotSizeSquareFeet from marts.properties")
    assert props.height == 256
    assert props.filter(pl.col("property_id") == f"apn:04013:{broken_apn}")["LotSizeSquareFeet"].to_list() == [7000]
    # parcels not re-fetched keep their details through the lake's history
    assert props.filter(pl.col("LotSizeSquareFeet").is_not_null()).height >= 252
    # a re-run of day two repeats exactly day two's requests and changes no fact; only the
    # sightings move, since the county really was asked again
    facts = "select * exclude (first_seen_at, last_seen_at) from marts.properties order by property_id"
    marts = platform.warehouse.query(facts)
    before = len(county.requests_to("/parcel/"))
    assert platform.run(day="2026-11-28", zip_codes=[ZIP])[0].success
    assert sorted(r.path.rsplit("/", 1)[-1] for r in county.requests_to("/parcel/")[before:]) == sorted(day_two)
    assert platform.warehouse.query(facts).equals(marts)


def test_a_refresh_that_got_no_reply_is_asked_again_the_next_day(tmp_path, county):
    """No reply (the connection reset on every attempt) leaves no raw row, only a quarantine row;
    the next day's plan reads it, so a parcel whose refresh failed that way does not wait a whole
    window on its earlier good fetch."""
    platform = platform_for(tmp_path, county, max_attempts=2)
    assert platform.run(day="2026-11-27", zip_codes=[ZIP], build=False)[0].success
    apn = next(
        a
        for a in county.parcels
        if county.parcels[a][0] == 200
        and is_refresh_day(a, date(2026, 11, 28), 30)
        and not any(is_refresh_day(a, date(2026, 11, d), 30) for d in (27, 29, 30))
    )
    county.fail(f"/parcel/{apn}", RESET, RESET)
    assert platform.run(day="2026-11-28", zip_codes=[ZIP], build=False)[0].success
    quarantined = platform.defs.resources["lake"].scan_bookkeeping("quarantine", day="2026-11-28").collect()
    assert quarantined.filter((pl.col("record_key") == apn) & (pl.col("asset") == "raw_assessor_payloads")).height == 1
    asked = []
    for day in ("2026-11-29", "2026-11-30"):
        before = len(county.requests_to("/parcel/"))
        assert platform.run(day=day, zip_codes=[ZIP], build=False)[0].success
        asked.append({r.path.rsplit("/", 1)[-1] for r in county.requests_to("/parcel/")[before:]})
    assert apn in asked[0] and apn not in asked[1]  # asked again once, then back on its own day


def test_a_first_day_whose_every_detail_got_no_reply_is_collected_the_next_day(tmp_path, county):
    """A new ZIP with the detail endpoint down on its first day: the history holds nothing but
    unanswered requests, and the next run asks for every detail again (reading that history
    does not fail, then or any day after)."""
    platform = platform_for(tmp_path, county, max_attempts=1)
    for apn in county.parcels:
        county.fail(f"/parcel/{apn}", RESET)
    assert platform.run(day="2026-11-27", zip_codes=[ZIP], build=False)[0].success
    day_one = {r.path.rsplit("/", 1)[-1] for r in county.requests_to("/parcel/")}
    answered = [apn for apn in day_one if county.parcels.get(apn, (404,))[0] == 200]
    assert (
        len(answered) > 200
        and not platform.defs.resources["lake"].read("stg_assessor__parcels", "2026-11-27", ZIP).height
    )
    before = len(county.requests_to("/parcel/"))
    assert platform.run(day="2026-11-28", zip_codes=[ZIP], build=False)[0].success
    asked = {r.path.rsplit("/", 1)[-1] for r in county.requests_to("/parcel/")[before:]}
    assert set(answered) <= asked
    staged = platform.defs.resources["lake"].read("stg_assessor__parcels", "2026-11-28", ZIP)
    assert staged.height >= len(answered) - 2  # less the sample's planted unreadable ones


def test_unchanged_payloads_make_no_new_version_and_a_full_refresh_fetches_all(tmp_path, county):
    platform = platform_for(tmp_path, county)
    platform.run(day="2026-11-27", zip_codes=[ZIP], build=False)  # the lake says it all: no builds
    before = len(county.requests_to("/parcel/"))
    assert platform.run(day="2026-11-28", zip_codes=[ZIP], full_refresh=True, build=False)[0].success
    assert len(county.requests_to("/parcel/")) - before == 253
    staged = platform.defs.resources["lake"].read("stg_assessor__parcels", "2026-11-28", ZIP)
    assert staged.height == 0  # every body is the same as on day one: no new versions
    raw = platform.defs.resources["lake"].read("raw_assessor_payloads", "2026-11-28", ZIP)
    assert raw.filter(pl.col("entity") == "parcel").height == 253  # though every one was landed


def test_a_refused_token_fails_the_run_with_a_clear_message(tmp_path, county, monkeypatch):
    monkeypatch.setenv("MARICOPA_API_TOKEN", "expired-token")
    platform = platform_for(tmp_path, county)
    [outcome] = platform.run(day="2026-11-28", zip_codes=[ZIP])
    assert not outcome.success
    assert "check MARICOPA_API_TOKEN" in outcome.error
    assert len(county.seen) == 1
    assert not (platform.settings.lake_dir / "raw_assessor_payloads").exists()


def test_the_token_never_reaches_logs_metadata_lake_or_warehouse(tmp_path, county, caplog, capfd, monkeypatch):
    platform = platform_for(tmp_path, county)
    caplog.set_level("DEBUG")
    apns = sorted(county.parcels)
    county.fail(f"/parcel/{apns[0]}", status(500), status(429, Retry_After="0"))  # retried …
    county.fail(f"/parcel/{apns[1]}", *[status(503)] * 6)  # … given up: quarantined
    county.fail(f"/parcel/{apns[2]}", TRUNCATE)
    [outcome] = platform.run(day="2026-11-28", zip_codes=[ZIP])
    assert outcome.success
    assert all(r.authorization == TOKEN for r in county.seen)  # it was sent …
    monkeypatch.setenv("MARICOPA_API_TOKEN", TOKEN + "-revoked")  # … and a refused one fails the next run
    [refused] = platform.run(day="2026-11-29", zip_codes=[ZIP], build=False)
    assert not refused.success and "check MARICOPA_API_TOKEN" in refused.error
    places = {
        "python logs": caplog.text,
        "stdout/stderr": "".join(capfd.readouterr()),
        "run failure": str(refused.error),
    }
    places["dagster events"] = "\n".join(
        repr(e) for run in (outcome.run_id, refused.run_id) for e in platform.instance.all_logs(run)
    )
    for path in platform.settings.lake_dir.rglob("*.parquet"):
        frame = pl.read_parquet(path)
        places[str(path)] = "\n".join(str(v) for column in frame.columns for v in frame[column].to_list())
    warehouse = platform.warehouse
    tables = warehouse.query(
        "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'"
    )
    for schema, table in tables.iter_rows():
        frame = warehouse.query(f"select * from {schema}.{table}")
        places[f"{schema}.{table}"] = "\n".join(str(row) for row in frame.iter_rows())
    places["warehouse file"] = platform.settings.warehouse_path.read_bytes().decode("latin-1")
    leaks = [name for name, text in places.items() if TOKEN in text]
    assert leaks == []  # … and kept nowhere
    assert len(places) >= 15  # logs, events, every lake file, every warehouse table, the file itself


@pytest.mark.parametrize(
    "reply", [b'{"Error": "Service temporarily unavailable"}', b'{"APN": "99999999", "LotSize": "1"}']
)  # every shape: test_staging
def test_a_reply_that_is_not_the_parcel_never_replaces_its_last_good_version(tmp_path, county, reply):
    platform = platform_for(tmp_path, county)
    assert platform.run(day="2026-11-26", zip_codes=[ZIP])[0].success
    good = platform.warehouse.query(
        "select property_id, LotSizeSquareFeet, YearBuilt from marts.properties "
        "where LotSizeSquareFeet is not null order by property_id limit 1"
    ).row(0)
    apn = good[0].removeprefix("apn:04013:")
    county.parcels[apn] = (200, reply)
    assert platform.run(day="2026-11-27", zip_codes=[ZIP], full_refresh=True)[0].success
    after = platform.warehouse.query(
        "select property_id, LotSizeSquareFeet, YearBuilt from marts.properties where property_id = ?", [good[0]]
    ).row(0)
    assert after == good  # the county's bad answer did not wipe the values
    reasons = platform.warehouse.query(
        "select reason from ops.quarantine where record_key = ? and partition = '2026-11-27|85031'", [apn]
    )["reason"].to_list()
    assert len(reasons) == 1 and reasons[0].startswith("parcel reply"), reasons
    before = len(county.requests_to("/parcel/"))
    platform.run(day="2026-11-28", zip_codes=[ZIP], build=False)  # incremental: the bad fetch is not a good one
    assert apn in [r.path.rsplit("/", 1)[-1] for r in county.requests_to("/parcel/")[before:]]


@pytest.mark.parametrize("decided", [1, 4])
def test_the_tuned_concurrency_is_what_the_collector_uses(tmp_path, county, decided):
    """A tuning decision changes behaviour: the next collection has that many requests in flight."""
    from datetime import datetime

    resource = MaricopaResource(
        url=county.url, token=dg.EnvVar("MARICOPA_API_TOKEN"), backoff_base_s=0.01, rate_limit_per_hour=100_000
    )
    platform = make_platform(
        tmp_path / "data",
        env={"PHOENIX_ASSESSOR_SOURCE": "maricopa"},
        sources=SourcesResource(assessor="maricopa"),
        assessor_source__maricopa=resource,
    )
    platform.defs.resources["control_state"].record_tuning(
        pl.DataFrame(
            [
                {
                    "decided_at": datetime.now(UTC),
                    "stage": "collection:assessor",
                    "run_id": "earlier",
                    "batch_size_old": None,
                    "batch_size_new": None,
                    "concurrency_old": 2,
                    "concurrency_new": decided,
                    "reason": "test",
                }
            ],
            schema_overrides={"batch_size_old": pl.Int64, "batch_size_new": pl.Int64},
        )
    )
    county.parcel_delay_s = 0.02
    [outcome] = platform.run(day="2026-11-27", zip_codes=[ZIP], build=False)
    assert outcome.success, outcome.error
    assert county.max_in_flight == decided
    metadata = platform.instance.get_latest_materialization_event(
        dg.AssetKey("raw_assessor_payloads")
    ).asset_materialization.metadata
    assert metadata["concurrency"].value == decided and metadata["tuning"].value == "tuning"


def _apn(path: str) -> str:
    return path.split("/")[2].replace("-", "").replace(".", "").replace(" ", "")


def test_a_zip_the_county_cannot_enumerate_fails_alone_and_is_rerun_alone(tmp_path, county):
    """One run of the county's partition for two ZIPs: the county answers TOTAL 0 for one of them
    (it cannot be enumerated); the other goes all the way, the zips_collected check names the one
    that failed with the command that re-runs it, and that command asks the county about it alone."""
    platform = platform_for(tmp_path, county)
    kept = county.search_rows.pop("85033")
    [outcome] = platform.run(day="2026-11-27", zip_codes=["85031", "85033"])
    assert outcome.success and outcome.checks_failed == ["raw_assessor_payloads:zips_collected"], outcome
    counts = platform.warehouse.query("select PostalCode, count(*) as n from marts.properties group by 1 order by 1")
    assert counts.rows() == [("85031", 255)]  # the county's other ZIP went on
    record = platform.instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("raw_assessor_payloads"), "zips_collected")]
    )
    evaluation = next(iter(record.values())).evaluation
    assert evaluation.description.startswith("2026-11-27|85033: assessor search for 85033 answered TOTAL: 0")
    assert evaluation.metadata["rerun"].value == "phoenix-estate run --date 2026-11-27 --zip 85033"
    assert evaluation.metadata["zips_checked"].value == "85031, 85033"

    county.search_rows["85033"] = kept  # the county's side is fixed
    asked_before = len(county.seen)
    [again] = platform.run(day="2026-11-27", zip_codes=["85033"])
    assert again.ok, again
    asked = [r.path for r in county.seen[asked_before:]]
    searched = {path.split("q=")[1].split("&")[0] for path in asked if path.startswith("/search/property")}
    of_85031 = {row["APN"].replace("-", "").replace(".", "").replace(" ", "") for row in county.search_rows["85031"]}
    assert searched == {"85033"} and not {_apn(p) for p in asked if p.startswith("/parcel/")} & of_85031
    counts = platform.warehouse.query("select PostalCode, count(*) as n from marts.properties group by 1 order by 1")
    assert [zip_code for zip_code, _ in counts.rows()] == ["85031", "85033"]
    run_log = platform.warehouse.query(
        "select partition, succeeded, error from ops.run_log where asset = 'raw_assessor_payloads' order by finished_at"
    )
    assert run_log.rows()[1][:2] == ("2026-11-27|85033", False) and "TOTAL: 0" in run_log.rows()[1][2]
    assert run_log.rows()[-1][:2] == ("2026-11-27|85033", True)


def test_a_re_execution_takes_what_its_parent_run_collected_instead_of_asking_the_county(tmp_path, county):
    """Dagster's "Re-execute" tags the new run with its parent and root: a ZIP the parent finished
    collecting is landed again from the lake as the new run's collection, not asked for."""
    from phoenix_dagster.cli.local_runs import QUIET_LOGS
    from phoenix_dagster.graph.partitions import partition_key, zip_tags

    platform = platform_for(tmp_path, county)
    [first] = platform.run(day="2026-11-27", zip_codes=[ZIP], build=False)
    assert first.ok, first
    asked = len(county.seen)
    again = platform.defs.resolve_job_def("daily_refresh").execute_in_process(
        partition_key=partition_key("2026-11-27", "04013"),
        instance=platform.instance,
        run_config=QUIET_LOGS,
        tags={**zip_tags([ZIP]), "dagster/parent_run_id": first.run_id, "dagster/root_run_id": first.run_id},
    )
    assert again.success
    after = [r.path for r in county.seen[asked:]]
    assert len(after) == 1 and after[0].startswith("/search/property/?q=85031")  # the preflight's probe, no more
    [materialization] = again.asset_materializations_for_node("raw_assessor_payloads")
    assert materialization.metadata["collection_taken_from_run"].value == first.run_id
    lake = platform.defs.resources["lake"]
    taken = lake.read("raw_assessor_payloads", "2026-11-27", ZIP, run_id=again.run_id)
    original = lake.read("raw_assessor_payloads", "2026-11-27", ZIP, run_id=first.run_id)
    assert lake.made_by("raw_assessor_payloads", "2026-11-27", ZIP, again.run_id)
    assert sorted(taken["sha256"]) == sorted(original["sha256"]) and taken.height == original.height > 250
