"""Raw-body retention: county replies older than the retention lose owners' names and mailing
addresses, keep everything staging reads (the kind of owner included), and recent ones are
untouched."""

import json
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import polars as pl
import pytest
from platform_harness import make_platform, sample_from
from test_personal_data import NAME, sample_with_a_planted_owner

from phoenix_dagster.graph.partitions import partition_key, zip_tags
from phoenix_dagster.markets.market import market
from phoenix_dagster.transforms.privacy import owner_type, owner_type_of
from phoenix_dagster.transforms.retention import compact_body

ZIP = "85031"
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.mark.unit
def test_a_compacted_body_keeps_the_kind_of_owner_and_nothing_that_names_anyone():
    body = (
        b'{"APN": "10306005", "Owner": {"Ownership": "SMITH FAMILY TRUST", "MailingAddress": "9 ELM ST", '
        b'"SalePrice": "250000"}, "LotSize": "6534"}'
    )
    compacted = compact_body(body)
    assert json.loads(compacted) == {
        "APN": "10306005",
        "Owner": {"Ownership": "(withheld: trust)", "MailingAddress": "(withheld)", "SalePrice": "250000"},
        "LotSize": "6534",
    }
    assert compact_body(compacted) == compacted  # twice changes nothing
    unchanged = b'{"APN": "2",  "LotSize": "6534"}'
    assert compact_body(unchanged) is unchanged  # nothing personal: the bytes as received
    for odd in (b'{"APN": "1", "Owner": {"Ownership": "JANE D', b'\xff{"Ownership": "ACME LLC"}', b"<html>JANE</html>"):
        note = compact_body(odd)  # not JSON: it cannot be searched for names, so only its length stays
        assert note == f"(withheld by retention: a reply that was not JSON, {len(odd)} bytes)".encode()
        assert compact_body(note) == note
    for kept in (b"[parcel]:Requested content was not found", b"", b"  "):
        assert compact_body(kept) == kept  # the county's not-found text and empty bodies name no one


@pytest.mark.unit
def test_the_python_and_polars_owner_types_agree():
    names = [
        "JOHN Q PUBLIC",
        "SMITH FAMILY TRUST",
        "DOE JANE TR",
        "ACME HOMES LLC",
        "CITY OF PHOENIX",
        "MARICOPA COUNTY",
        "OPENDOOR PROPERTY J LLC",
        "(withheld: trust)",
        "(WITHHELD: COMPANY)",
        None,
        "",
        "(withheld)",
        "TRUSTY HOLDINGS",
    ]
    polars = pl.DataFrame({"name": names}).select(owner_type(pl.col("name")).alias("kind"))["kind"].to_list()
    assert polars == [owner_type_of(name) for name in names]


