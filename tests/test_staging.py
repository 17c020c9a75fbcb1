import json
from datetime import UTC, datetime

import polars as pl
import pytest

from phoenix_dagster.schemas.staging import StgAssessorParcels, StgAssessorSearchResults, StgListings
from phoenix_dagster.sources.base import RawPayload, payloads_frame
from phoenix_dagster.transforms.assessor import new_versions, stage_parcels, stage_search_results
from phoenix_dagster.transforms.listings import latest_listing_records, stage_listings
from phoenix_dagster.transforms.payloads import decode_json_bodies, explode_json_list

pytestmark = pytest.mark.unit

T = datetime(2026, 11, 28, 7, tzinfo=UTC)
DETAIL = {
    "APN": "103-06-005",
    "PropertyAddress": "4027 N 55TH AVE   PHOENIX  85031",
    "PropertyType": "RESIDENTIAL",
    "LotSize": "6534",
    "Geo": {"lat": "33.4951", "long": -112.1701},
    "Owner": {"SalePrice": "185000", "SaleDate": "03/14/2019"},
    "ResidentialPropertyData": {
        "ConstructionYear": "1958",
        "LivableSpace": 1204,
        "BathFixtures": "6",
        "Pool": "",
        "NumberOfGarages": "2",
        "Stories": "1",
        "SomethingNew": "kept raw",
    },
    "Valuations": [{"TaxYear": "2024", "FullCashValue": "200000"}, {"TaxYear": 2026, "FullCashValue": "250000"}],
}


def decoded(entity: str, bodies: dict[str, object]) -> pl.DataFrame:
    raw = payloads_frame(
        RawPayload("test", entity, key, "/x", 200, T, body if isinstance(body, bytes) else json.dumps(body).encode())
        for key, body in bodies.items()
    )
    return decode_json_bodies(raw)[0]


def test_parcel_detail_maps_tolerantly_to_reso_names():
    staged, rejected = stage_parcels(decoded("parcel", {"10306005": DETAIL}))
    assert rejected.is_empty()
    StgAssessorParcels.validate(staged)
    row = staged.row(0, named=True)
    assert row["ParcelNumber"] == "10306005" and row["PostalCode"] == "85031"
    assert row["UnparsedAddress"] == "4027 N 55TH AVE"
    assert row["LivingArea"] == 1204 and row["YearBuilt"] == 1958 and row["BathFixtures"] == 6
    assert row["PoolArea"] is None and row["GarageSpaces"] == 2 and row["Longitude"] == -112.1701
    assert str(row["LastSaleDate"]) == "2019-03-14"
    assert row["TaxYear"] == 2026 and row["FullCashValue"] == 250000  # the latest valuation


def test_parcel_with_unparseable_value_is_rejected_naming_field_and_value():
    bad = json.loads(json.dumps(DETAIL))
    bad["ResidentialPropertyData"]["LivableSpace"] = "about 1200"
    staged, rejected = stage_parcels(decoded("parcel", {"10306005": bad}))
    assert staged.is_empty()
    assert rejected["record_key"].to_list() == ["10306005"]
    assert rejected["reason"][0] == "LivingArea 'about 1200' is not a valid number"
    assert "about 1200" in rejected["raw_record"][0]


def test_search_rows_keep_every_row_and_trim_the_countys_spacing():
    page = {
        "TOTAL": 2,
        "Results": [
            {
                "APN": "10236012M",
                "SitusAddress": "2524 N 83RD AVE",
                "SitusCity": "Phoenix",
                "SitusZip": "85035",
                "PropertyType": "VACANT LAND COMMERCIAL ",
                "SubdivisonName": "AMBERLEA    PARCEL 1",
            },
            {
                "APN": None,
                "SitusAddress": "?",
                "SitusCity": None,
                "SitusZip": "85035",
                "PropertyType": "RESIDENTIAL",
                "SubdivisonName": None,
            },
        ],
    }
    staged, rejected = stage_search_results(decoded("search_page", {"q=85035&page=1": page}))
    StgAssessorSearchResults.validate(staged)
    assert staged.row(0, named=True)["assessor_property_type"] == "VACANT LAND COMMERCIAL"
    assert staged.row(0, named=True)["SubdivisionName"] == "AMBERLEA PARCEL 1"
    assert staged["search_page"].to_list() == [1]
    assert rejected["reason"].to_list() == ["search row has no usable APN (missing)"]


def listing(**overrides) -> dict:
    base = {
        "ListingKey": "L1",
        "ListingId": "6731000",
        "StandardStatus": "Active",
        "ListPrice": 316000,
        "UnparsedAddress": "4027 North 55th Avenue",
        "City": "Phoenix",
        "PostalCode": "85031",
        "ParcelNumber": "103-06-005",
        "BedroomsTotal": 3,
        "PoolPrivateYN": True,
        "LivingArea": "1,204",
        "ModificationTimestamp": "2026-11-20T10:00:00Z",
        "PublicRemarks": "3 bed",
    }
    return {**base, **overrides}


