import os
import re
import subprocess
import sys

import pytest

from phoenix_dagster.cli import main
from phoenix_dagster.settings import ConfigError, Settings
from platform_harness import first_date

pytestmark = pytest.mark.integration


def test_settings_defaults_and_validation(tmp_path):
    settings = Settings.from_env({"PHOENIX_DATA_DIR": str(tmp_path)})
    assert settings.zip_codes == ("85031", "85033", "85035")
    assert settings.warehouse_path == tmp_path / "warehouse.duckdb" and settings.lake_dir == tmp_path / "lake"
    custom = Settings.from_env({"PHOENIX_ZIP_CODES": "85033, 85031", "PHOENIX_ASSESSOR_PROPERTY_TYPES":
                                "residential, Vacant Land Residential"})
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


def test_run_then_query_from_the_command_line(tmp_path):
    env = {**os.environ, "PHOENIX_FIRST_DATE": first_date(), "PHOENIX_DATA_DIR": str(tmp_path), "DAGSTER_HOME": str(tmp_path / "home")}
    env.pop("MONGODB_URI", None)
    run = subprocess.run([sys.executable, "-m", "phoenix_dagster.cli", "run", "--date", "2026-11-28", "--zip", "85035"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "[1/1] 2026-11-28 × 85035" in run.stdout
    assert re.search(r"Checks: [1-9]\d* passed, 0 failed", run.stdout)
    assert "in-process stand-in" in run.stdout
    assert (tmp_path / "home" / "dagster.yaml").exists()  # runs recorded where `make ui` looks
    query = subprocess.run([sys.executable, "-m", "phoenix_dagster.cli", "sql",
                            "select PostalCode, count(*) as n from marts.properties group by 1"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert query.returncode == 0 and "85035" in query.stdout and "237" in query.stdout
    assert "Tuning: 1 run metrics read, 2 decisions" in run.stdout
    again = subprocess.run([sys.executable, "-m", "phoenix_dagster.cli", "run", "--date", "2026-11-27", "--zip", "85035"],
                           env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "Tuning: 1 run metrics read, 2 decisions" in again.stdout  # only the new run
    import duckdb

    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        history = conn.execute("select count(*), count(distinct run_id) from ops.batch_tuning").fetchone()
    assert history == (4, 2)  # two stages tuned after each of the two runs


def test_backfill_ranges_are_checked(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PHOENIX_DATA_DIR", str(tmp_path))
    assert main(["run", "--from", "2026-11-20"]) == 2
    assert "needs both --from and --to" in capsys.readouterr().err
    assert main(["run", "--from", "2026-11-20", "--to", "2026-11-19"]) == 2
    assert main(["run", "--date", "2099-01-01"]) == 2
    assert "partition days run from 2026-11-01" in capsys.readouterr().err


def test_readme_table_reference_is_generated_from_the_schemas():
    from phoenix_dagster.docs import readme_with_reference
    from phoenix_dagster.settings import PROJECT_ROOT

    readme = (PROJECT_ROOT / "README.md").read_text()
    assert readme == readme_with_reference(readme), "run `phoenix-estate docs --write`"
