"""The lake on object storage: a demo-sized run (the sample's three ZIPs, one day) and the warehouse
build with PHOENIX_LAKE_URL pointing at an S3 server on 127.0.0.1 (moto's server mode, a real S3
protocol peer). Every lake file is an object in the bucket, nothing is written to the local lake
directory, the warehouse equals the one the same run builds on a local lake, the published copy
still reads the lake's views, retention rewrites the raw bodies in the bucket, and the S3 secret
key is in no event, lake object or warehouse."""

import io
import re

import polars as pl
import pytest
from platform_harness import DAY, ZIPS, make_platform
from servers.s3 import S3Server
from test_concurrent_runs import warehouse_contents

from phoenix_dagster.cli.commands import run_sql
from phoenix_dagster.settings import SQL_DIR
from phoenix_dagster.sources.landing import COLLECTED
from phoenix_dagster.warehouse.analyst_sql import AnalystLimits, readable_folders

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(600),
]  # two demo-sized runs and builds: 160 s in the whole suite on 2026-12-03

PREFIX = "phoenix/lake"
LAKE_ASSETS = (
    "raw_assessor_payloads",
    "raw_listing_payloads__sample",
    "stg_assessor__search_results",
    "stg_assessor__parcels",
    "stg_listings__listings",
    "int_assessor_parcels",
    "int_listings_matched",
    "int_properties_resolved",
    "listing_text_facts",
    "enriched_properties",
    "quality_daily",
    "run_metrics",
)


def test_a_run_on_an_s3_lake_builds_the_same_warehouse_as_on_a_local_lake(tmp_path, monkeypatch):
    with S3Server(secret_access_key="s3-secret-5d1c-do-not-leak") as s3:
        env = s3.lake_env(PREFIX) | {"PHOENIX_RAW_RETENTION_DAYS": "1"}
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):  # resources read them through EnvVar
            monkeypatch.setenv(name, env[name])
        on_s3 = make_platform(tmp_path / "s3", env)
        outcomes = on_s3.run()
        assert all(o.success for o in outcomes), [o.error for o in outcomes]
        assert on_s3.builds[-1].ok, (on_s3.builds[-1].error, on_s3.builds[-1].checks_failed)

        objects = s3.objects(PREFIX + "/")
        for asset in LAKE_ASSETS:
            keys = [key for key in objects if key.startswith(f"{PREFIX}/{asset}/")]
            if asset.startswith("raw_"):  # append-only: one run folder a partition, its parts and its end
                assert [re.sub(r"/runs/[^/]+/", "/runs/<run>/", key) for key in keys if key.endswith(COLLECTED)] == [
                    f"{PREFIX}/{asset}/zip={zip_code}/date={DAY}/runs/<run>/{COLLECTED}" for zip_code in ZIPS
                ], asset
                assert all(re.search(r"/runs/[^/]+/(part-\d{5}|replies|_collected)\.parquet$", key) for key in keys)
                continue
            assert keys == [f"{PREFIX}/{asset}/zip={zip_code}/date={DAY}/data.parquet" for zip_code in ZIPS], asset
        assert any(key.startswith(f"{PREFIX}/_bookkeeping/run_log/zip=85031/date={DAY}/") for key in objects)
        assert not (on_s3.settings.data_dir / "lake").exists()  # nothing on the local disk
        assert on_s3.settings.lake_location == f"s3://{s3.bucket}/{PREFIX}"

        warehouse = on_s3.warehouse
        measured = warehouse.query("select bytes from ops.storage_usage where store = 'lake'")["bytes"].to_list()
        assert measured and 0 < measured[-1] <= sum(objects.values())  # measured in the bucket, before the last books
        # The published copy's lake views read the bucket, with the analyst's file access locked to it.
        settings = on_s3.settings
        folders = readable_folders(settings.lake_location, settings.control_dir, SQL_DIR)
        limits = AnalystLimits(timeout_s=60, memory_limit_mb=256, max_temp_mb=256)
        assert all(
            folder.startswith(f"s3://{s3.bucket}/{PREFIX}/") or folder.startswith(str(settings.control_dir))
            for folder in folders
        )
        lake_rows = (
            warehouse.analyst_query("select count(*) as n from lake.enriched_properties", folders, limits)
            .frame["n"]
            .item()
        )
        assert lake_rows == warehouse.query("select count(*) as n from marts.properties")["n"].item()
        printed = io.StringIO()  # and so do `phoenix-estate sql`'s
        run_sql("select count(*) as lake_rows from lake.enriched_properties", on_s3.settings, out=printed)
        assert str(lake_rows) in printed.getvalue()
        with pytest.raises(Exception, match="disabled by configuration"):
            warehouse.analyst_query(
                f"select * from read_parquet('s3://{s3.bucket}/elsewhere/*.parquet')", folders, limits
            )
        with pytest.raises(Exception, match="disabled by configuration"):  # the raw layer is not the analysts'
            warehouse.analyst_query(
                f"select count(*) from read_parquet('s3://{s3.bucket}/{PREFIX}/raw_assessor_payloads"
                "/*/*/runs/*/part-*.parquet')",
                folders,
                limits,
            )

        compacted = on_s3.defs.resolve_job_def("compact_raw_bodies").execute_in_process(instance=on_s3.instance)
        metadata = compacted.asset_materializations_for_node("raw_body_retention")[0].metadata
        assert metadata["partitions_checked"].value == 3 and metadata["partitions_rewritten"].value == 3
        raw_parts = [
            key
            for key in s3.objects(f"{PREFIX}/raw_assessor_payloads/zip=85031/date={DAY}/")
            if re.search(r"/(part-\d{5}|replies)\.parquet$", key)
        ]
        bodies = pl.concat([pl.read_parquet(io.BytesIO(s3.read(key))) for key in raw_parts])["body"]
        assert bodies.len() and not bodies.cast(pl.String).str.contains('"Ownership": "OWNER ').any()  # in the bucket

        secret = s3.secret_access_key
        events = "\n".join(
            repr(event)
            for record in on_s3.instance.get_run_records()
            for event in on_s3.instance.all_logs(record.dagster_run.run_id)
        )
        assert on_s3.instance.get_run_records() and secret not in events
        assert all(secret.encode() not in s3.read(key) for key in objects)
        assert secret.encode() not in on_s3.settings.warehouse_path.read_bytes()
        on_s3_contents = warehouse_contents(on_s3.settings.data_dir)

    # The same closed port for the model: its address is in each listing's fallback reason.
    on_disk = make_platform(tmp_path / "local", {"OLLAMA_HOST": on_s3.settings.ollama.host})
    assert all(o.success for o in on_disk.run()) and on_disk.builds[-1].ok
    local_contents = warehouse_contents(on_disk.settings.data_dir)
    assert on_s3_contents.keys() == local_contents.keys()
    for table, frame in local_contents.items():
        assert on_s3_contents[table].equals(frame), table
    assert local_contents["marts.properties"].height == 745
