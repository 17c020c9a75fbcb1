from datetime import UTC, date, datetime

import polars as pl
import pytest

from phoenix_dagster.schemas import empty_frame
from phoenix_dagster.schemas.intermediate import IntAssessorParcels, IntListingsMatched, IntPropertiesResolved
from phoenix_dagster.schemas.staging import StgAssessorParcels, StgAssessorSearchResults, StgListings
from phoenix_dagster.settings import DEFAULT_RESIDENTIAL_TYPES
from phoenix_dagster.transforms.resolve import assessor_parcels, match_listings, resolve_properties

pytestmark = pytest.mark.unit

T = datetime(2026, 11, 28, 7, tzinfo=UTC)


def frame(model, rows: list[dict]) -> pl.DataFrame:
    empty = empty_frame(model)
    defaults = {"source": "sample", "fetched_at": T, "payload_sha256": "0" * 64, "search_page": 1}
    full = [
        {**dict.fromkeys(empty.columns), **{k: v for k, v in defaults.items() if k in empty.columns}, **r} for r in rows
    ]
    return pl.DataFrame(full, schema=empty.schema)


def search(*rows):
    return frame(
        StgAssessorSearchResults,
        [
            dict(ParcelNumber=a, UnparsedAddress=addr, City="PHOENIX", PostalCode=z, assessor_property_type=t)
            for a, addr, z, t in rows
        ],
    )


def resolve(search_rows, parcel_versions, listings):
    day = date(2026, 11, 28)
    parcels = assessor_parcels(search_rows, parcel_versions, "85031", DEFAULT_RESIDENTIAL_TYPES, county_fips="04013")
    IntAssessorParcels.validate(parcels)
    matched = match_listings(listings, parcels, search_rows, zip_code="85031", county_fips="04013", observed_date=day)
    IntListingsMatched.validate(matched)
    return resolve_properties(parcels, matched, zip_code="85031", county_fips="04013", observed_date=day)


def test_one_house_seen_by_two_sources_is_one_property():
    s = search(
        ("10306005", "4027 N 55TH AVE", "85031", "RESIDENTIAL"),
        ("10306005", "4027 N 55TH AVE", "85031", "RESIDENTIAL"),  # paging repeat
        ("10306014", "4004 N 55TH AVE", "85031", "RESIDENTIAL"),
        ("10306099", "1 N 1ST AVE", "85031", "COMMERCIAL"),
        ("10300001", "9 N 9TH AVE", "85037", "RESIDENTIAL"),
    )
    p = frame(
        StgAssessorParcels,
        [
            dict(
                ParcelNumber="10306005",
                LivingArea=1204.0,
                YearBuilt=1958,
                LotSizeSquareFeet=6534.0,
                PoolArea=420.0,
                Latitude=33.49,
                Longitude=-112.17,
            )
        ],
    )
    listings = frame(
        StgListings,
        [
            dict(
                ListingKey="A",
                PostalCode="85031",
                ParcelNumber="10306005",
                ListPrice=316000.0,
                LivingArea=1300.0,
                BedroomsTotal=3,
                StandardStatus="Active",
                UnparsedAddress="4027 North 55th Avenue",
            ),
            dict(
                ListingKey="B",
                PostalCode="85031",
                UnparsedAddress="4004 North 55th Avenue",
                ListPrice=280000.0,
                StandardStatus="Pending",
            ),
            dict(ListingKey="C", PostalCode="85031", UnparsedAddress="8400 W New Construction Way", ListPrice=450000.0),
        ],
    )
    out = resolve(s, p, listings)
    IntPropertiesResolved.validate(out)
    rows = {r["property_id"]: r for r in out.iter_rows(named=True)}
    assert set(rows) == {"apn:04013:10306005", "apn:04013:10306014", "adr:04013:85031:8400_W_NEW_CONSTRUCTION_WAY"}
    house = rows["apn:04013:10306005"]
    assert house["match_method"] == "apn" and house["sources"] == ["assessor:sample", "listing:sample"]
    assert house["LivingArea"] == 1204  # the assessor's record wins over the listing's
    assert house["ListPrice"] == 316000 and house["BedroomsTotal"] == 3 and house["PoolPrivateYN"] is True
    assert house["records_merged"] == 4  # two search rows, one detail, one listing
    assert rows["apn:04013:10306014"]["match_method"] == "address" and rows["apn:04013:10306014"]["ListingKey"] == "B"
    assert rows["apn:04013:10306014"]["LivingArea"] is None  # no detail: the search row still makes the property
    ghost = rows["adr:04013:85031:8400_W_NEW_CONSTRUCTION_WAY"]
    assert ghost["match_method"] == "unmatched_listing" and ghost["sources"] == ["listing:sample"]