@pytest.mark.integration
def test_partitions_past_the_retention_are_compacted_and_stage_to_the_same_owner_types(tmp_path):
    sample, _apn = sample_with_a_planted_owner(tmp_path)
    old = (date.fromisoformat(market().today()) - timedelta(days=120)).isoformat()
    platform = make_platform(
        tmp_path / "data",
        env={"PHOENIX_RAW_RETENTION_DAYS": "90", "PHOENIX_FIRST_DATE": old},
        **sample_from(sample),
    )
    recent = (date.fromisoformat(market().today()) - timedelta(days=10)).isoformat()
    for day in (old, recent):
        [outcome] = platform.run(day, [ZIP], build=False)
        assert outcome.ok
    lake = platform.defs.resources["lake"]
    raw = lambda day: lake.read("raw_assessor_payloads", day, ZIP)  # noqa: E731
    staged_before = (
        lake.read("stg_assessor__parcels", old, ZIP).select("ParcelNumber", "OwnerType").sort("ParcelNumber")
    )
    bodies_before = raw(old)["body"].to_list()
    assert any(NAME.encode() in body for body in bodies_before)

    job = platform.defs.resolve_job_def("compact_raw_bodies")
    first = job.execute_in_process(instance=platform.instance)
    metadata = first.asset_materializations_for_node("raw_body_retention")[0].metadata
    assert metadata["partitions_checked"].value == 1 and metadata["partitions_rewritten"].value == 1

    assert not any(NAME.encode() in body for body in raw(old)["body"].to_list())  # gone past the retention
    assert any(NAME.encode() in body for body in raw(recent)["body"].to_list())  # kept within it
    assert raw(old)["sha256"].to_list() == lake.read("raw_assessor_payloads", old, ZIP)["sha256"].to_list()
    again = job.execute_in_process(instance=platform.instance)  # idempotent: nothing left to compact
    assert again.asset_materializations_for_node("raw_body_retention")[0].metadata["partitions_rewritten"].value == 0

    restaged = platform.defs.resolve_job_def("daily_refresh").execute_in_process(
        partition_key=partition_key(old, "04013"),
        tags=zip_tags([ZIP]),
        instance=platform.instance,
        asset_selection=[dg.AssetKey("stg_assessor__parcels")],
    )
    assert restaged.success
    staged_after = lake.read("stg_assessor__parcels", old, ZIP).select("ParcelNumber", "OwnerType").sort("ParcelNumber")
    assert staged_after.equals(staged_before) and "trust" in staged_after["OwnerType"].to_list()


@pytest.mark.integration
def test_quarantine_files_an_older_version_wrote_are_rewithheld_once(tmp_path):
    """An older version kept quarantined records whole when they were not JSON, and withheld the
    rest with a text pattern that missed keys spelt otherwise: the retention run rewrites those
    files once (records withheld, or reduced to their length), marks it done, and leaves newer
    files alone; `phoenix-estate run` asks for that run while any is left."""
    from assets.retention import QUARANTINE_REWITHHELD, quarantine_rewithheld

    platform = make_platform(tmp_path / "data")
    lake, control_dir = platform.defs.resources["lake"], platform.settings.control_dir
    old_rows = pl.DataFrame(
        [
            {
                "run_id": "old",
                "source": "maricopa",
                "asset": "stg_assessor__parcels",
                "partition": "2026-11-20|85031",
                "record_key": "1",
                "reason": "invalid JSON (truncated or malformed)",
                "raw_record": f'{{"APN": "1", "Owner": {{"Ownership": "{NAME}',
                "quarantined_at": NOW,
            },
            {
                "run_id": "old",
                "source": "maricopa",
                "asset": "stg_assessor__parcels",
                "partition": "2026-11-20|85031",
                "record_key": "2",
                "reason": "parcel reply has no APN (not a parcel)",
                "raw_record": f'{{"Owner": {{"\\u004fwnership": "{NAME}"}}}}',
                "quarantined_at": NOW,
            },
        ]
    )
    path = lake.storage.join(
        "_bookkeeping", "quarantine", "zip=85031", "date=2026-11-20", "stg_assessor__parcels__old.parquet"
    )
    lake.storage.write_parquet(old_rows, path)  # as the older version wrote it: no payload_sha256, raw_bytes
    assert not quarantine_rewithheld(control_dir, lake)
    job = platform.defs.resolve_job_def("compact_raw_bodies")
    first = job.execute_in_process(instance=platform.instance)
    assert (
        first.asset_materializations_for_node("raw_body_retention")[0]
        .metadata["older_quarantine_files_rewritten"]
        .value
        == 1
    )
    rewritten = lake.storage.read_parquet(path)
    assert NAME not in str(rewritten.to_dicts())
    assert rewritten["raw_record"].to_list()[0] is None and rewritten["raw_bytes"].to_list()[0] > 0
    assert (control_dir / QUARANTINE_REWITHHELD).exists() and quarantine_rewithheld(control_dir, lake)
    again = job.execute_in_process(instance=platform.instance)
    assert (
        again.asset_materializations_for_node("raw_body_retention")[0]
        .metadata["older_quarantine_files_rewritten"]
        .value
        == 0
    )
