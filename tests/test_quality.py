"""The quality rollup reports exactly the defects planted in its inputs."""

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from phoenix_dagster.monitoring.alerts import find_alerts
from phoenix_dagster.schemas import empty_frame
from phoenix_dagster.schemas.enriched import ListingTextFacts
from phoenix_dagster.schemas.intermediate import IntAssessorParcels, IntListingsMatched, IntPropertiesResolved
from phoenix_dagster.schemas.staging import StgAssessorSearchResults, StgListings
from phoenix_dagster.transforms.quality import QualityTargets, quality_rows, score

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
FETCHED = NOW - timedelta(hours=30)  # stale against the 24 h target


def frame(model, rows):
    empty = empty_frame(model)
    return pl.DataFrame([{**dict.fromkeys(empty.columns), **r} for r in rows], schema=empty.schema)


def parcel(i, **overrides):
    return {
        "property_id": f"apn:{i}",
        "ParcelNumber": str(i),
        "UnparsedAddress": f"{i} N 1ST AVE",
        "address_key": f"{i} N 1ST AVE",
        "PostalCode": "85031",
        "assessor_property_type": "RESIDENTIAL",
        "LotSizeSquareFeet": 6000.0,
        "LivingArea": 1200.0,
        "YearBuilt": 1960,
        "Latitude": 33.5,
        "Longitude": -112.2,
        "source": "sample",
        "assessor_records": 1,
        "seen_at": FETCHED,
        **overrides,
    }


def listing(i, **overrides):
    return {
        "source": "reso",
        "ListingKey": f"L{i}",
        "property_id": f"apn:{i}",
        "match_method": "apn",
        "ListPrice": 300000.0,
        "StandardStatus": "Active",
        "UnparsedAddress": f"{i} N 1st Ave",
        "PostalCode": "85031",
        "BedroomsTotal": 3,
        "BathroomsTotalInteger": 2,
        "LivingArea": 1200.0,
        "YearBuilt": 1960,
        "LotSizeSquareFeet": 6000.0,
        "listing_records": 1,
        "observed_date": date(2026, 11, 28),
        "fetched_at": FETCHED,
        "payload_sha256": "0" * 64,
        **overrides,
    }


def test_every_metric_counts_the_planted_defects():
    parcels = [parcel(i) for i in range(20)]
    parcels[0]["LivingArea"] = None  # 2 residential parcels missing a building fact …
    parcels[1]["YearBuilt"] = None
    parcels[2].update(assessor_property_type="VACANT LAND RESIDENTIAL", LivingArea=None, YearBuilt=None)  # … not this
    search = [
        {
            "ParcelNumber": p["ParcelNumber"],
            "source": "sample",
            "PostalCode": "85031",
            "search_page": 1,
            "fetched_at": FETCHED,
        }
        for p in parcels
    ] + [
        {"ParcelNumber": "3", "source": "sample", "PostalCode": "85031", "search_page": 2, "fetched_at": FETCHED}
    ]  # a repeated search row
    listings = [listing(i) for i in range(10)]
    listings[0]["BedroomsTotal"] = None  # incomplete
    listings[1]["LivingArea"] = 1500.0  # disagrees with the assessor's 1200 (beyond 5%)
    listings[2]["YearBuilt"] = 1961  # within a year: agrees
    listings[9]["property_id"] = "apn:8"  # two listings of one source on one house
    records = [dict(listing) for listing in listings] + [dict(listings[4])]  # the feed repeated a record
    properties = [
        {
            "property_id": f"apn:{i}",
            "address_key": f"{i} N 1ST AVE",
            "PostalCode": "85031",
            "UnparsedAddress": "x",
            "PropertyType": "Residential",
            "LivingArea": 1.0,
            "YearBuilt": 1960,
            "LotSizeSquareFeet": 1.0,
            "Latitude": 1.0,
            "Longitude": 1.0,
            "sources": [],
            "match_method": "apn",
            "records_merged": 1,
            "observed_date": date(2026, 11, 28),
            "observed_at": FETCHED,
        }
        for i in range(20)
    ]
    properties.append({**properties[5], "property_id": "adr:85031:5_N_1ST_AVE"})  # same house, two ids
    facts = [
        {"source": "reso", "ListingKey": f"L{i}", "method": m, "fallback_reason": r}
        for i, (m, r) in enumerate(
            [("llm", None)] * 6
            + [("cache", None)] * 2
            + [("rules", "reply does not match the facts schema (x)"), ("rules", "timed out")]
        )
    ]
    rows = quality_rows(
        day=date(2026, 11, 28),
        zip_code="85031",
        evaluated_at=NOW,
        search=frame(StgAssessorSearchResults, search),
        parcels=frame(IntAssessorParcels, parcels),
        listing_records=frame(
            StgListings, [{k: v for k, v in r.items() if k in StgListings.to_schema().columns} for r in records]
        ),
        listings=frame(IntListingsMatched, listings),
        properties=frame(IntPropertiesResolved, properties),
        facts=frame(ListingTextFacts, facts),
        quarantined={"listing:reso": 2},
        targets=QualityTargets(freshness_target_hours=24),
    )
    by = {r["source"]: r for r in rows.iter_rows(named=True)}
    assessor, reso, resolved = by["assessor:sample"], by["listing:reso"], by["resolved"]
    assert assessor["records"] == 20 and assessor["completeness"] == 0.9  # 18 of 20
    fields = {f["field"]: f["share"] for f in assessor["field_completeness"]}
    assert fields["LivingArea"] == 0.95 and fields["YearBuilt"] == 0.95 and fields["ParcelNumber"] == 1.0
    assert assessor["duplicates"] == 1 and assessor["duplicate_rate"] == round(1 / 21, 4)  # over 21 offered
    assert assessor["validity"] == 1.0
    assert assessor["freshness_hours"] == 30.0 and "freshness 30.0 h above fair 2 h" in assessor["issues"]
    assert reso["completeness"] == 0.9 and reso["validity"] == round(10 / 12, 4) and reso["quarantined"] == 2
    assert reso["duplicates"] == 2  # one repeated record, one second listing on a house
    # 10 area + 10 year + 10 lot comparisons, less 4 where the assessor has no value; one disagrees
    assert reso["agreement_checked"] == 26 and reso["agreement"] == round(25 / 26, 4)
    assert (reso["enriched_llm"], reso["enriched_cache"], reso["enriched_rules"]) == (0.6, 0.2, 0.2)
    assert reso["model_validation_rate"] == round(8 / 9, 4)  # the timeout never answered
    assert resolved["duplicates"] == 1 and resolved["records"] == 21


