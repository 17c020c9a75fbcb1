"""Partitions by county × day with the ZIPs inside the run: how many keys, which ZIPs a run works
on, and how the ZIPs' metadata becomes one materialization's."""

from datetime import date, timedelta

import dagster as dg
import pytest
import yaml

from phoenix_dagster.graph.partitions import county_day_partitions, day_of_key, selected_zips, zip_tags
from phoenix_dagster.graph.zip_steps import zip_metadata
from phoenix_dagster.settings import Settings

pytestmark = pytest.mark.unit

SIX_COUNTIES = {
    "phoenix": {
        "timezone": "America/Phoenix",
        "counties": [
            {"fips": fips, "name": name, "state": "AZ", "zips": zips}
            for fips, name, zips in (
                ("04013", "Maricopa", [f"850{n:02d}" for n in range(1, 60)] + [f"852{n:02d}" for n in range(1, 90)]),
                ("04021", "Pinal", ["85118", "85119", "85120", "85122", "85128", "85132", "85138", "85140"]),
                ("04019", "Pima", ["85701", "85704", "85705", "85710", "85711", "85712"]),
                ("04025", "Yavapai", ["86301", "86303", "86305", "86314", "86323"]),
                ("04005", "Coconino", ["86001", "86004", "86011"]),
                ("04027", "Yuma", ["85364", "85365", "85367"]),
            )
        ],
    }
}


def six_county_settings(tmp_path, first_date: str) -> Settings:
    markets = tmp_path / "markets.yaml"
    markets.write_text(yaml.safe_dump(SIX_COUNTIES))
    zips = [z for county in SIX_COUNTIES["phoenix"]["counties"] for z in county["zips"]]
    return Settings.from_env(
        {
            "PHOENIX_DATA_DIR": str(tmp_path),
            "PHOENIX_MARKETS_FILE": str(markets),
            "PHOENIX_ZIP_CODES": ",".join(zips),
            "PHOENIX_FIRST_DATE": first_date,
        }
    )


def test_five_years_of_six_counties_stay_far_below_the_uis_partition_ceiling(tmp_path):
    first = (date.today() - timedelta(days=5 * 365)).isoformat()
    settings = six_county_settings(tmp_path, first)
    assert len(settings.zip_codes) == 173  # Maricopa's ~150 ZIPs and five more counties'
    keys = county_day_partitions(settings).get_partition_keys()
    # counties × days (+ today): ≤ 25,000 per asset, where ZIPs × days would be ~318,000
    assert len(keys) == 6 * (5 * 365 + 1) and len(keys) <= 25_000
    assert keys[0] == f"04005|{first}" and day_of_key(keys[0]) == first
    assert day_of_key("2026-11-28|85031") is None  # a key of a run made before county × day partitions


def test_a_run_works_on_its_countys_zips_or_on_those_its_tag_names():
    county_zips = ("85031", "85033", "85035")
    assert selected_zips({}, county_zips, "04013") == county_zips
    assert selected_zips(zip_tags(["85035", "85031"]), county_zips, "04013") == ("85031", "85035")
    with pytest.raises(dg.Failure, match="ZIP 85118 is not one of county 04013's configured ZIPs"):
        selected_zips(zip_tags(["85118"]), county_zips, "04013")


def test_the_zips_metadata_adds_counts_keeps_what_they_share_and_tabulates_each_zip():
    merged = zip_metadata(
        {
            "85031": {"rows_out": 255, "concurrency": 4, "source": "maricopa", "match_rate": 0.97},
            "85033": {"rows_out": 237, "concurrency": 4, "source": "maricopa", "match_rate": 0.95},
        },
        left_out=["85035"],
    )
    assert merged["zips"] == 2 and merged["rows_out"] == 492  # a count, added up
    assert merged["concurrency"] == 4 and merged["source"] == "maricopa"  # a setting and a value they share
    assert "match_rate" not in merged  # differs per ZIP: in the table only
    partial = zip_metadata({"85031": {"search_total": 300, "state": "up"}, "85033": {"state": "down"}})
    assert "search_total" not in partial and partial["state"] == "up; down"  # no total of some ZIPs only
    table = merged["by_zip"].value
    assert "| zip | rows\\_out | concurrency | source | match\\_rate |" in table and "| 85033 | 237 |" in table
    assert merged["zips_left_out"] == "85035"
