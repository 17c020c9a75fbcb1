"""Configuration comes from one place: settings.py reads the environment, every default is
stated once, and build_definitions(settings) is the only way to definitions."""

import re

import dagster as dg
import pytest

from phoenix_dagster.definitions import build_definitions
from phoenix_dagster.settings import PROJECT_ROOT, ConfigError, Settings

pytestmark = pytest.mark.unit

ENVIRONMENT_READS = re.compile(r"\bos\.environ\b|\bgetenv\b|\benviron\[|\bfrom os import environ\b")


def test_settings_is_the_only_module_that_reads_the_environment():
    readers = sorted(
        str(path.relative_to(PROJECT_ROOT))
        for folder in ("phoenix_dagster", "assets")
        for path in (PROJECT_ROOT / folder).rglob("*.py")
        if ENVIRONMENT_READS.search(path.read_text())
    )
    assert readers == ["phoenix_dagster/settings.py"]


def test_defaults_are_stated_once():
    sources = {
        str(path.relative_to(PROJECT_ROOT)): path.read_text()
        for folder in ("phoenix_dagster", "assets")
        for path in (PROJECT_ROOT / folder).rglob("*.py")
    }
    for literal in ("mcassessor.maricopa.gov", "PhoenixEstateBot/", "127.0.0.1:11434", '"llama3.2"', "(5, 100)"):
        holders = sorted(
            name for name, text in sources.items() if literal in text and not _only_in_docstrings(text, literal)
        )
        assert len(holders) == 1, (literal, holders)


def _only_in_docstrings(text: str, literal: str) -> bool:
    code = re.sub(r'"""[\s\S]*?"""', "", text)
    return literal not in code


def test_definitions_come_from_settings_alone(tmp_path):
    settings = Settings.from_env(
        {
            "PHOENIX_DATA_DIR": str(tmp_path),
            "PHOENIX_ZIP_CODES": "85040",
            "PHOENIX_FIRST_DATE": "2026-11-01",
            "PHOENIX_EXECUTOR": "multiprocess",
            "PHOENIX_LAKE_DIR": str(tmp_path / "elsewhere"),
            "MARICOPA_API_TOKEN": "t0k3n",
        }
    )
    defs = build_definitions(settings)
    partitions = defs.resolve_job_def("daily_refresh").partitions_def
    assert partitions.get_partitions_def_for_dimension("county").get_partition_keys() == ["04013"]
    assert defs.resources["lake"].zips_of("04013") == ("85040",)  # the county's ZIPs are inside its partition
    assert partitions.get_partitions_def_for_dimension("date").get_first_partition_key() == "2026-11-01"
    assert defs.resolve_job_def("daily_refresh").executor_def.name == "multiprocess"
    assert defs.resources["lake"].root == str(tmp_path / "elsewhere")
    assert "t0k3n" not in repr(settings)  # a secret is noted as set, never read into settings
    assert settings.has_secret("MARICOPA_API_TOKEN") and not settings.has_secret("RESO_API_TOKEN")


def test_bad_values_name_their_variable(tmp_path):
    for env, message in (
        ({"PHOENIX_FIRST_DATE": "yesterday"}, "PHOENIX_FIRST_DATE"),
        ({"PHOENIX_EXECUTOR": "threads"}, "PHOENIX_EXECUTOR"),
        ({"PHOENIX_FRESHNESS_TARGET_HOURS": "soon"}, "PHOENIX_FRESHNESS_TARGET_HOURS"),
        ({"SMTP_PORT": "0"}, "SMTP_PORT"),
    ):
        with pytest.raises(ConfigError, match=message):
            Settings.from_env({"PHOENIX_DATA_DIR": str(tmp_path), **env})


def test_dagster_postgres_storage_is_configured_by_the_environment_and_its_url_never_written(tmp_path):
    from phoenix_dagster.cli.local_runs import instance_config
    from phoenix_dagster.settings import ConfigError, Settings

    url = "postgresql+psycopg2://phoenix:s3cret@db.internal:5432/dagster"
    config = instance_config(
        Settings.from_env({"PHOENIX_DATA_DIR": str(tmp_path), "PHOENIX_DAGSTER_POSTGRES_URL": url})
    )
    assert "env: PHOENIX_DAGSTER_POSTGRES_URL" in config and "s3cret" not in config
    assert "postgres" not in instance_config(Settings.from_env({"PHOENIX_DATA_DIR": str(tmp_path)}))
    with pytest.raises(ConfigError, match="must start with postgresql\\+psycopg2://"):
        Settings.from_env({"PHOENIX_DAGSTER_POSTGRES_URL": "postgresql://phoenix@db/dagster"})


def test_the_lake_on_s3_is_a_url_with_its_credentials_through_envvar(tmp_path):
    env = {
        "PHOENIX_DATA_DIR": str(tmp_path),
        "PHOENIX_LAKE_URL": "s3://phoenix-lake/prod/lake/",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AWS_REGION": "us-west-2",
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalr-s3cret",
    }
    settings = Settings.from_env(env)
    assert settings.lake_location == "s3://phoenix-lake/prod/lake" and "s3cret" not in repr(settings)
    lake = build_definitions(settings).resources["lake"]
    assert lake.root == "s3://phoenix-lake/prod/lake" and lake.s3_endpoint_url == "http://127.0.0.1:9000"
    assert lake.aws_secret_access_key == dg.EnvVar("AWS_SECRET_ACCESS_KEY")  # the name, never the value
    assert build_definitions(Settings.from_env({"PHOENIX_DATA_DIR": str(tmp_path)})).resources["lake"].root == str(
        tmp_path / "lake"
    )  # unset: the local directory, as before
    for url in ("/data/lake", "gs://bucket/lake", "s3://", "s3:///lake", "https://bucket.s3.amazonaws.com/lake"):
        with pytest.raises(ConfigError, match="PHOENIX_LAKE_URL is not s3://bucket/prefix"):
            Settings.from_env({"PHOENIX_DATA_DIR": str(tmp_path), "PHOENIX_LAKE_URL": url})
    with pytest.raises(ConfigError, match="credentials do not go in the URL") as refused:
        Settings.from_env({"PHOENIX_DATA_DIR": str(tmp_path), "PHOENIX_LAKE_URL": "s3://AKIA:s3cret@bucket/lake"})
    assert "s3cret" not in str(refused.value)
    with pytest.raises(ConfigError, match="both set"):
        Settings.from_env({**env, "PHOENIX_LAKE_DIR": str(tmp_path / "lake")})
