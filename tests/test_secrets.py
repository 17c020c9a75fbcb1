"""Secrets never echoed: a malformed URL setting is refused naming the variable and what is wrong,
never its value (whose userinfo, query or path may hold a password or a token); every resource's
repr() and str() mask tokens, passwords and URIs, also once Dagster has resolved an EnvVar."""

from __future__ import annotations

import dagster as dg
import pytest

from phoenix_dagster.automation.run_worker import RunWorkerResource
from phoenix_dagster.graph.lake_io import LakeIOManager
from phoenix_dagster.resources.alerting import AlertChannelsResource
from phoenix_dagster.resources.control_state import ControlStateResource
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.mongo import MongoResource
from phoenix_dagster.resources.ollama import OllamaResource
from phoenix_dagster.resources.quality_targets import QualityTargetsResource
from phoenix_dagster.resources.source_clients import SourcesResource
from phoenix_dagster.resources.warehouse import PublishedWarehouseResource, WarehouseBuildResource
from phoenix_dagster.settings import ConfigError, Settings
from phoenix_dagster.sources.maricopa import MaricopaResource
from phoenix_dagster.sources.mls_html import MlsHtmlResource
from phoenix_dagster.sources.rate_limit_stores import store_limiter
from phoenix_dagster.sources.reso import ResoResource

pytestmark = pytest.mark.unit

SECRET = "s3cret-Pa55"

MALFORMED = [  # variable, value: each refused when the settings load
    ("PHOENIX_RATE_LIMIT_STORE", f"postgresql//user:{SECRET}@db.internal/rates"),
    ("PHOENIX_RATE_LIMIT_STORE", f"redis://:{SECRET}@redis.internal:notaport/0"),
    ("PHOENIX_RATE_LIMIT_STORE", f"ftp://user:{SECRET}@db.internal"),
    ("MONGODB_URI", f"mongodb//user:{SECRET}@cluster0.example.net"),
    ("MONGODB_URI", f"mongodb://user:{SECRET}@:27017"),
    ("MONGODB_URI", f"https://user:{SECRET}@cluster0.example.net"),
    ("MLS_PROXIES", f"http://ok.example:3128, htp//user:{SECRET}@proxy:8080"),
    ("MLS_PROXIES", f"http://user:{SECRET}@proxy:port"),
    ("OLLAMA_HOST", f"user:{SECRET}@ollama:abc"),
    ("OLLAMA_HOST", f"ftp://user:{SECRET}@ollama"),
    ("PHOENIX_LAKE_URL", f"s3//user:{SECRET}@bucket/lake"),
    ("PHOENIX_LAKE_URL", f"s3://bucket/lake?token={SECRET}"),
    ("PHOENIX_LAKE_URL", f"s3://bucket:{SECRET}/lake"),
    ("PHOENIX_ALERT_WEBHOOK_URL", f"hooks.example/{SECRET}"),
    ("MARICOPA_API_URL", f"mcassessor.example/api?token={SECRET}"),  # a source's own URL, checked by its settings
    ("RESO_API_URL", f"ftp://user:{SECRET}@feed.example"),
    ("MLS_BASE_URL", f"https://user:{SECRET}@:443"),
]


@pytest.mark.parametrize("variable, value", MALFORMED)
def test_a_malformed_url_setting_names_the_variable_and_never_its_value(variable, value):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({variable: value})
    assert variable in str(refused.value) and SECRET not in str(refused.value), str(refused.value)


def test_the_rate_limit_store_refuses_an_unknown_url_without_echoing_it():
    with pytest.raises(ValueError) as refused:
        store_limiter(f"mysql://user:{SECRET}@db/rates", "county", 10, 60)
    assert "PHOENIX_RATE_LIMIT_STORE" in str(refused.value) and SECRET not in str(refused.value)


def test_good_url_settings_load():
    settings = Settings.from_env(
        {
            "PHOENIX_RATE_LIMIT_STORE": "redis://127.0.0.1:6379/0",
            "MONGODB_URI": "mongodb+srv://user:pw@cluster0.example.net/?retryWrites=true",
            "OLLAMA_HOST": "127.0.0.1:11434",
            "MLS_PROXIES": "http://a.example:3128 socks5://b.example:1080",
            "PHOENIX_LAKE_URL": "s3://bucket/lake",
        }
    )
    assert settings.has_secret("MLS_PROXIES") and settings.lake_url == "s3://bucket/lake"


def _resources() -> list:
    lake = LakeResource(
        root="s3://bucket/lake",
        s3_endpoint_url=f"http://minio:{SECRET}@minio.internal:9000",
        aws_access_key_id=SECRET,
        aws_secret_access_key=SECRET,
        aws_session_token=SECRET,
    )
    maricopa = MaricopaResource(
        url=f"https://user:{SECRET}@county.example",
        token=SECRET,
        rate_limit_store=f"postgresql://rates:{SECRET}@db.internal/rates",
    )
    reso = ResoResource(url=f"https://user:{SECRET}@reso.example/odata", token=SECRET)
    mls = MlsHtmlResource(url=f"https://user:{SECRET}@mls.example", proxies=f"http://proxy:{SECRET}@proxy.example:3128")
    return [
        lake,
        LakeIOManager(lake=lake),
        ControlStateResource(control_dir="/data/control", lake=lake),
        maricopa,
        reso,
        mls,
        SourcesResource(),
        MongoResource(uri=f"mongodb+srv://app:{SECRET}@cluster0.example.net", database="d", export_dir="/data/serving"),
        AlertChannelsResource(
            webhook_url=f"https://hooks.example/services/{SECRET}", smtp_password=SECRET, smtp_host="smtp.example"
        ),
        OllamaResource(host=f"http://user:{SECRET}@ollama.internal:11434", model="llama3.2", timeout_s=60),
        PublishedWarehouseResource(path="/data/warehouse.duckdb", lake=lake),
        WarehouseBuildResource(build_path="/data/b.duckdb", published_path="/data/w.duckdb", lake=lake),
        QualityTargetsResource(freshness_target_hours=24),
        RunWorkerResource(),
    ]


@pytest.mark.parametrize("resource", _resources(), ids=lambda resource: type(resource).__name__)
def test_no_resource_shows_a_secret_planted_in_it(resource):
    for shown in (repr(resource), str(resource), f"{resource}"):
        assert SECRET not in shown, shown


def test_a_secret_from_the_environment_is_masked_once_resolved_and_still_used(monkeypatch):
    monkeypatch.setenv("TEST_COUNTY_TOKEN", SECRET)
    monkeypatch.setenv("TEST_PROXIES", f"http://proxy:{SECRET}@proxy.example:3128,http://other.example:3128")
    resources = {
        "county": MaricopaResource(token=dg.EnvVar("TEST_COUNTY_TOKEN")),
        "mls": MlsHtmlResource(url="https://mls.example", proxies=dg.EnvVar("TEST_PROXIES")),
    }
    with dg.build_resources(resources) as built:
        assert built.county.token == SECRET and SECRET not in repr(built.county) + str(built.county)
        assert SECRET not in repr(built.mls)
        assert len(built.mls.open().proxies.pool.urls) == 2  # the proxies still reach the crawler
