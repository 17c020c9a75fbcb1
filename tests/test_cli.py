import os
import re
import subprocess
import sys

import pytest
from shared_demo import DAY, ZIP, copy_of

from phoenix_dagster.cli.commands import main
from phoenix_dagster.settings import ConfigError, Settings

pytestmark = pytest.mark.integration


def test_settings_defaults_and_validation(tmp_path):
    settings = Settings.from_env({"PHOENIX_DATA_DIR": str(tmp_path)})
    assert settings.zip_codes == ("85031", "85033", "85035")
    assert settings.warehouse_path == tmp_path / "warehouse.duckdb" and settings.lake_dir == tmp_path / "lake"
    custom = Settings.from_env(
        {"PHOENIX_ZIP_CODES": "85033, 85031", "PHOENIX_ASSESSOR_PROPERTY_TYPES": "residential, Vacant Land Residential"}
    )
    assert custom.zip_codes == ("85031", "85033")
    assert custom.residential_types == ("RESIDENTIAL", "VACANT LAND RESIDENTIAL")
    with pytest.raises(ConfigError, match="PHOENIX_ZIP_CODES: '8503' is not a 5-digit ZIP code"):
        Settings.from_env({"PHOENIX_ZIP_CODES": "8503"})
    with pytest.raises(ConfigError, match="PHOENIX_ASSESSOR_SOURCE"):
        Settings.from_env({"PHOENIX_ASSESSOR_SOURCE": "zillow"})


