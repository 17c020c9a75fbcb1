"""The embedded sample's county side evolves by day (phoenix_dagster/sources/sample_evolution.py):
BASE_DAY replays the files byte for byte; later days record a few sales and valuation updates,
earlier days undo a few valuation updates; the same day always reads the same."""

import json
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import polars as pl
import pytest
from platform_harness import make_platform

from phoenix_dagster.settings import DEFAULT_RESIDENTIAL_TYPES, SAMPLE_DIR
from phoenix_dagster.sources.assessor_crawl import crawl_zip
from phoenix_dagster.sources.base import payloads_frame
from phoenix_dagster.sources.sample import SampleAssessorApi
from phoenix_dagster.sources.sample_evolution import BASE_DAY, SALE_TO_VALUE, evolve_parcel_body, parcel_changes
from phoenix_dagster.transforms.assessor import stage_parcels
from phoenix_dagster.transforms.payloads import decode_json_bodies

ZIPS = ("85031", "85033", "85035")
FILES = SAMPLE_DIR / "assessor"
SOLD, SOLD_ON, SOLD_ZIP = "10395119", date(2026, 12, 22), "85031"  # a sale the county records that day
REVALUED, REVALUED_ON = "10312122", date(2026, 11, 30)  # 85031: its 2026 value reviewed that day
EARLIER, EARLIER_ON = "10387058", date(2026, 11, 10)  # 85031: updated before BASE_DAY (history)


def api(day: date) -> SampleAssessorApi:
    return SampleAssessorApi(SAMPLE_DIR, datetime(day.year, day.month, day.day, 7, tzinfo=UTC))


def file_replies() -> dict[str, dict]:
    """APN → its recorded reply, for every ZIP."""
    replies = {}
    for zip_code in ZIPS:
        for line in (FILES / "parcels" / f"{zip_code}.jsonl").read_text().splitlines():
            reply = json.loads(line)
            replies[reply["path"].rsplit("/", 1)[1]] = reply
    return replies


def is_detail(reply: dict) -> bool:
    """A parcel detail that parses (not the 404, not the truncated reply): the ones that may evolve."""
    try:
        return reply["status"] == 200 and isinstance(json.loads(reply["body"]), dict)
    except ValueError:
        return False


def readable(zip_code: str) -> list[str]:
    lines = (FILES / "parcels" / f"{zip_code}.jsonl").read_text().splitlines()
    return [reply["path"].rsplit("/", 1)[1] for reply in map(json.loads, lines) if is_detail(reply)]


def replay(day: date) -> dict[str, bytes]:
    """Every search page and parcel reply of every ZIP as the sample serves them on `day`."""
    sample, bodies = api(day), {}
    for zip_code in ZIPS:
        for page in range(1, 13):
            bodies[f"q{zip_code}_page{page:03d}"] = sample.search_page(zip_code, page).body
    for apn in file_replies():
        bodies[apn] = sample.parcel(apn).body
    return bodies


def files() -> dict[str, bytes]:
    bodies = {path.stem: path.read_bytes() for path in (FILES / "search").glob("*.json")}
    return bodies | {apn: reply["body"].encode() for apn, reply in file_replies().items()}


def detail(day: date, apn: str) -> dict:
    return json.loads(api(day).parcel(apn).body)


def latest_value(body: dict) -> int:
    return int(max(body["Valuations"], key=lambda v: int(v["TaxYear"]))["FullCashValue"])


@pytest.mark.unit
def test_base_day_and_the_days_other_tests_pin_replay_the_files_byte_for_byte():
    recorded = files()
    assert len(recorded) == 36 + 739  # 12 search pages and every parcel reply per ZIP
    for day in (BASE_DAY, date(2026, 11, 26), date(2026, 11, 27), date(2026, 11, 29)):
        assert replay(day) == recorded, day


@pytest.mark.unit
def test_the_same_day_gives_the_same_bytes_and_other_days_differ():
    day = SOLD_ON + timedelta(days=30)
    first, second, recorded = replay(day), replay(day), files()
    assert first == second
    changed = sorted(key for key in recorded if first[key] != recorded[key])
    assert SOLD in changed and REVALUED in changed and "q85031_page005" in changed  # the sold parcel's page
    assert replay(EARLIER_ON - timedelta(days=1))[EARLIER] != recorded[EARLIER]