def stage(records: list[dict], zip_code: str = "85031"):
    pages = decoded("listing_page", {f"{zip_code}:1": {"value": records}})
    staged, rejected, _ = stage_listings(explode_json_list(pages, "value", "ListingKey")[0], zip_code)
    return staged, rejected


def test_listings_stage_with_reso_types():
    staged, rejected = stage([listing()])
    assert rejected.is_empty()
    StgListings.validate(staged)
    row = staged.row(0, named=True)
    assert row["ParcelNumber"] == "10306005" and row["LivingArea"] == 1204 and row["PoolPrivateYN"] is True
    assert row["City"] == "PHOENIX" and row["ModificationTimestamp"].year == 2026


def test_listing_rejections_name_the_record_and_every_reason():
    staged, rejected = stage(
        [
            listing(ListingKey=None, ListPrice="Call for price"),
            listing(ListingKey="L2", PostalCode=None),
            listing(ListingKey="L3", StandardStatus="Under review"),
            listing(ListingKey="L4"),
        ]
    )
    assert staged["ListingKey"].to_list() == ["L4"]
    reasons = dict(zip(rejected["record_key"], rejected["reason"]))
    assert reasons == {
        "85031:1#0": "listing has no ListingKey; ListPrice 'Call for price' is not a valid number",
        "L2": "listing has no PostalCode",
        "L3": "StandardStatus 'Under review' is not a known listing status",
    }


def test_a_listing_of_another_zip_is_out_of_scope_not_quarantined():
    pages = decoded(
        "listing_page",
        {
            "85031:1": {
                "value": [
                    listing(ListingKey="MINE"),
                    listing(ListingKey="THEIRS", PostalCode="85033-1234"),
                    listing(ListingKey="THEIRS-BROKEN", PostalCode="85033", ListPrice={"amount": 1}),
                ]
            }
        },
    )
    staged, rejected, out_of_scope = stage_listings(explode_json_list(pages, "value", "ListingKey")[0], "85031")
    assert staged["ListingKey"].to_list() == ["MINE"] and rejected.is_empty()
    assert out_of_scope.to_dicts() == [  # its own partition judges it, quarantine included
        {"source": "test", "record_key": "THEIRS", "PostalCode": "85033"},
        {"source": "test", "record_key": "THEIRS-BROKEN", "PostalCode": "85033"},
    ]


def test_a_repeated_listing_keeps_its_latest_record():
    staged, _ = stage(
        [
            listing(ListPrice=300000, ModificationTimestamp="2026-11-01T00:00:00Z"),
            listing(ListPrice=290000, ModificationTimestamp="2026-11-21T00:00:00Z"),
        ]
    )
    assert staged.height == 2  # staging keeps both
    assert latest_listing_records(staged)["ListPrice"].to_list() == [290000]


def test_statuses_map_to_reso_standard_status():
    staged, rejected = stage(
        [
            listing(ListingKey=k, StandardStatus=v)
            for k, v in [
                ("a", "Active"),
                ("b", "UCB"),
                ("c", "Sold"),
                ("d", "Coming Soon"),
                ("e", "ActiveUnderContract"),
                ("f", "Temp Off Market"),
                ("g", "Maybe"),
            ]
        ]
    )
    assert dict(zip(staged["ListingKey"], staged["StandardStatus"])) == {
        "a": "Active",
        "b": "ActiveUnderContract",
        "c": "Closed",
        "d": "ComingSoon",
        "e": "ActiveUnderContract",
        "f": "Hold",
    }
    assert rejected["reason"].to_list() == ["StandardStatus 'Maybe' is not a known listing status"]


def test_a_reply_that_is_not_the_requested_parcel_is_rejected_whole():
    staged, rejected = stage_parcels(
        decoded(
            "parcel",
            {
                "10306005": {"APN": "103-06-005", "LotSize": "6534"},  # the one asked for, however spelled
                "10306006": {"Error": "Service temporarily unavailable"},
                "10306007": [{"APN": "10306007"}],
                "10306008": {"Owner": "somebody", "LotSize": "1"},
                "10306009": {"APN": "99999999", "LotSize": "1"},
            },
        )
    )
    assert staged["ParcelNumber"].to_list() == ["10306005"]
    reasons = dict(zip(rejected["record_key"], rejected["reason"]))
    assert reasons["10306006"] == "parcel reply has no APN (not a parcel); its fields: Error"
    assert reasons["10306007"] == "parcel reply is not a JSON object"
    assert reasons["10306008"] == "parcel reply has no APN (not a parcel); its fields: Owner, LotSize"
    assert reasons["10306009"] == "parcel reply is for APN 99999999, not the one requested"


