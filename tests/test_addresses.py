import polars as pl
import pytest

from phoenix_dagster.transforms.addresses import normalize_apn, normalize_street, property_id

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "spelling", ["4027 North 55th Avenue", "4027 N 55TH AVE", "4027 n. 55th ave.", "  4027   N 55th   Av "]
)
def test_spellings_of_one_street_address_normalise_alike(spelling):
    out = pl.select(normalize_street(pl.lit(spelling))).item()
    assert out == "4027 N 55TH AVE"


def test_units_read_the_same_however_written():
    frame = pl.DataFrame({"a": ["1820 W Palm Ln #12", "1820 W Palm Lane Apt 12", "1820 W PALM LN UNIT 12"]})
    assert frame.select(normalize_street(pl.col("a"))).to_series().unique().to_list() == ["1820 W PALM LN UNIT 12"]


@pytest.mark.parametrize(
    "raw,expected",
    [("103-06-005", "10306005"), ("103 06 005", "10306005"), ("102.19.009f", "10219009F"), ("", None), ("N/A", None)],
)
def test_apns_normalise(raw, expected):
    assert pl.select(normalize_apn(pl.lit(raw))).item() == expected


def test_property_id_is_the_county_and_its_parcel_else_the_county_zip_and_address():
    frame = pl.DataFrame(
        {
            "county": ["04013", "04013", "08031"],
            "apn": ["10306005", None, "10306005"],
            "key": ["4027 N 55TH AVE", "8400 W NEW WAY", "1 MAIN ST"],
            "zip": ["85031", "85031", "80202"],
        }
    )
    ids = frame.select(property_id(pl.col("county"), pl.col("apn"), pl.col("key"), pl.col("zip"))).to_series()
    # the same parcel number in two counties is two properties
    assert ids.to_list() == ["apn:04013:10306005", "adr:04013:85031:8400_W_NEW_WAY", "apn:08031:10306005"]