@pytest.mark.unit
def test_a_recorded_sale_changes_the_owner_block_and_the_search_row_and_nothing_else():
    before, after = detail(SOLD_ON - timedelta(days=1), SOLD), detail(SOLD_ON, SOLD)
    assert before == json.loads(file_replies()[SOLD]["body"])  # not yet recorded the day before
    assert {k for k in after if after[k] != before[k]} == {"Owner"}
    owner, old = after["Owner"], before["Owner"]
    assert set(owner) == set(old) and all(isinstance(v, str) for v in owner.values())  # the county's strings
    assert owner["Ownership"] != old["Ownership"] and owner["FullMailingAddress"] == old["FullMailingAddress"]
    assert owner["MostCurrentDeed"] != old["MostCurrentDeed"] and owner["DeedType"] in ("WD", "SW")
    price, value = int(owner["SalePrice"]), latest_value(after)
    assert SALE_TO_VALUE[0] * value - 500 <= price <= SALE_TO_VALUE[1] * value + 500 and price % 1000 == 0
    sold = datetime.strptime(owner["SaleDate"], "%m/%d/%Y").date()
    deed = datetime.strptime(owner["DeedDate"], "%m/%d/%Y").date()
    assert SOLD_ON - timedelta(days=21) <= sold <= deed <= SOLD_ON  # not in the future of the day
    rows = [
        row
        for page in range(1, 13)
        for row in json.loads(api(SOLD_ON).search_page(SOLD_ZIP, page).body)["Results"]
        if row["APN"] == SOLD
    ]
    assert [row["Ownership"] for row in rows] == [owner["Ownership"]]
    assert detail(SOLD_ON + timedelta(days=200), SOLD)["Owner"]["SaleDate"] == owner["SaleDate"]  # it stays


@pytest.mark.unit
def test_an_updated_valuation_changes_only_the_latest_tax_years_full_cash_value():
    before, after = detail(REVALUED_ON - timedelta(days=1), REVALUED), detail(REVALUED_ON, REVALUED)
    assert before == json.loads(file_replies()[REVALUED]["body"])
    assert {k for k in after if after[k] != before[k]} == {"Valuations"}
    old, new = before["Valuations"], after["Valuations"]
    assert [v["TaxYear"] for v in new] == [v["TaxYear"] for v in old] and new[1:] == old[1:]
    assert isinstance(new[0]["FullCashValue"], str) and new[0]["FullCashValue"] != old[0]["FullCashValue"]
    assert 0.88 <= int(new[0]["FullCashValue"]) / int(old[0]["FullCashValue"]) <= 1.06
    assert int(new[0]["LimitedPropertyValue"]) <= int(new[0]["FullCashValue"])
    # before BASE_DAY it is history: the file holds the value after the update, earlier days the one before
    earlier = detail(EARLIER_ON - timedelta(days=1), EARLIER)
    assert detail(EARLIER_ON, EARLIER) == json.loads(file_replies()[EARLIER]["body"])
    assert 0.94 <= latest_value(earlier) / latest_value(detail(EARLIER_ON, EARLIER)) <= 1.14


@pytest.mark.unit
def test_few_parcels_change_and_every_sale_is_sane():
    replies = file_replies()
    for zip_code in ZIPS:
        apns = readable(zip_code)
        month = {apn for apn in apns if parcel_changes(apn, BASE_DAY + timedelta(days=30))}
        history = {apn for apn in apns if parcel_changes(apn, BASE_DAY - timedelta(days=30))}
        assert 1 <= len(month) <= 0.03 * len(apns), (zip_code, len(month))
        assert len(history) <= 0.03 * len(apns), (zip_code, len(history))
    # a year on: every sale priced against the value the parcel had, dated before the day it shows
    year_on = BASE_DAY + timedelta(days=365)
    sales = 0
    for apn, reply in replies.items():
        if not is_detail(reply):
            continue
        for change in parcel_changes(apn, year_on):
            if change.kind == "sale":
                sales += 1
                shown = json.loads(evolve_parcel_body(reply["body"], change.day))
                price, value = int(shown["Owner"]["SalePrice"]), latest_value(shown)
                sold = datetime.strptime(shown["Owner"]["SaleDate"], "%m/%d/%Y").date()
                assert SALE_TO_VALUE[0] * value - 500 <= price <= SALE_TO_VALUE[1] * value + 500
                assert sold <= change.day and price % 1000 == 0
    assert 30 <= sales <= 200  # ~1% of 733 parcels in each of the year's 12 windows


@pytest.mark.unit
def test_staging_reads_a_recorded_sale():
    crawl = crawl_zip(api(SOLD_ON), SOLD_ZIP, tuple(DEFAULT_RESIDENTIAL_TYPES))
    decoded, _, _ = decode_json_bodies(payloads_frame(p for p in crawl.payloads if p.entity == "parcel"))
    staged, _ = stage_parcels(decoded)
    row = staged.filter(pl.col("ParcelNumber") == SOLD).row(0, named=True)
    owner = detail(SOLD_ON, SOLD)["Owner"]
    assert row["LastSalePrice"] == float(owner["SalePrice"])
    assert row["LastSaleDate"] == datetime.strptime(owner["SaleDate"], "%m/%d/%Y").date()
    assert row["OwnerType"] == ("company" if "LLC" in owner["Ownership"] else "individual")


