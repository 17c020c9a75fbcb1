"""`phoenix-estate migrate` on a data directory the previous version wrote.

tests/fixtures/data_dir_before_market_keys.tgz is the lake, control state and document export of
`phoenix-estate run --date 2026-11-28 --zip 85031` made by the version before county-qualified
keys (9397e47), the same command tests/shared_demo.py runs with today's code."""

import subprocess
import tarfile
from pathlib import Path

import duckdb
import polars as pl
import pytest
from shared_demo import BIN, copy_of, demo_env

from phoenix_dagster.cli.migrate import migrate_documents
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.mongo import MongoResource
from phoenix_dagster.settings import PROJECT_ROOT
from phoenix_dagster.transforms.addresses import qualified_property_id

EARLIER_DATA_DIR = Path(__file__).parent / "fixtures" / "data_dir_before_market_keys.tgz"
COMPARED = (
    "property_id, county_fips, ParcelNumber, UnparsedAddress, PostalCode, match_method, ListPrice, LivingArea, "
    "BedroomsTotal, enrichment_method"
)


@pytest.mark.unit
def test_an_earlier_property_id_gets_its_county_and_a_qualified_one_is_kept():
    ids = pl.DataFrame(
        {
            "id": ["apn:10306005", "adr:85031:8400_W_NEW_WAY", "apn:04013:10306005", "adr:04013:85031:1_MAIN_ST"],
            "county": ["04013", "04013", "08031", "08031"],
        }
    )
    assert ids.select(qualified_property_id(pl.col("id"), pl.col("county")))["id"].to_list() == [
        "apn:04013:10306005",
        "adr:04013:85031:8400_W_NEW_WAY",
        "apn:04013:10306005",  # already qualified: its own county stays
        "adr:04013:85031:1_MAIN_ST",
    ]


@pytest.mark.unit
def test_served_documents_get_their_county_once(tmp_path):
    mongo = MongoResource(database=f"migrate_{tmp_path.name}", export_dir=str(tmp_path), stand_in=True)
    collection = mongo.db()["properties"]
    collection.insert_many(
        [
            {"property_id": "apn:10306005", "PostalCode": "85031", "ListPrice": 1.0},
            {"property_id": "adr:85033:1_MAIN_ST", "PostalCode": "85033"},
            {"property_id": "apn:04013:7", "PostalCode": "85035", "county_fips": "04013"},
        ]
    )
    lake = LakeResource(root=str(tmp_path / "lake"))
    assert migrate_documents(mongo, lake) == 2
    assert migrate_documents(mongo, lake) == 0  # idempotent
    documents = {d["property_id"]: d for d in collection.find({}, {"_id": 0})}
    assert set(documents) == {"apn:04013:10306005", "adr:04013:85033:1_MAIN_ST", "apn:04013:7"}
    assert {d["county_fips"] for d in documents.values()} == {"04013"}
    assert documents["apn:04013:10306005"]["ListPrice"] == 1.0  # the rest of the document is untouched


def _migrate(env: dict) -> str:
    done = subprocess.run(
        [str(BIN / "phoenix-estate"), "migrate"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def _properties(warehouse: Path) -> pl.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(f"select {COMPARED} from marts.properties order by property_id").pl()


@pytest.mark.integration
def test_migrate_brings_an_earlier_data_directory_to_what_todays_version_writes(shared_demo, tmp_path):
    data_dir = tmp_path / "earlier" / "data"
    data_dir.mkdir(parents=True)
    with tarfile.open(EARLIER_DATA_DIR) as archive:
        archive.extractall(data_dir, filter="data")
    lake_files = sorted(data_dir.glob("lake/*/zip=*/date=*/data.parquet"))
    before = {path: pl.read_parquet(path) for path in lake_files}
    env = demo_env(data_dir)

    first = _migrate(env)
    assert "lake: 5 file(s) given county_fips" in first, first
    assert "255 given their county" in first and "warehouse: rebuilt from the migrated lake" in first, first
    for path, earlier in before.items():
        now = pl.read_parquet(path)
        assert now.height == earlier.height, path
        if "property_id" in earlier.columns:
            assert now["property_id"].str.contains(r"^(apn:04013:|adr:04013:85031:)").all(), path
            # nothing but the key changed
            rest = [c for c in earlier.columns if c != "property_id"]
            assert now.select(rest).equals(earlier.select(rest)), path
        else:
            assert now.equals(earlier), path  # tables without parcel keys are left alone
    stamps = {path: path.stat().st_mtime_ns for path in lake_files}

    second = _migrate(env)
    assert "lake: 0 file(s)" in second and "0 given their county" in second and "warehouse: unchanged" in second
    assert {path: path.stat().st_mtime_ns for path in lake_files} == stamps

    # the migrated directory's marts are what today's version makes of the same command
    today = copy_of(shared_demo, tmp_path / "today")
    migrated, fresh = _properties(data_dir / "warehouse.duckdb"), _properties(today.data_dir / "warehouse.duckdb")
    assert migrated.height == 255 and migrated.equals(fresh)
    exported = pl.read_ndjson(data_dir / "serving" / "properties.jsonl")
    assert sorted(exported["property_id"]) == sorted(fresh["property_id"])
