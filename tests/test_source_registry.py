"""The source registry: each source module declares its sources (`DESCRIPTORS`), and what
settings, resources, pools, health, the resolver and costs know about a source comes from there."""

from __future__ import annotations

import pytest
import yaml

from phoenix_dagster.monitoring.health import FAILING_STATES, first_required_failure
from phoenix_dagster.schemas.ops import ServiceHealth
from phoenix_dagster.settings import PRICES_FILE, ConfigError, Settings
from phoenix_dagster.sources.registry import descriptor, descriptors, names, services

pytestmark = pytest.mark.unit


def test_the_shipped_sources_are_declared_once_each():
    assert set(names(descriptors(), "assessor")) == {"sample", "maricopa"}
    assert set(names(descriptors(), "listings")) == {"sample", "reso", "csv_inbox", "mls_html"}
    keys = [source.key for source in descriptors()]
    assert len(keys) == len(set(keys))


def test_an_unknown_source_is_an_error_naming_the_known_ones(tmp_path):
    with pytest.raises(KeyError, match=r"no listings source named 'zillow'.*mls_html"):
        descriptor(descriptors(), "listings", "zillow")
    with pytest.raises(ConfigError, match=r"PHOENIX_LISTING_SOURCE: 'zillow' is not one of .*mls_html"):
        Settings.from_env({"PHOENIX_DATA_DIR": str(tmp_path), "PHOENIX_LISTING_SOURCE": "zillow"})
    with pytest.raises(ConfigError, match=r"PHOENIX_SOURCE_MODULES: 'no_such_module' does not import"):
        Settings.from_env({"PHOENIX_DATA_DIR": str(tmp_path), "PHOENIX_SOURCE_MODULES": "no_such_module"})


def test_every_probed_service_can_be_recorded_and_says_what_to_check_when_it_fails():
    service = ServiceHealth.to_schema().columns["service"]
    for source in descriptors():
        if source.service:
            assert set(source.remedies) >= FAILING_STATES, (source.name, sorted(source.remedies))
            service.validate(__import__("polars").DataFrame({"service": [source.service]}))


def test_a_failing_source_probe_names_its_remedy():
    from datetime import UTC, datetime

    from phoenix_dagster.monitoring.health import ProbeResult

    result = ProbeResult("reso", True, "refused", None, "401 from /Property", datetime.now(UTC))
    assert first_required_failure([result], descriptors()) == (
        "reso refused: 401 from /Property — check RESO_API_TOKEN"
    )


def test_every_shipped_source_that_calls_out_has_its_request_price():
    prices = yaml.safe_load(PRICES_FILE.read_text())["prices"]
    missing = [source.name for source in descriptors() if source.service and source.price_key not in prices]
    assert not missing, f"no <source>_request price in data/unit_prices.yaml for {missing}"


def test_each_source_reads_its_own_settings_and_secrets_from_the_environment(tmp_path):
    settings = Settings.from_env(
        {
            "PHOENIX_DATA_DIR": str(tmp_path),
            "PHOENIX_LISTING_SOURCE": "reso,mls_html",
            "RESO_API_URL": "https://feed.example/odata",
            "RESO_PAGE_SIZE": "50",
            "RESO_API_TOKEN": "t0ken-value",
            "MLS_BASE_URL": "https://mls.example",
        }
    )
    reso, mls = settings.configured_sources[1:]
    assert settings.settings_of(reso).page_size == 50 and settings.settings_of(mls).url == "https://mls.example"
    assert settings.has_secret("RESO_API_TOKEN") and "t0ken-value" not in repr(settings)
    assert [s.name for s in settings.configured_sources if s.complete] == ["mls_html"]
    assert services(settings.configured_sources) == ("reso", "mls_html")


def test_two_configured_sources_probing_one_service_are_refused(tmp_path, monkeypatch):
    from phoenix_dagster.sources import registry

    twin = registry.descriptor(descriptors(), "listings", "reso")
    twin = type(twin)(**{**twin.__dict__, "name": "reso_twin"})  # a second feed declaring the same service
    monkeypatch.setattr(registry, "descriptors", lambda modules=(), env=None: (*descriptors(), twin))
    with pytest.raises(ConfigError, match="two configured sources probe the same service: reso, reso"):
        Settings.from_env({"PHOENIX_DATA_DIR": str(tmp_path), "PHOENIX_LISTING_SOURCE": "reso,reso_twin"})


def test_a_source_name_that_cannot_name_an_asset_or_a_pool_is_refused():
    from phoenix_dagster.sources.registry import SourceDescriptor

    for field, value in (("name", "Open-House"), ("service", "open house"), ("pool", "../pool")):
        fields = {"name": "open_house", field: value}
        with pytest.raises(ValueError, match=f"its {field} '"):
            SourceDescriptor("listings", resource=lambda *_: None, **fields)


def test_a_pool_limit_comes_from_its_sources_settings_or_the_listing_default(tmp_path):
    from phoenix_dagster.graph.pools import pool_limits

    settings = Settings.from_env(
        {
            "PHOENIX_DATA_DIR": str(tmp_path),
            "PHOENIX_ASSESSOR_SOURCE": "maricopa",
            "PHOENIX_LISTING_SOURCE": "reso,csv_inbox",
            "MARICOPA_POOL_LIMIT": "3",
            "PHOENIX_LISTING_POOL_LIMIT": "2",
        }
    )
    assert pool_limits(settings) == {"maricopa_api": 3, "listing_source_reso": 2, "listing_source_csv_inbox": 2}