@pytest.mark.integration
def test_a_revalued_parcel_reaches_the_lake_when_fetched_again(tmp_path):
    """Two sample days of one ZIP with MARICOPA_REFRESH_DAYS=1 (every parcel fetched again the
    next day; with the default 30 a backfill this short would not ask the county again). The lake
    only: the warehouse's staging.stg_lake__enriched_properties and marts.properties read these
    partitions as they are (a build would add ~20 s)."""
    platform = make_platform(tmp_path / "data", env={"MARICOPA_REFRESH_DAYS": "1"})
    first, second = BASE_DAY.isoformat(), REVALUED_ON.isoformat()
    for day in (first, second):
        assert platform.run(day=day, zip_codes=[SOLD_ZIP], build=False)[0].success
    old, new = latest_value(detail(BASE_DAY, REVALUED)), latest_value(detail(REVALUED_ON, REVALUED))
    assert old != new
    lake = platform.defs.resources["lake"]
    assert lake.read("raw_assessor_payloads", second, SOLD_ZIP).filter(pl.col("entity") == "parcel").height == 253
    versions = lake.read("stg_assessor__parcels", second, SOLD_ZIP)  # only what changed is a new version
    assert versions.select("ParcelNumber", "FullCashValue").rows() == [(REVALUED, float(new))]
    for day, value in ((first, old), (second, new)):
        enriched = lake.read("enriched_properties", day, SOLD_ZIP)
        assert enriched.filter(pl.col("property_id") == f"apn:04013:{REVALUED}")["FullCashValue"].to_list() == [
            float(value)
        ]
        assert enriched.height == 255


@pytest.mark.unit
def test_new_listings_come_on_the_market_after_base_day():
    from phoenix_dagster.sources.sample import SampleListingSource

    def page(zip_code: str, day: date) -> list[dict]:
        source = SampleListingSource(SAMPLE_DIR, datetime(day.year, day.month, day.day, 7, tzinfo=UTC))
        return json.loads(source.fetch(zip_code).payloads[0].body)["value"]

    base = page("85031", BASE_DAY)
    assert not [r for r in base if str(r.get("ListingKey", "")).startswith("SMPLN")]  # the file, as it is
    week, month = page("85031", BASE_DAY + timedelta(days=10)), page("85031", BASE_DAY + timedelta(days=30))
    new_in_week = [r for r in week if str(r.get("ListingKey", "")).startswith("SMPLN")]
    new_in_month = [r for r in month if str(r.get("ListingKey", "")).startswith("SMPLN")]
    assert 1 <= len(new_in_week) < len(new_in_month) <= 40, (len(new_in_week), len(new_in_month))
    assert {r["ListingKey"] for r in new_in_week} <= {r["ListingKey"] for r in new_in_month}  # they stay listed
    listed_apns = {str(r.get("ParcelNumber") or "").replace("-", "") for r in base if isinstance(r, dict)}
    for record in new_in_month:
        listed = date.fromisoformat(record["ListingContractDate"])
        assert BASE_DAY < listed <= BASE_DAY + timedelta(days=30) and record["StandardStatus"] == "Active"
        assert record["DaysOnMarket"] == (BASE_DAY + timedelta(days=30) - listed).days
        assert record["ListingKey"].removeprefix("SMPLN") not in listed_apns  # a parcel not listed already
        assert record["ListPrice"] > 0 and record["PostalCode"] == "85031"
    assert page("85031", BASE_DAY + timedelta(days=10)) == week  # the same day reads the same


@pytest.mark.integration
def test_the_burst_day_warns_and_a_repeated_bad_reply_does_not(tmp_path):
    """PHOENIX_QUARANTINE_WARN_RATE is 2%: the sample's one bad listing a page (1.3%) and its
    truncated parcel reply (asked again every day, the same bytes) pass; the feed's burst of
    unknown statuses in BURST_ZIP on BURST_DAY warns, for that ZIP and day only."""
    from phoenix_dagster.sources.sample_evolution import BURST_DAY, BURST_ZIP

    platform = make_platform(tmp_path / "data")
    before, burst = platform.run(
        day=(BURST_DAY - timedelta(days=1)).isoformat(), zip_codes=[BURST_ZIP], build=False
    ) + platform.run(day=BURST_DAY.isoformat(), zip_codes=[BURST_ZIP], build=False)
    assert before.success and burst.success
    assert [w for w in before.checks_warned if "quarantine_rate" in w] == []
    assert [w for w in burst.checks_warned if "quarantine_rate" in w] == ["stg_listings__listings:quarantine_rate"]
    parcels = platform.instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("stg_assessor__parcels"), "quarantine_rate")]
    )
    metadata = next(iter(parcels.values())).evaluation.metadata
    assert metadata["quarantined"].value == 1 and metadata["repeated"].value == 1  # the truncated reply, again
