"""The source registry: each source module declares its sources (`DESCRIPTORS`), and what health,
the resolver and costs read about a source comes from there. Until every table keyed by source
names is built from the registry, the ones that still list names must agree with it."""

from __future__ import annotations

import pytest
import yaml

from phoenix_dagster.monitoring.health import FAILING_STATES, OWN_SERVICES, first_required_failure
from phoenix_dagster.schemas.ops import ServiceHealth
from phoenix_dagster.settings import ASSESSOR_SOURCES, LISTING_SOURCES, PRICES_FILE
from phoenix_dagster.sources.registry import descriptor, descriptors, names, services

pytestmark = pytest.mark.unit


def test_every_source_the_settings_accept_is_declared_once():
    assert set(names("assessor")) == set(ASSESSOR_SOURCES)
    assert set(names("listings")) == set(LISTING_SOURCES)
    keys = [(source.kind, source.name) for source in descriptors()]
    assert len(keys) == len(set(keys))


def test_an_unknown_source_is_an_error_naming_the_known_ones():
    with pytest.raises(KeyError, match=r"no listings source named 'zillow'.*mls_html"):
        descriptor("listings", "zillow")


def test_every_probed_service_can_be_recorded_and_says_what_to_check_when_it_fails():
    allowed = set(ServiceHealth.to_schema().columns["service"].checks[0].statistics["allowed_values"])
    assert allowed == set(OWN_SERVICES) | set(services())
    for source in descriptors():
        if source.service:
            assert set(source.remedies) >= FAILING_STATES, (source.name, sorted(source.remedies))


def test_a_failing_source_probe_names_its_remedy():
    from datetime import UTC, datetime

    from phoenix_dagster.monitoring.health import ProbeResult

    result = ProbeResult("reso", True, "refused", None, "401 from /Property", datetime.now(UTC))
    assert first_required_failure([result]) == "reso refused: 401 from /Property — check RESO_API_TOKEN"


def test_every_source_that_calls_out_has_its_request_price():
    prices = yaml.safe_load(PRICES_FILE.read_text())["prices"]
    missing = [source.name for source in descriptors() if source.service and f"{source.name}_request" not in prices]
    assert not missing, f"no <source>_request price in data/unit_prices.yaml for {missing}"


def test_complete_listing_sources_are_the_ones_that_list_a_whole_zip():
    assert {name for name in names("listings") if descriptor("listings", name).complete} == {"sample", "mls_html"}