def test_one_odd_value_rejects_its_record_alone_not_the_batch():
    staged, rejected = stage([listing(ListingKey="A", ListPrice={"amount": 1}), listing(ListingKey="B")])
    assert staged["ListingKey"].to_list() == ["B"]
    assert rejected.select("record_key", "reason").rows() == [
        ("A", "ListPrice '{\"amount\": 1}' is not a valid number")
    ]
    search, rejected = stage_search_results(
        decoded(
            "search_page",
            {"q=85031&page=1": {"TOTAL": 2, "Results": ["oops", {"APN": "10306005", "SitusZip": "85031"}]}},
        )
    )
    assert search["ParcelNumber"].to_list() == ["10306005"] and rejected.height == 1
    parcels, rejected = stage_parcels(
        decoded(
            "parcel",
            {
                "10306005": {"APN": "10306005", "Valuations": ["x", {"TaxYear": "2025", "FullCashValue": "1"}]},
                "10306006": {"APN": "10306006", "Valuations": [{"TaxYear": 2025, "FullCashValue": 250000}]},
            },
        )
    )
    assert parcels["ParcelNumber"].to_list() == ["10306006"] and parcels["FullCashValue"].to_list() == [250000.0]
    assert rejected.select("record_key", "reason").rows() == [
        ("10306005", "Valuations element 0 is a str, not a valuation")
    ]


def test_a_body_that_goes_back_to_an_older_one_is_the_latest_version_again():
    """A → B → A (a sale recorded, then corrected): the third fetch is a new version, so the
    resolver's latest detail is A again; B → B stays one version."""
    at = [datetime(2026, 11, d, 7, 5, tzinfo=UTC) for d in (1, 2, 3)]
    history = pl.DataFrame(
        {
            "ParcelNumber": ["10300001", "10300001", "10300002"],
            "payload_sha256": ["A", "B", "B"],
            "fetched_at": at[:2] + at[1:2],
            "day": ["2026-11-01", "2026-11-02", "2026-11-02"],
        }
    )
    today = pl.DataFrame(
        {"ParcelNumber": ["10300001", "10300002"], "payload_sha256": ["A", "B"], "fetched_at": [at[2], at[2]]}
    )
    assert new_versions(today, history)["ParcelNumber"].to_list() == ["10300001"]
    assert new_versions(today, history.reverse())["ParcelNumber"].to_list() == ["10300001"]  # order read


WRONG_SHAPES = [  # a change to a parcel detail → the reason it is quarantined for
    ({"Geo": "33.5,-112.2"}, "Geo is a string, expected an object with lat, long"),
    ({"Owner": "JANE DOE"}, "Owner is a string, expected an object with SalePrice, SaleDate, Ownership"),
    ({"ResidentialPropertyData": [1958, 1204]}, "ResidentialPropertyData is an array, expected an object"),
    ({"Valuations": {"TaxYear": "2026"}}, "Valuations is an object, expected an array of objects"),
    (
        {"Valuations": [{"TaxYear": "2026", "FullCashValue": {"amount": 1}}]},
        "Valuations[0].FullCashValue is an object, expected a value",
    ),
    ({"Geo": {"lat": [33.5], "long": -112.2}}, "Geo.lat is an array, expected a value"),
    ({"PropertyAddress": {"line": "4027 N 55TH AVE"}}, "PropertyAddress is an object, expected a value"),
]


@pytest.mark.parametrize("change, reason", WRONG_SHAPES)
def test_a_parcel_of_the_wrong_shape_is_quarantined_not_read_as_nulls(change, reason):
    staged, rejected = stage_parcels(decoded("parcel", {"10306005": {**DETAIL, **change}}))
    assert staged.is_empty()  # never a new version with silent nulls: the last good one stays the latest
    [why] = rejected["reason"].to_list()
    assert why.startswith("parcel reply is not the contract's shape: ") and reason in why, why


def test_a_search_row_or_listing_holding_an_object_for_a_value_is_quarantined():
    page = {
        "TOTAL": 2,
        "Results": [
            {"APN": "103-06-005", "SitusZip": {"zip": "85035"}, "PropertyType": "RESIDENTIAL"},
            {"APN": "103-06-006", "SitusZip": "85035", "PropertyType": "RESIDENTIAL"},
        ],
    }
    search, rejected = stage_search_results(decoded("search_page", {"q=85035&page=1": page}))
    assert search["ParcelNumber"].to_list() == ["10306006"]
    assert rejected["reason"].to_list() == [
        "search row is not the contract's shape: SitusZip is an object, expected a value"
    ]
    staged, rejected = stage(
        [
            {"ListingKey": "A", "PostalCode": "85031", "City": {"name": "PHOENIX"}},
            {"ListingKey": "B", "PostalCode": "85031", "City": "PHOENIX"},
        ]
    )
    assert staged["ListingKey"].to_list() == ["B"]
    assert rejected["reason"].to_list() == ["listing is not the contract's shape: City is an object, expected a value"]