def test_latest_listing_wins_and_an_ambiguous_address_matches_nothing_but_is_recorded():
    s = search(
        ("1", "10 W ELM ST UNIT 1", "85031", "RESIDENTIAL"),
        ("2", "10 W ELM ST UNIT 1", "85031", "RESIDENTIAL"),
        ("3", "20 W ELM ST", "85031", "VACANT LAND RESIDENTIAL"),
    )
    listings = frame(
        StgListings,
        [
            dict(
                ListingKey="old",
                PostalCode="85031",
                ParcelNumber="3",
                ListPrice=100000.0,
                ModificationTimestamp=datetime(2026, 11, 1, tzinfo=UTC),
            ),
            dict(
                ListingKey="new",
                PostalCode="85031",
                ParcelNumber="3",
                ListPrice=95000.0,
                ModificationTimestamp=datetime(2026, 11, 20, tzinfo=UTC),
            ),
            dict(ListingKey="twin", PostalCode="85031", UnparsedAddress="10 West Elm Street #1"),
        ],
    )
    out = resolve(s, frame(StgAssessorParcels, []), listings)
    rows = {r["property_id"]: r for r in out.iter_rows(named=True)}
    assert rows["apn:04013:3"]["ListingKey"] == "new" and rows["apn:04013:3"]["PropertyType"] == "Land"
    assert rows["adr:04013:85031:10_W_ELM_ST_UNIT_1"]["match_method"] == "ambiguous"
    assert out["property_id"].n_unique() == out.height == 4


def test_the_latest_parcel_version_wins_whichever_day_it_came():
    s = search(("10306005", "4027 N 55TH AVE", "85031", "RESIDENTIAL"))
    versions = frame(
        StgAssessorParcels,
        [
            dict(
                ParcelNumber="10306005",
                LivingArea=1100.0,
                fetched_at=datetime(2026, 10, 1, tzinfo=UTC),
                payload_sha256="a" * 64,
            ),
            dict(
                ParcelNumber="10306005",
                LivingArea=1204.0,
                fetched_at=datetime(2026, 11, 27, tzinfo=UTC),
                payload_sha256="b" * 64,
            ),
        ],
    )
    parcels = assessor_parcels(s, versions, "85031", DEFAULT_RESIDENTIAL_TYPES, county_fips="04013")
    row = parcels.row(0, named=True)
    assert row["LivingArea"] == 1204 and row["detail_sha256"] == "b" * 64 and row["assessor_records"] == 3


def test_an_address_usaddress_cannot_parse_still_matches_and_is_flagged():
    s = search(("1", "LOT 5 DESERT RANCH", "85031", "VACANT LAND RESIDENTIAL"))
    listings = frame(StgListings, [dict(ListingKey="L", PostalCode="85031", UnparsedAddress="Lot 5, Desert Ranch")])
    parcels = assessor_parcels(
        s, frame(StgAssessorParcels, []), "85031", DEFAULT_RESIDENTIAL_TYPES, county_fips="04013"
    )
    matched = match_listings(
        listings, parcels, s, zip_code="85031", county_fips="04013", observed_date=date(2026, 11, 28)
    )
    row = matched.row(0, named=True)
    assert (
        row["address_parse"] == "fallback" and row["match_method"] == "address" and row["property_id"] == "apn:04013:1"
    )


def test_a_complete_source_cut_short_today_replaces_none_of_its_earlier_listings():
    from phoenix_dagster.transforms.listings import current_listings

    earlier = pl.DataFrame({"source": ["mls_html"] * 3, "ListingKey": ["A", "B", "C"]})
    today = pl.DataFrame({"source": ["mls_html"], "ListingKey": ["A"]})
    whole = current_listings(today, earlier, complete_sources={"mls_html"})
    assert sorted(whole["ListingKey"]) == ["A"]  # a whole crawl speaks for the ZIP: B and C are gone
    partial = current_listings(today, earlier, complete_sources=set())  # cut short: nothing replaced
    assert sorted(partial["ListingKey"]) == ["A", "A", "B", "C"]  # the latest record per listing wins downstream


def test_the_latest_detail_is_the_latest_days_even_when_an_old_day_was_re_run_later():
    """A re-run of an old partition fetches later (wall clock) than the days after it; its version
    is not newer than theirs: the resolver orders by partition day, then fetch time."""
    s = search(("10306005", "4027 N 55TH AVE", "85031", "RESIDENTIAL"))
    late = datetime(2026, 12, 1, 7, tzinfo=UTC)
    versions = frame(
        StgAssessorParcels,
        [
            dict(ParcelNumber="10306005", LivingArea=1000.0, fetched_at=late, payload_sha256="a" * 64),  # day 1, re-run
            dict(ParcelNumber="10306005", LivingArea=1200.0, fetched_at=T, payload_sha256="b" * 64),  # day 2
        ],
    ).with_columns(day=pl.Series(["2026-11-27", "2026-11-28"]))
    parcels = assessor_parcels(s, versions, "85031", DEFAULT_RESIDENTIAL_TYPES, county_fips="04013")
    assert parcels["LivingArea"].to_list() == [1200]
    assert assessor_parcels(s, versions.drop("day"), "85031", DEFAULT_RESIDENTIAL_TYPES, county_fips="04013")[
        "LivingArea"
    ].to_list() == [1000]
