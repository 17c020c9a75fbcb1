"""Every way a source fails, one table: a partition run against the county's and the RESO feed's
contract servers on 127.0.0.1, each switched to one scenario. For each: the run's outcome
(pass, warn, fail), the records staged, the quarantine reasons, and the law — records offered =
staged + unchanged + out of scope + not found + quarantined + duplicates — for every source."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import polars as pl
import pytest
from listing_fixtures import sample_listings
from platform_harness import DAY, make_platform
from servers.maricopa import MALFORMED, TRUNCATE, MaricopaContractServer, delay, status
from servers.mls_html import MlsHtmlServer
from servers.reso import ResoContractServer

from phoenix_dagster.settings import SAMPLE_DIR
from phoenix_dagster.transforms.ledger import TERMS

pytestmark = pytest.mark.integration

ZIP = "85031"
TOKEN = "fault-token"


@dataclass(frozen=True)
class Scenario:
    outcome: str  # pass | warn | fail
    staged: dict[str, int | str]  # staging asset → rows staged (an int), or ">N"
    reasons: tuple[str, ...] = ()  # substrings each found among the quarantine reasons
    error: str = ""  # for a failed run: a substring of what it says
    env: dict = field(default_factory=dict)
    warns: tuple[str, ...] = ()  # the WARN checks that fail ("asset:check"), e.g. a quarantine rate


COUNTY = {  # assessor: the county's contract server; listings: the embedded sample
    "county parcel answers an error object": Scenario(
        "pass", {"stg_assessor__parcels": ">200"}, ("parcel reply has no APN (not a parcel)",)
    ),
    "county parcel reply cut off mid-body": Scenario(
        "pass", {"stg_assessor__parcels": ">200"}, ("invalid JSON (truncated or malformed)",)
    ),
    "county parcel 503 on every attempt": Scenario("pass", {"stg_assessor__parcels": ">200"}, ("HTTP 503 reply",)),
    "county search row is not a record": Scenario(
        "pass", {"stg_assessor__search_results": ">250"}, ("search row has no usable APN",)
    ),
    "county search page 503 on every attempt": Scenario(  # one at a time, so both attempts are page 2's
        "warn",
        {"stg_assessor__search_results": ">200"},
        ("HTTP 503 reply",),
        env={"MARICOPA_CONCURRENCY": "1"},
        warns=("raw_assessor_payloads:search_complete",),
    ),
    "county search page cut off mid-body": Scenario(
        "warn",
        {"stg_assessor__search_results": ">200"},
        ("invalid JSON",),
        env={"MARICOPA_CONCURRENCY": "1"},
        warns=("raw_assessor_payloads:search_complete",),
    ),
    # one hostile reply is quarantined with its reason, never a failed step (nor read as a refused token)
    "county parcel answers a deeply nested body": Scenario(
        "pass", {"stg_assessor__parcels": ">200"}, ("invalid JSON: nested deeper than 64 levels",)
    ),
    "county search page 1 answers a deeply nested body": Scenario(  # landed, quarantined, nothing more asked
        "fail",
        {"stg_assessor__search_results": 0},
        ("invalid JSON: nested deeper than 64 levels",),
        error="none of its 1 payload(s) could be read",
    ),
    "county search page 1 answers rows with a TOTAL that is not a number": Scenario(  # not the contract: the ZIP
        "fail",
        {"stg_assessor__search_results": 0},
        ("not a search page",),  # cannot be enumerated by it
        error="none of its 1 payload(s) could be read",
    ),
    "county preflight probe answers a deeply nested body": Scenario(  # the probe says degraded, the run goes on
        "warn", {"stg_assessor__parcels": ">200"}, warns=("raw_assessor_payloads:county_api_up",)
    ),
    "county search answers TOTAL 0": Scenario("fail", {}, error="answered TOTAL: 0 (no parcels)"),
    "county refuses the token": Scenario("fail", {}, error="MARICOPA_API_TOKEN"),
}
RESO = {  # assessor: the embedded sample; listings: the RESO feed's contract server
    "reso ok": Scenario("pass", {"stg_listings__listings": ">60"}),
    "reso no listings in the ZIP (value [])": Scenario("pass", {"stg_listings__listings": 0}),
    "reso remark contains the county's not-found text": Scenario("pass", {"stg_listings__listings": ">60"}),
    "reso page without value": Scenario(
        "fail", {"stg_listings__listings": 0}, ("not a page of records: no `value` array",), error="delivered nothing"
    ),
    "reso empty 200 body": Scenario(
        "fail", {"stg_listings__listings": 0}, ("empty body (HTTP 200)",), error="delivered nothing"
    ),
    "reso answers an HTML error page": Scenario(
        "fail", {"stg_listings__listings": 0}, ("invalid JSON",), error="delivered nothing"
    ),
    "reso wrong URL (404)": Scenario(  # the run's preflight probe finds it before any collection
        "fail", {"stg_listings__listings": 0}, (), error="reso misconfigured: 404 from /reso/odata/wrong/Property"
    ),
    "reso wrong URL (404), source optional": Scenario(
        "warn",
        {"stg_listings__listings": 0},
        ("HTTP 404 reply",),
        env={"PHOENIX_OPTIONAL_SOURCES": "reso"},
        warns=(
            "raw_listing_payloads__reso:reso_up",
            "stg_listings__listings:sources_delivered",
            "stg_listings__listings:quarantine_rate",
        ),
    ),
    "reso answers a deeply nested page": Scenario(
        "fail",
        {"stg_listings__listings": 0},
        ("invalid JSON: nested deeper than 64 levels",),
        error="delivered nothing",
    ),
    "reso odd records among good ones": Scenario(  # 2 of 75 quarantined: above the 2% quarantine rate
        "warn",
        {"stg_listings__listings": ">60"},
        ("ListPrice", "element 1 of `value` is a str, not a record"),
        warns=("stg_listings__listings:quarantine_rate",),
    ),
}
RESO_SCENARIO = {
    "reso ok": "ok",
    "reso no listings in the ZIP (value [])": "no_listings",
    "reso remark contains the county's not-found text": "marker_in_remarks",
    "reso page without value": "no_value",
    "reso empty 200 body": "empty_body",
    "reso answers an HTML error page": "html_error",
    "reso odd records among good ones": "odd_records",
    "reso answers a deeply nested page": "deeply_nested",
}
DEEPLY_NESTED = b"[" * 100_000 + b"]" * 100_000  # ~200 KB; RecursionError in Python's json


MLS = {  # assessor: the embedded sample; listings: the MLS site's server (10 listings, 4 a page)
    "mls ok": Scenario("pass", {"stg_listings__listings": 10}),
    "mls has no listings in the ZIP": Scenario("pass", {"stg_listings__listings": 0}),
    "mls search page 2 answers 500": Scenario(
        "warn",
        {"stg_listings__listings": 4},
        ("HTTP 500",),
        warns=("raw_listing_payloads__mls_html:quarantine_rate", "stg_listings__listings:quarantine_rate"),
    ),
    "mls layout changed": Scenario(
        "warn",
        {"stg_listings__listings": 0},
        ("selectors out of date",),
        warns=("raw_listing_payloads__mls_html:quarantine_rate",),
    ),
}


def mls_site(name: str) -> MlsHtmlServer:
    listings = sample_listings(ZIP)[:10]
    if name == "mls has no listings in the ZIP":
        listings = [{**row, "PostalCode": "85033"} for row in listings]
    site = MlsHtmlServer(listings, per_page=4)
    if name == "mls search page 2 answers 500":
        site.search_failures[2] = 500
    elif name == "mls layout changed":
        site.layout = "v2"
    return site


def county_server(name: str) -> MaricopaContractServer:
    server = MaricopaContractServer.from_sample(SAMPLE_DIR, token=TOKEN)
    apn = next(iter(r["APN"] for r in server.search_rows[ZIP])).replace("-", "")
    if name == "county parcel answers an error object":
        server.parcels[apn] = (200, b'{"Error": "Service temporarily unavailable"}')
    elif name == "county parcel reply cut off mid-body":
        server.fail(f"/parcel/{apn}", *[TRUNCATE] * 5, MALFORMED)
    elif name == "county parcel 503 on every attempt":
        server.fail(f"/parcel/{apn}", *[status(503, b"down")] * 10)
    elif name == "county search row is not a record":
        server.search_rows[ZIP] = ["not a record", *server.search_rows[ZIP]]
    elif name == "county search page 503 on every attempt":  # after the preflight's page 1 and the crawl's
        server.fail("/search/property/", delay(0), delay(0), *[status(503, b"down")] * 2)
    elif name == "county search page cut off mid-body":
        server.fail("/search/property/", delay(0), delay(0), MALFORMED)
    elif name == "county parcel answers a deeply nested body":
        server.parcels[apn] = (200, DEEPLY_NESTED)
    elif name == "county search page 1 answers a deeply nested body":  # after the preflight's page 1
        server.fail("/search/property/", delay(0), status(200, DEEPLY_NESTED))
    elif name == "county search page 1 answers rows with a TOTAL that is not a number":
        rows = server.search_rows[ZIP][:25]
        server.fail("/search/property/", delay(0), status(200, json.dumps({"TOTAL": "many", "Results": rows}).encode()))
    elif name == "county preflight probe answers a deeply nested body":
        server.fail("/search/property/", status(200, DEEPLY_NESTED))
    elif name == "county search answers TOTAL 0":
        server.search_rows[ZIP] = []
    elif name == "county refuses the token":
        server.token = "another-token"
    return server


def run_partition(tmp_path, env: dict):
    # Quarantine WARNs from 2% here (the default, 0, warns at any quarantined record): the table
    # says which faults cross a real threshold.
    platform = make_platform(
        tmp_path / "data",
        env={
            "MARICOPA_MAX_ATTEMPTS": "2",
            "MARICOPA_RATE_LIMIT_PER_HOUR": "1000000",
            "MARICOPA_CONCURRENCY": "4",
            "PHOENIX_QUARANTINE_WARN_RATE": "0.02",
            **env,
        },
    )
    [outcome] = platform.run(DAY, [ZIP], build=False)
    return platform, outcome


def judge(platform, outcome, scenario: Scenario) -> None:
    lake = platform.settings.lake_dir
    failed = _failed_checks(platform, outcome)  # (check, severity, description)
    if scenario.outcome == "fail":
        assert not outcome.ok, "expected a failed run"
        said = " ".join([outcome.error or "", *(description for _, _, description in failed)])
        assert scenario.error in said, said
    else:
        assert outcome.success and not [f for f in failed if f[1] != "WARN"], (outcome.error, failed)
        assert sorted(name for name, _, _ in failed) == sorted(scenario.warns), failed
    for asset, expected in scenario.staged.items():
        path = lake / asset / f"zip={ZIP}" / f"date={DAY}" / "data.parquet"
        rows = pl.read_parquet(path).height if path.exists() else 0
        assert rows > int(expected[1:]) if isinstance(expected, str) else rows == expected, (asset, rows)
    quarantine = platform.defs.resources["lake"].scan_bookkeeping("quarantine")
    reasons = quarantine.collect()["reason"].to_list() if quarantine is not None else []
    for wanted in scenario.reasons:
        assert any(wanted in reason for reason in reasons), (wanted, sorted(set(reasons))[:10])
    ledger = platform.defs.resources["lake"].scan_bookkeeping("record_ledger")
    if ledger is not None:  # the law, wherever staging ran
        entries = ledger.collect()
        assert entries.height and (entries["offered"] == entries.select(pl.sum_horizontal(*TERMS)).to_series()).all(), (
            entries.to_dicts()
        )
    elif scenario.outcome != "fail":
        pytest.fail("staging never ran")


NO_OLLAMA = "listing_text_facts:ollama_up"  # the harness has no model: every run WARNs it (test_service_health.py)


def _failed_checks(platform, outcome) -> list[tuple[str, str, str]]:
    """The run's failed check evaluations but the missing model's: (asset:check, severity, description)."""
    failed = []
    for record in platform.instance.get_records_for_run(outcome.run_id).records:
        event = record.event_log_entry.dagster_event
        if event is not None and event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if (
                not evaluation.passed
                and f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}" != NO_OLLAMA
            ):
                failed.append(
                    (
                        f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}",
                        evaluation.severity.value,
                        evaluation.description or "",
                    )
                )
    return failed


@pytest.mark.parametrize("name", sorted(COUNTY))
def test_county_faults(tmp_path, monkeypatch, name):
    monkeypatch.setenv("MARICOPA_API_TOKEN", TOKEN)  # secrets reach resources through EnvVar only
    with county_server(name) as server:
        platform, outcome = run_partition(
            tmp_path,
            {
                "PHOENIX_ASSESSOR_SOURCE": "maricopa",
                "MARICOPA_API_URL": server.url,
                "MARICOPA_API_TOKEN": TOKEN,
                **COUNTY[name].env,
            },
        )
    judge(platform, outcome, COUNTY[name])


@pytest.mark.parametrize("name", sorted(RESO))
def test_reso_faults(tmp_path, monkeypatch, name):
    monkeypatch.setenv("RESO_API_TOKEN", "reso-token")
    with ResoContractServer(sample_listings(ZIP)) as server:
        server.scenario = RESO_SCENARIO.get(name, "ok")
        url = server.url + ("/wrong" if "wrong URL" in name else "")
        platform, outcome = run_partition(
            tmp_path,
            {"PHOENIX_LISTING_SOURCE": "reso", "RESO_API_URL": url, "RESO_API_TOKEN": "reso-token", **RESO[name].env},
        )
    judge(platform, outcome, RESO[name])


@pytest.mark.parametrize("name", sorted(MLS))
def test_mls_faults(tmp_path, name):
    with mls_site(name) as site:
        platform, outcome = run_partition(
            tmp_path,
            {"PHOENIX_LISTING_SOURCE": "mls_html", "MLS_BASE_URL": site.url, "MLS_RATE_LIMIT_PER_MINUTE": "100000"},
        )
    judge(platform, outcome, MLS[name])


def test_a_wrong_shaped_reply_leaves_the_parcels_previous_version_its_latest(tmp_path, monkeypatch):
    """`"Geo": "33.5,-112.2"` read as a path is a silent null: the reply is quarantined instead, and
    the version staged the day before stays the parcel's latest (with its coordinates)."""
    monkeypatch.setenv("MARICOPA_API_TOKEN", TOKEN)
    with MaricopaContractServer.from_sample(SAMPLE_DIR, token=TOKEN) as server:
        apn = next(iter(r["APN"] for r in server.search_rows[ZIP])).replace("-", "")
        detail = json.loads(server.parcels[apn][1])
        platform = make_platform(
            tmp_path / "data",
            env={
                "PHOENIX_ASSESSOR_SOURCE": "maricopa",
                "MARICOPA_API_URL": server.url,
                "MARICOPA_API_TOKEN": TOKEN,
                "MARICOPA_RATE_LIMIT_PER_HOUR": "1000000",
                "MARICOPA_CONCURRENCY": "4",
            },
        )
        [first] = platform.run("2026-11-27", [ZIP], build=False)
        server.parcels[apn] = (200, json.dumps({**detail, "Geo": "33.5,-112.2", "LotSize": "1"}).encode())
        [second] = platform.run(DAY, [ZIP], full_refresh=True, build=False)
    assert first.ok and second.success, (first.error, second.error)
    lake = platform.defs.resources["lake"]
    latest = lake.read("int_assessor_parcels", DAY, ZIP).filter(pl.col("ParcelNumber") == apn)
    assert latest.height == 1 and latest["Latitude"].item() is not None
    assert latest["LotSizeSquareFeet"].item() != 1  # the day before's version, not the odd reply's
    rejected = pl.concat(
        [
            pl.read_parquet(path)
            for path in (platform.settings.lake_dir / "_bookkeeping" / "quarantine").rglob(
                f"date={DAY}/stg_assessor__parcels__*.parquet"
            )
        ]
    )
    reasons = rejected.filter(pl.col("record_key") == apn)["reason"].to_list()
    assert reasons and all("Geo is a string" in reason for reason in reasons), rejected["record_key"].to_list()
