"""Owners' names: analysts get the kind of owner, derived in staging; the names stay in the
raw layer only — never in staging, marts, the quarantine, MongoDB, the logs or the alerts."""

import io
import json
import shutil

import polars as pl
import pytest
from platform_harness import DAY, make_platform, sample_from

from phoenix_dagster.cli.commands import run_sql
from phoenix_dagster.settings import SAMPLE_DIR
from phoenix_dagster.transforms.payloads import REJECT_SCHEMA
from phoenix_dagster.transforms.privacy import owner_type, quarantine_rows, withhold_text

NAME = "ZEBEDIAH QUARTERMAINE"


@pytest.mark.unit
def test_owner_types_from_names():
    names = [
        "JOHN Q PUBLIC",
        "SMITH FAMILY TRUST",
        "DOE JANE TR",
        "ACME HOMES LLC",
        "OPENDOOR PROPERTY J LLC",
        "CITY OF PHOENIX",
        "MARICOPA COUNTY",
        "STATE OF ARIZONA",
        None,
        "",
    ]
    kinds = pl.DataFrame({"name": names}).select(owner_type(pl.col("name")).alias("kind"))["kind"].to_list()
    assert kinds == [
        "individual",
        "trust",
        "trust",
        "company",
        "company",
        "government",
        "government",
        "government",
        None,
        None,
    ]


WITHHOLDING = [  # body as received → what may leave the raw layer
    (
        '{"APN": "1", "Owner": {"Ownership": "JANE DOE", "FullMailingAddress": "1 MAIN ST", "SalePrice": "9"}}',
        {"APN": "1", "Owner": {"Ownership": "(withheld)", "FullMailingAddress": "(withheld)", "SalePrice": "9"}},
    ),
    # keys spelt with unicode escapes are the same keys once parsed
    (
        '{"\\u004fwnership": "JANE DOE", "Full\\u004dailingAddress": "1 MAIN ST"}',
        {"Ownership": "(withheld)", "FullMailingAddress": "(withheld)"},
    ),
    # any case, any punctuation: a county layer's OWNER_NAME, MAIL_ADDR1, INCAREOF
    (
        '{"ownerNAME": "JANE DOE", "OWNER_NAME": "JANE DOE", "mail_addr1": "1 MAIN ST", "MAIL_CITY": "MESA", '
        '"InCareOf": "C/O JOHN ROE", "SITUS_ADDRESS": "2 ELM ST"}',
        {
            "ownerNAME": "(withheld)",
            "OWNER_NAME": "(withheld)",
            "mail_addr1": "(withheld)",
            "MAIL_CITY": "(withheld)",
            "InCareOf": "(withheld)",
            "SITUS_ADDRESS": "2 ELM ST",
        },
    ),
    # any value type: arrays of address lines, objects, numbers
    (
        '{"MailingAddress": ["1 MAIN ST", "MESA AZ"], "FullMailingAddress": {"Street": "1 MAIN ST"}, "Ownership": 12345}',
        {"MailingAddress": "(withheld)", "FullMailingAddress": "(withheld)", "Ownership": "(withheld)"},
    ),
    # the whole Owner block but its sale fields, whatever its keys are called; an Owner that is not an object
    (
        '{"owner": {"Name": "JANE DOE", "InCareOf": "X", "SaleDate": "01/02/2020", "DEED_NUMBER": "20200001"}}',
        {
            "owner": {
                "Name": "(withheld)",
                "InCareOf": "(withheld)",
                "SaleDate": "01/02/2020",
                "DEED_NUMBER": "20200001",
            }
        },
    ),
    ('{"Owner": "JANE DOE"}', {"Owner": "(withheld)"}),
    # anywhere in the document: search rows inside Results
    (
        '{"TOTAL": 1, "Results": [{"APN": "1", "Ownership": "JANE DOE"}]}',
        {"TOTAL": 1, "Results": [{"APN": "1", "Ownership": "(withheld)"}]},
    ),
    # RESO's owner and occupant fields, numbered county fields, lists of owners, contact details
    (
        '{"OwnerPhone": "602-555-0100", "OccupantName": "JANE DOE", "OWNER_NAME_2": "JANE DOE", "TaxpayerName": "JANE",'
        ' "Owners": [{"Name": "JANE DOE"}], "ListAgentEmail": "jane@example.com", "ListPrice": 1}',
        {
            "OwnerPhone": "(withheld)",
            "OccupantName": "(withheld)",
            "OWNER_NAME_2": "(withheld)",
            "TaxpayerName": "(withheld)",
            "Owners": "(withheld)",
            "ListAgentEmail": "(withheld)",
            "ListPrice": 1,
        },
    ),
    # empty values say nothing and stay
    ('{"Ownership": null, "MailingAddress": ""}', {"Ownership": None, "MailingAddress": ""}),
]


@pytest.mark.unit
@pytest.mark.parametrize("body, kept", WITHHOLDING)
def test_personal_fields_are_withheld_from_the_parsed_record(body, kept):
    assert json.loads(withhold_text(body)) == kept
    assert "JANE" not in withhold_text(body) and "MAIN" not in withhold_text(body)