def test_the_overall_score_is_the_documented_weighted_mean():
    targets = QualityTargets(freshness_target_hours=24)
    metrics = {"completeness": 1.0, "validity": 1.0, "duplicate_rate": 0.0, "freshness_hours": 0.0, "agreement": None}
    assert score(metrics, targets) == (1.0, "EXCELLENT", [])
    metrics |= {"completeness": 0.5, "freshness_hours": 12.0}
    overall, status, issues = score(metrics, targets)
    assert overall == round((0.3 * 0.5 + 0.3 + 0.15 + 0.1 * 0.5) / 0.85, 4) and status == "FAIR"
    assert issues == ["completeness 0.500 below fair 0.85", "freshness 12.0 h above fair 2 h"]


def rows_for(*, parcels=(), listings=(), records=(), quarantined=None, expected=()):
    return {
        r["source"]: r
        for r in quality_rows(
            day=date(2026, 11, 28),
            zip_code="85031",
            evaluated_at=NOW,
            search=frame(StgAssessorSearchResults, []),
            parcels=frame(IntAssessorParcels, list(parcels)),
            listing_records=frame(
                StgListings, [{k: v for k, v in r.items() if k in StgListings.to_schema().columns} for r in records]
            ),
            listings=frame(IntListingsMatched, list(listings)),
            properties=frame(IntPropertiesResolved, []),
            facts=frame(ListingTextFacts, []),
            quarantined=quarantined or {},
            targets=QualityTargets(freshness_target_hours=24),
            expected=expected,
        ).iter_rows(named=True)
    }


def test_an_empty_partition_is_no_data_not_excellent():
    rows = rows_for(expected=("assessor:sample", "listing:sample"))
    assert set(rows) == {"assessor:sample", "listing:sample", "resolved"}  # expected sources get a row
    for row in rows.values():
        assert row["status"] == "NO_DATA" and row["overall_score"] is None and row["completeness"] is None
    assert find_alerts(
        day=date(2026, 11, 28),
        quality=pl.DataFrame(list(rows.values())),
        budget=pl.DataFrame(),
        failed_checks=[],
        freshness_target_hours=24,
    )[0].message.startswith("No data: assessor:sample")


def test_a_source_whose_every_record_was_quarantined_gets_a_row():
    rows = rows_for(quarantined={"listing:reso": 7})
    reso = rows["listing:reso"]
    assert reso["status"] == "NO_DATA" and reso["records"] == 0 and reso["quarantined"] == 7
    assert reso["validity"] == 0.0  # 0 of 7 offered passed


def test_rates_stay_within_zero_and_one_however_many_duplicates():
    kept = listing(1)
    rows = rows_for(listings=[kept], records=[dict(kept) for _ in range(10)])  # 9 repeats of one listing
    reso = rows["listing:reso"]
    assert reso["duplicates"] == 9 and reso["duplicate_rate"] == 0.9  # 9 of 10 offered
    assert 0 <= reso["overall_score"] <= 1
