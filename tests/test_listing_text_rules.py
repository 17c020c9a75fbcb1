from datetime import date

import polars as pl
import pytest

from phoenix_dagster.transforms.listing_text_rules import extract_listing_facts

pytestmark = pytest.mark.unit


def facts(text: str | None) -> dict:
    frame = pl.DataFrame(
        {
            "source": ["s"],
            "ListingKey": ["k"],
            "property_id": ["apn:1"],
            "PostalCode": ["85031"],
            "PublicRemarks": [text],
            "ModificationTimestamp": [None],
            "fetched_at": [None],
        },
        schema_overrides={
            "PublicRemarks": pl.String,
            "ModificationTimestamp": pl.Datetime("us", "UTC"),
            "fetched_at": pl.Datetime("us", "UTC"),
        },
    )
    return extract_listing_facts(frame, today=date(2026, 11, 28)).row(0, named=True)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Spacious 3 bed + den, 2.5 baths", {"BedroomsTotal": 3, "BathroomsTotal": 2.5}),
        ("This 4BR 2BA block home", {"BedroomsTotal": 4, "BathroomsTotal": 2.0}),
        ("Approx. 1,651 sq ft of living space", {"LivingArea": 1651.0}),
        ("1204 SF per county records", {"LivingArea": 1204.0}),
        ("Built in 1978, remodeled 2019", {"YearBuilt": 1978, "RenovationYear": 2019}),
        ("Solid 1958 construction. Updated 2021: new roof", {"YearBuilt": 1958, "RenovationYear": 2021}),
        ("Two car garage with storage", {"GarageSpaces": 2.0}),
        ("2-car garage", {"GarageSpaces": 2.0}),
        ("Sparkling private pool!", {"PoolPrivateYN": True}),
        ("Huge pool-sized lot, no pool yet.", {"PoolPrivateYN": False}),
        ("Pool-sized lot.", {"PoolPrivateYN": None}),
        ("No HOA!", {"AssociationYN": False, "AssociationFee": None}),
        ("HOA $45/month covers common areas", {"AssociationYN": True, "AssociationFee": 45.0}),
    ],
)
def test_states_facts_the_way_listings_write_them(text, expected):
    row = facts(text)
    assert row["method"] == "rules"
    assert {k: row[k] for k in expected} == expected


def test_out_of_bounds_values_are_dropped_with_the_reason():
    row = facts("Mansion: 25 bedrooms, 150 sq ft, built in 2090")
    assert row["BedroomsTotal"] is None and row["LivingArea"] is None and row["YearBuilt"] is None
    assert row["rejected"] == [
        "BedroomsTotal=25 outside 0..20",
        "LivingArea=150.0 outside 400..20000",
        "YearBuilt=2090 outside 1900..2027",
    ]


def test_no_text_means_method_none():
    assert facts(None)["method"] == "none" and facts("   ")["method"] == "none"