@pytest.mark.unit
def test_a_record_that_does_not_parse_leaves_only_its_hash_and_length():
    truncated = '{"APN": "1", "Owner": {"Ownership": "JANE D'
    rows = quarantine_rows(
        pl.DataFrame(
            [
                {
                    "source": "maricopa",
                    "record_key": "1",
                    "reason": "invalid JSON",
                    "raw_record": truncated,
                    "payload_sha256": "ab" * 32,
                    "raw_bytes": None,
                },
                {
                    "source": "mls_html",
                    "record_key": "2",
                    "reason": "selectors out of date",
                    "raw_record": "<html>JANE DOE</html>",
                    "payload_sha256": "cd" * 32,
                    "raw_bytes": 99,
                },
                {
                    "source": "maricopa",
                    "record_key": "3",
                    "reason": "no reply",
                    "raw_record": None,
                    "payload_sha256": None,
                    "raw_bytes": None,
                },
            ],
            schema=REJECT_SCHEMA,
        )
    )
    assert rows["raw_record"].to_list() == [None, None, None]
    assert rows["raw_bytes"].to_list() == [len(truncated), 99, None]  # no reply: no record, no length
    assert rows["payload_sha256"].to_list() == ["ab" * 32, "cd" * 32, None]


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
    # a reply quarantined whole (no APN) whose owner block spells its keys with unicode escapes and
    # holds the mailing address as an array: a text pattern over the body sees none of it
    lines[1]["body"] = (
        f'{{"Owner": {{"\\u004fwnership": "{NAME} JR", "MailingAddress": ["{NAME}", "1 MAIN ST"]}}, "LotSize": "6534"}}'
    )
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    page = sample / "assessor" / "search" / "q85031_page001.json"
    document = json.loads(page.read_text())
    document["Results"][0]["Ownership"] = NAME
    page.write_text(json.dumps(document))
    return sample, good["APN"]


@pytest.mark.integration
def test_a_planted_owner_name_is_found_in_the_raw_layer_and_nowhere_else(tmp_path):
    sample, apn = sample_with_a_planted_owner(tmp_path)
    platform = make_platform(tmp_path / "data", **sample_from(sample))
    [outcome] = platform.run(zip_codes=["85031"])
    assert outcome.ok and platform.builds[-1].ok
    lake = platform.settings.lake_dir
    places = {}
    for path in sorted(lake.rglob("*.parquet")):
        frame = pl.read_parquet(path)
        text = str(frame.drop([c for c, t in frame.schema.items() if t == pl.Binary]).to_dicts())
        places[str(path.relative_to(lake))] = text + "".join(
            bytes(b).decode("utf-8", "replace") for c, t in frame.schema.items() if t == pl.Binary for b in frame[c]
        )
    warehouse = platform.warehouse
    for schema, table in warehouse.query(
        "select table_schema, table_name from information_schema.tables where table_schema not in ('lake')"
    ).iter_rows():
        places[f"warehouse {schema}.{table}"] = str(warehouse.query(f"select * from {schema}.{table}").to_dicts())
    places["mongodb"] = str(
        list(platform.mongo.db().properties.find()) + list(platform.mongo.db().daily_reports.find())
    )
    places["dagster logs"] = " ".join(
        str(e.message) + str(e.dagster_event)
        for run in platform.instance.get_runs()
        for e in platform.instance.all_logs(run.run_id)
    )
    holding = sorted(place for place, text in places.items() if NAME in text)
    assert holding and all(place.startswith("raw_assessor_payloads/") for place in holding), holding
    assert any(place.startswith("_bookkeeping/quarantine/") for place in places)  # the truncated reply was checked
    staged = platform.defs.resources["lake"].read("stg_assessor__parcels", DAY, "85031")
    assert staged.filter(pl.col("ParcelNumber") == apn)["OwnerType"].to_list() == ["trust"]
    quarantined = warehouse.query(
        "select reason, raw_record, payload_sha256, raw_bytes from ops.quarantine where asset = 'stg_assessor__parcels'"
    )
    truncated = quarantined.filter(pl.col("reason").str.starts_with("invalid JSON"))
    assert truncated["raw_record"].to_list() == [None] and truncated["raw_bytes"].item() > 0  # hash and length only
    raw = platform.defs.resources["lake"].read("raw_assessor_payloads", DAY, "85031")
    assert truncated["payload_sha256"].item() in raw["sha256"].to_list()  # … naming its bytes in the raw layer
    assert quarantined["raw_record"].str.contains("(withheld)", literal=True).any()
    with pytest.raises(Exception, match="Permission"):  # and `phoenix-estate sql` cannot read the raw layer
        run_sql(
            f"select * from read_parquet('{lake}/raw_assessor_payloads/*/*/runs/*/part-*.parquet')",
            platform.settings,
            out=io.StringIO(),
        )
