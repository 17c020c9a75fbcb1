"""Owners' names: analysts get the kind of owner, derived in staging; the names stay in the
raw layer only — never in staging, marts, the quarantine, MongoDB, the logs or the alerts."""

import json
import shutil

import polars as pl
import pytest

from phoenix_dagster.resources.source_clients import SourcesResource
from phoenix_dagster.settings import SAMPLE_DIR
from phoenix_dagster.transforms.privacy import owner_type, withhold
from platform_harness import DAY, make_platform

NAME = "ZEBEDIAH QUARTERMAINE"


@pytest.mark.unit
def test_owner_types_from_names():
    names = ["JOHN Q PUBLIC", "SMITH FAMILY TRUST", "DOE JANE TR", "ACME HOMES LLC", "OPENDOOR PROPERTY J LLC",
             "CITY OF PHOENIX", "MARICOPA COUNTY", "STATE OF ARIZONA", None, ""]
    kinds = pl.DataFrame({"name": names}).select(owner_type(pl.col("name")).alias("kind"))["kind"].to_list()
    assert kinds == ["individual", "trust", "trust", "company", "company", "government", "government",
                     "government", None, None]


@pytest.mark.unit
def test_names_and_addresses_are_withheld_even_from_a_truncated_body():
    whole = '{"APN": "1", "Owner": {"Ownership": "JANE DOE", "FullMailingAddress": "1 MAIN ST", "SalePrice": "9"}}'
    assert withhold(whole) == ('{"APN": "1", "Owner": {"Ownership": "(withheld)", "FullMailingAddress": '
                               '"(withheld)", "SalePrice": "9"}}')
    assert withhold('{"APN": "1", "Owner": {"Ownership": "JANE D') == '{"APN": "1", "Owner": {"Ownership": "(withheld)"'


def sample_with_a_planted_owner(tmp_path):
    sample = tmp_path / "sample"
    shutil.copytree(SAMPLE_DIR, sample)
    path = sample / "assessor" / "parcels" / "85031.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    good = json.loads(lines[0]["body"])
    good["Owner"]["Ownership"] = f"{NAME} FAMILY TRUST"
    lines[0]["body"] = json.dumps(good)
    truncated = lines[29]  # the sample's truncated reply, quarantined: its text must not carry the name
    truncated["body"] = truncated["body"].replace('"Ownership": "', f'"Ownership": "{NAME} ')
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    page = sample / "assessor" / "search" / "q85031_page001.json"
    document = json.loads(page.read_text())
    document["Results"][0]["Ownership"] = NAME
    page.write_text(json.dumps(document))
    return sample, good["APN"]


@pytest.mark.integration
def test_a_planted_owner_name_is_found_in_the_raw_layer_and_nowhere_else(tmp_path):
    sample, apn = sample_with_a_planted_owner(tmp_path)
    platform = make_platform(tmp_path / "data", sources=SourcesResource(sample_dir=str(sample)))
    [outcome] = platform.run(zip_codes=["85031"])
    assert outcome.ok and platform.builds[-1].ok
    lake = platform.settings.lake_dir
    places = {}
    for path in sorted(lake.rglob("*.parquet")):
        frame = pl.read_parquet(path)
        text = str(frame.drop([c for c, t in frame.schema.items() if t == pl.Binary]).to_dicts())
        places[str(path.relative_to(lake))] = text + "".join(
            bytes(b).decode("utf-8", "replace") for c, t in frame.schema.items() if t == pl.Binary for b in frame[c])
    warehouse = platform.warehouse
    for schema, table in warehouse.query("select table_schema, table_name from information_schema.tables "
                                         "where table_schema not in ('lake')").iter_rows():
        places[f"warehouse {schema}.{table}"] = str(warehouse.query(f"select * from {schema}.{table}").to_dicts())
    places["mongodb"] = str(list(platform.mongo.db().properties.find()) + list(platform.mongo.db().daily_reports.find()))
    places["dagster logs"] = " ".join(str(e.message) + str(e.dagster_event) for run in
                                      platform.instance.get_runs() for e in platform.instance.all_logs(run.run_id))
    holding = sorted(place for place, text in places.items() if NAME in text)
    assert holding and all(place.startswith("raw_assessor_payloads/") for place in holding), holding
    assert any(place.startswith("_bookkeeping/quarantine/") for place in places)  # the truncated reply was checked
    staged = platform.defs.resources["lake"].read("stg_assessor__parcels", DAY, "85031")
    assert staged.filter(pl.col("ParcelNumber") == apn)["OwnerType"].to_list() == ["trust"]