def test_unknown_zip_and_bad_date_are_refused_before_anything_runs(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PHOENIX_DATA_DIR", str(tmp_path))
    assert main(["run", "--zip", "85040"]) == 2
    assert "ZIP 85040 not in PHOENIX_ZIP_CODES" in capsys.readouterr().err
    assert main(["run", "--date", "2026-13-01"]) == 2
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_run_then_query_from_the_command_line(shared_demo, tmp_path):
    """The session's demo run (tests/shared_demo.py: `phoenix-estate run --date 2026-11-28 --zip
    85031` into an empty data directory), then a query of its warehouse from the command line."""
    demo = copy_of(shared_demo, tmp_path)
    data_dir, env, output = demo.data_dir, demo.env, demo.run_output
    assert f"[1/1] {DAY} × 04013 (ZIP {ZIP})" in output  # one run: the county's partition, this ZIP of it
    # the sample's one bad listing a page (1.3%) and truncated parcel reply (0.4%) are under the 2% WARN rate
    assert re.search(r"Checks: [1-9]\d* passed, 1 warned \(ollama_up\), 0 failed", output), output
    assert "documents exported to" in output  # no MONGODB_URI: the mongoimport-ready export
    assert (data_dir / "serving" / "properties.jsonl").stat().st_size > 0
    assert (data_dir / "dagster_home" / "dagster.yaml").exists()  # runs recorded where `make ui` looks
    assert f"Report: {demo.made_in / 'reports' / f'{DAY}.html'}" in output  # the build wrote the day's page
    assert (data_dir / "reports" / f"{DAY}.html").exists()
    query = subprocess.run(
        [
            sys.executable,
            "-m",
            "phoenix_dagster.cli",
            "sql",
            "select PostalCode, count(*) as n from marts.properties group by 1",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert query.returncode == 0 and ZIP in query.stdout, query.stdout + query.stderr
    rows = re.search(r"marts\.properties ([\d,]+) rows", output)  # what the run said it built
    assert rows and rows.group(1).replace(",", "") in query.stdout, (rows, query.stdout)
    assert "Tuning: 2 decisions" in output  # the run's two tuned stages
    import duckdb

    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as conn:
        history = conn.execute("select count(*), count(distinct run_id) from ops.batch_tuning").fetchone()
    assert history == (2, 1)  # decided from the partition run's metrics, by one tuning run
    # The workspace loaded as it was for the run: a job's snapshot includes its resources' paths.
    runs_are_the_code_locations_own(data_dir / "dagster_home", demo.made_with)


JOB_RUNS = """query JobRuns($filter: RunsFilter) { runsOrError(filter: $filter) { ... on Runs { results {
  runId jobName pipelineSnapshotId tags { key value } repositoryOrigin { repositoryLocationName repositoryName } } } } }"""
JOB = """query Job($selector: PipelineSelector!) { pipelineOrError(params: $selector) { ... on Pipeline {
  pipelineSnapshotId } } }"""


def runs_are_the_code_locations_own(home, env):
    """What the UI shows for the CLI's runs, asked over its GraphQL API with the workspace loaded
    as `dagster dev` loads it: the job's Runs tab (job name + repository tag) lists them, each
    names the code location (the Overview timeline groups by it), each was made from the job
    version the workspace has (no "different version" warning on re-execution), and the tuning
    sensor's cursor, which the daemon reads, is where the CLI left it."""
    import dagster as dg
    from dagster_graphql.test.utils import execute_dagster_graphql

    from phoenix_dagster.automation.dagster_private import InstigatorStatus, WorkspaceProcessContext
    from phoenix_dagster.cli.workspace_runs import LOCATION_NAME, workspace_target

    instance = dg.DagsterInstance.from_config(str(home))
    saved = dict(os.environ)
    os.environ.update(env)  # the code server starts from this environment, as `make ui` would
    try:
        with WorkspaceProcessContext(instance, workspace_target(), code_server_log_level="WARNING") as process:
            context = process.create_request_context()
            selector = {"repositoryLocationName": LOCATION_NAME, "repositoryName": "__repository__"}
            seen = {}
            for job in ("daily_refresh", "build_warehouse", "tune_batches"):
                runs = execute_dagster_graphql(
                    context,
                    JOB_RUNS,
                    {
                        "filter": {
                            "pipelineName": job,
                            "tags": [{"key": ".dagster/repository", "value": f"__repository__@{LOCATION_NAME}"}],
                        }
                    },
                ).data
                current = execute_dagster_graphql(context, JOB, {"selector": {**selector, "pipelineName": job}}).data
                seen[job] = runs["runsOrError"]["results"]
                assert all(
                    run["repositoryOrigin"]
                    == {"repositoryLocationName": LOCATION_NAME, "repositoryName": "__repository__"}
                    for run in seen[job]
                )
                assert {run["pipelineSnapshotId"] for run in seen[job]} == {
                    current["pipelineOrError"]["pipelineSnapshotId"]
                }, job
            assert len(seen["daily_refresh"]) == 1 and len(seen["build_warehouse"]) == 1
            assert len(seen["tune_batches"]) == 1  # one tuning run per command, requested by the sensor
            tags = {t["key"]: t["value"] for t in seen["daily_refresh"][0]["tags"]}
            assert tags["dagster/partition"] == f"04013|{DAY}" and tags["dagster/partition/county"] == "04013"
            assert tags["phoenix/zips"] == ZIP  # the county's partition, for this one of its ZIPs
            sensor = (
                context.get_code_location(LOCATION_NAME)
                .get_repository("__repository__")
                .get_sensor("retune_from_run_metrics")
            )
            state = instance.get_instigator_state(sensor.get_remote_origin_id(), sensor.selector_id)
            [last] = instance.fetch_materializations(dg.AssetKey("run_metrics"), limit=1).records
            assert state.instigator_data.cursor == str(last.storage_id)  # the daemon's next tick starts after it
            # keeping the cursor did not start the sensor: the daemon sees it as its default says (stopped)
            assert (
                state.status != InstigatorStatus.RUNNING and not sensor.get_current_instigator_state(state).is_running
            )
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_backfill_ranges_are_checked(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PHOENIX_DATA_DIR", str(tmp_path))
    assert main(["run", "--from", "2026-11-20"]) == 2
    assert "needs both --from and --to" in capsys.readouterr().err
    assert main(["run", "--from", "2026-11-20", "--to", "2026-11-19"]) == 2
    assert main(["run", "--date", "2099-01-01"]) == 2
    assert "partition days run from 2026-11-01" in capsys.readouterr().err


def test_the_table_reference_in_docs_is_generated_from_the_schemas():
    from phoenix_dagster.cli.docs import TABLES_PAGE, page_with_reference

    page = TABLES_PAGE.read_text()
    assert page == page_with_reference(page), "docs/tables.md is stale: run `phoenix-estate docs --write`"
