"""Service health probes: each probe's states against the project's loopback
servers (the county contract, RESO, the MLS site, the Ollama stand-in), closed ports and a
socket that accepts but never answers; MongoDB through mongomock (up, degraded) and a real
pymongo client against closed and silent ports (down). httpx.MockTransport only where no
loopback server can produce the reply (a 403 robots.txt, malformed bodies)."""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import httpx
import mongomock
import pymongo
import pytest
from listing_fixtures import sample_listings as listings
from pymongo.errors import OperationFailure
from servers.maricopa import MaricopaContractServer, delay, status
from servers.mls_html import MlsHtmlServer
from servers.ollama import OllamaServer
from servers.reso import ResoContractServer

from assets.health import probe_resource_keys, probe_round
from phoenix_dagster.definitions import build_resources
from phoenix_dagster.monitoring import health
from phoenix_dagster.monitoring.health import (
    PROPERTIES_INDEXES,
    ProbeResult,
    first_required_failure,
    probe_mongodb,
    probe_ollama,
    scrub,
)
from phoenix_dagster.settings import PROJECT_ROOT, Settings
from phoenix_dagster.sources.maricopa import probe_county_api
from phoenix_dagster.sources.mls_html import MlsHtmlResource, probe_mls_html
from phoenix_dagster.sources.registry import descriptors
from phoenix_dagster.sources.reso import probe_reso

unit, integration = pytest.mark.unit, pytest.mark.integration
TOKEN = "county-s3cret-token"
RESO_TOKEN = "reso-s3cret-token"
ROW = {"APN": "10306005", "SitusAddress": "4027 N 55TH AVE", "SitusZip": "85031", "PropertyType": "RESIDENTIAL"}


def county() -> MaricopaContractServer:
    return MaricopaContractServer({"85031": [ROW]}, {}, token=TOKEN)


@pytest.fixture
def closed_port() -> str:
    """http://127.0.0.1:<a port nothing listens on>."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def silent_port():
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


def mock(handler) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def assert_shape(result: ProbeResult, service: str, state: str) -> None:
    assert (result.service, result.state) == (service, state), result
    assert result.checked_at.tzinfo is UTC
    assert abs(datetime.now(UTC) - result.checked_at).total_seconds() < 30
    assert "\n" not in result.detail and result.detail
    if state in ("up", "degraded"):
        assert result.latency_ms is not None and result.latency_ms >= 0


# -- the county API ---------------------------------------------------------------------
@integration
def test_county_up_with_the_contract_headers():
    with county() as server:
        result = probe_county_api(server.url, TOKEN, query="85031")
        seen = server.requests_to("/search/property")
    assert_shape(result, "county_api", "up")
    assert result.detail == "200 from /search/property/ (TOTAL 1 for q=85031)"
    assert len(seen) == 1 and seen[0].authorization == TOKEN and seen[0].user_agent == "null"
    assert "page=1" in seen[0].path


@integration
def test_county_refused_token_is_its_own_state():
    with county() as server:
        result = probe_county_api(server.url, "not-the-token")
        assert len(server.seen) == 1  # asked once, never retried
    assert_shape(result, "county_api", "refused")
    assert result.latency_ms is not None
    assert result.detail == "500 'Unauthorized access!' from /search/property/: the token was refused"
    assert "not-the-token" not in result.detail


@integration
def test_county_5xx_is_down_and_429_degraded_and_404_misconfigured():
    with county() as server:
        server.fail("/search/property/", status(503, b"busy"), status(429, b"slow down", Retry_After="30"))
        down, limited = probe_county_api(server.url, TOKEN), probe_county_api(server.url, TOKEN)
        wrong_base = probe_county_api(server.url + "/api/v1", TOKEN)
    assert_shape(down, "county_api", "down")
    assert down.detail == "503 from /search/property/"
    assert_shape(limited, "county_api", "degraded")
    assert limited.detail == "429 from /search/property/: rate limited (Retry-After 30)"
    assert_shape(wrong_base, "county_api", "misconfigured")
    assert wrong_base.detail == "404 from /search/property/: is MARICOPA_API_URL right?"


@integration
def test_the_county_probe_takes_its_turn_at_the_rate_limiter_and_honours_a_retry_after():
    """Two runs started together sent 152 requests under a limit of 150 an hour: their preflight
    probes went around the limiter. Now a full window, or a Retry-After in force, leaves the probe
    unsent (degraded, which never fails a run), and a 429 it gets pauses every collector."""
    from phoenix_dagster.sources.rate_limit import SlidingWindowLimiter

    with county() as server:
        full = SlidingWindowLimiter(2, 3600)
        full.acquire(), full.acquire()
        result = probe_county_api(server.url, TOKEN, limiter=full, timeout_s=0.5)
        assert result.state == "degraded" and "not probed" in result.detail and server.seen == []
        paused = SlidingWindowLimiter(100, 3600)
        paused.pause(120)  # a collector was told Retry-After: 120
        assert probe_county_api(server.url, TOKEN, limiter=paused, timeout_s=0.5).state == "degraded"
        assert server.seen == []
        free = SlidingWindowLimiter(100, 3600)
        assert probe_county_api(server.url, TOKEN, limiter=free).state == "up" and len(server.seen) == 1
        assert len(free._grants) == 1  # the probe's request counted in the window
        server.fail("/search/property/", status(429, b"slow down", Retry_After="90"))
        assert probe_county_api(server.url, TOKEN, limiter=free).state == "degraded"
        started = time.monotonic()
        with pytest.raises(RuntimeError, match="stopped"):  # the next collector's turn is 90 s away
            free.acquire(sleep=lambda seconds: (_ for _ in ()).throw(RuntimeError(f"stopped: {seconds:.0f} s")))
        assert time.monotonic() - started < 1


@integration
def test_county_closed_port_is_down(closed_port):
    result = probe_county_api(closed_port, TOKEN)
    assert_shape(result, "county_api", "down")
    assert result.latency_ms is None
    assert result.detail == f"connection refused at {closed_port.removeprefix('http://')}"


@integration
def test_county_slow_reply_times_out_as_down():
    with county() as server:
        server.fail("/search/property/", delay(3.0))
        started = time.perf_counter()
        result = probe_county_api(server.url, TOKEN, timeout_s=0.3)
        elapsed = time.perf_counter() - started
    assert_shape(result, "county_api", "down")
    assert result.detail == f"no reply from {server.address} within 0.3 s"
    assert elapsed < 2.0


@unit
def test_county_without_token_is_misconfigured_and_asks_nothing():
    asked = []
    result = probe_county_api("https://mcassessor.maricopa.gov", None, mock(lambda r: asked.append(r)))
    assert_shape(result, "county_api", "misconfigured")
    assert "MARICOPA_API_TOKEN is not set" in result.detail and asked == [] and result.latency_ms is None


@unit
def test_county_401_counts_as_refused_and_odd_200_as_degraded():
    refused = probe_county_api("https://c.example", TOKEN, mock(lambda r: httpx.Response(401, text="no")))
    assert_shape(refused, "county_api", "refused")
    assert refused.detail == "401 from /search/property/: the credentials were refused"
    odd = probe_county_api("https://c.example", TOKEN, mock(lambda r: httpx.Response(200, text="<html>maintenance")))
    assert_shape(odd, "county_api", "degraded")
    assert "not the {TOTAL, Results} envelope" in odd.detail


# -- RESO and the MLS site ----------------------------------------------------------------
@integration
def test_reso_up_refused_and_5xx():
    with ResoContractServer(listings(), token=RESO_TOKEN) as server:
        up = probe_reso(server.url, RESO_TOKEN, zip_code="85031")
        refused = probe_reso(server.url, "wrong-token")
        server.fail_statuses.append(503)
        down = probe_reso(server.url, RESO_TOKEN)
        asked = server.seen[0]
    assert_shape(up, "reso", "up")
    assert up.detail == "200 from /reso/odata/Property (1 listing(s) for 85031 with $top=1)"
    assert asked["query"] == {"$filter": "PostalCode eq '85031'", "$top": "1"}
    assert asked["authorization"] == f"Bearer {RESO_TOKEN}"
    assert_shape(refused, "reso", "refused")
    assert refused.detail == "401 from /reso/odata/Property: the credentials were refused"
    assert_shape(down, "reso", "down")


@integration
def test_reso_closed_port_is_down(closed_port):
    result = probe_reso(closed_port + "/reso/odata", RESO_TOKEN)
    assert_shape(result, "reso", "down")
    assert result.detail.startswith("connection refused at 127.0.0.1:")


@unit
def test_reso_missing_settings_and_non_odata_reply():
    assert probe_reso(None, RESO_TOKEN).detail == "RESO_API_URL is not set"
    no_token = probe_reso("https://reso.example/odata", None)
    assert_shape(no_token, "reso", "misconfigured")
    assert no_token.detail == "RESO_API_TOKEN is not set"
    html = probe_reso("https://reso.example/odata", RESO_TOKEN, mock(lambda r: httpx.Response(200, text="<html>")))
    assert_shape(html, "reso", "degraded")


@integration
def test_mls_up_and_robots_forbidding_the_search_is_misconfigured():
    with MlsHtmlServer(listings()) as server:
        up = probe_mls_html(server.url, user_agent="PhoenixEstateBot/0.1")
        server.disallow = ["/search"]
        blocked = probe_mls_html(server.url, user_agent="PhoenixEstateBot/0.1")
        paths, agents = [s["path"] for s in server.seen], {s["user_agent"] for s in server.seen}
    assert_shape(up, "mls_html", "up")
    assert_shape(blocked, "mls_html", "misconfigured")
    assert blocked.detail == "robots.txt disallows /search for our user agent: the crawl would fetch nothing"
    assert paths == ["/robots.txt", "/robots.txt"] and agents == {"PhoenixEstateBot/0.1"}


@integration
def test_mls_closed_port_is_down(closed_port):
    assert_shape(probe_mls_html(closed_port), "mls_html", "down")


@unit
def test_mls_403_is_refused_404_is_up_and_5xx_down():
    assert_shape(probe_mls_html("https://mls.example", mock(lambda r: httpx.Response(403))), "mls_html", "refused")
    assert_shape(probe_mls_html("https://mls.example", mock(lambda r: httpx.Response(404))), "mls_html", "up")
    assert_shape(probe_mls_html("https://mls.example", mock(lambda r: httpx.Response(502))), "mls_html", "down")
    assert probe_mls_html(None).state == "misconfigured"


# -- Ollama -------------------------------------------------------------------------------
@integration
def test_ollama_up_when_the_model_is_listed_as_latest():
    with OllamaServer(models=("llama3.2:latest",)) as server:
        result = probe_ollama(server.url, "llama3.2")
    assert_shape(result, "ollama", "up")
    assert result.detail == "Ollama 0.6.0-standin; model llama3.2 listed"


@integration
def test_ollama_model_missing_is_misconfigured():
    with OllamaServer(models=("qwen2.5:latest", "mistral:7b")) as server:
        result = probe_ollama(server.address, "llama3.2")  # a bare host:port, as OLLAMA_HOST may be
    assert_shape(result, "ollama", "misconfigured")
    assert result.detail == "model llama3.2 not in /api/tags (have: mistral:7b, qwen2.5:latest)"


@integration
def test_ollama_down_and_not_ollama(closed_port):
    down = probe_ollama(closed_port, "llama3.2")
    assert_shape(down, "ollama", "down")
    assert down.required is False
    with MlsHtmlServer([]) as other:  # something else answers on OLLAMA_HOST
        wrong = probe_ollama(other.url, "llama3.2")
    assert_shape(wrong, "ollama", "misconfigured")
    assert wrong.detail == "404 from /api/version: is OLLAMA_HOST right?"


@unit
def test_ollama_host_is_read_as_the_ollama_client_reads_it():
    assert health.ollama_base_url("127.0.0.1") == "http://127.0.0.1:11434"
    assert health.ollama_base_url("http://10.0.0.5:8080") == "http://10.0.0.5:8080"


@integration
@pytest.mark.parametrize(
    "probe",
    [
        lambda url: probe_ollama(url, "llama3.2", timeout_s=0.3),
        lambda url: probe_county_api(url, TOKEN, timeout_s=0.3),
        lambda url: probe_reso(url, RESO_TOKEN, timeout_s=0.3),
        lambda url: probe_mls_html(url, timeout_s=0.3),
    ],
    ids=["ollama", "county_api", "reso", "mls_html"],
)
def test_a_server_that_never_answers_times_out_as_down(silent_port, probe):
    started = time.perf_counter()
    result = probe(silent_port)
    assert time.perf_counter() - started < 2.0
    assert result.state == "down" and result.latency_ms is None
    assert result.detail == f"no reply from {silent_port.removeprefix('http://')} within 0.3 s"


# -- MongoDB ------------------------------------------------------------------------------
@pytest.fixture
def stand_in():
    from phoenix_dagster.documents.properties import ensure_indexes  # the indexes serving really creates

    client = mongomock.MongoClient()
    ensure_indexes(client["phoenix"]["properties"])
    return client


@unit
def test_expected_indexes_are_the_ones_serving_creates():
    from phoenix_dagster.documents.properties import INDEXES

    assert tuple(options["name"] for _, options in INDEXES) == PROPERTIES_INDEXES


@unit
def test_mongodb_up_and_degraded_with_the_missing_index_named(stand_in):
    up = probe_mongodb(stand_in, "phoenix", "properties", PROPERTIES_INDEXES)
    assert_shape(up, "mongodb", "up")
    assert up.required is False
    stand_in["phoenix"]["properties"].drop_index("property_id_unique")
    degraded = probe_mongodb(stand_in, "phoenix", "properties", PROPERTIES_INDEXES)
    assert_shape(degraded, "mongodb", "degraded")
    assert degraded.detail == "index property_id_unique missing on phoenix.properties"
    fresh = probe_mongodb(stand_in, "elsewhere", "properties", ["property_id_unique", "price"])
    assert fresh.detail == (
        "indexes property_id_unique, price missing on elsewhere.properties "
        "(collection properties has none yet: serving creates them)"
    )


@integration
def test_mongodb_closed_port_is_down_without_the_password(closed_port):
    port = closed_port.rsplit(":", 1)[1]
    uri = f"mongodb://reader:p%40ss-w0rd-xyz@127.0.0.1:{port}/phoenix?authSource=admin"
    started = time.perf_counter()
    result = probe_mongodb(uri, "phoenix", "properties", PROPERTIES_INDEXES, timeout_s=0.5)
    assert time.perf_counter() - started < 5
    assert_shape(result, "mongodb", "down")
    assert result.detail == (
        f"no answer from MongoDB at 127.0.0.1:{port} within 0.5 s: connection refused (ServerSelectionTimeoutError)"
    )
    assert "p%40ss" not in result.detail and "p@ss" not in result.detail and "reader" not in result.detail


@integration
def test_mongodb_silent_server_is_bounded_by_the_probe_timeout_even_for_a_patient_client(silent_port):
    port = silent_port.rsplit(":", 1)[1]
    client = pymongo.MongoClient(f"mongodb://127.0.0.1:{port}", serverSelectionTimeoutMS=30_000)
    try:
        started = time.perf_counter()
        result = probe_mongodb(client, "phoenix", "properties", PROPERTIES_INDEXES, timeout_s=0.5)
        assert time.perf_counter() - started < 5
    finally:
        client.close()
    assert_shape(result, "mongodb", "down")


@unit
def test_mongodb_auth_failure_is_refused_and_bad_uri_misconfigured():
    class Refusing:
        class admin:
            @staticmethod
            def command(name):
                raise OperationFailure("Authentication failed.", code=18)

    assert_shape(probe_mongodb(Refusing(), "phoenix", "properties", ()), "mongodb", "refused")
    bad = probe_mongodb("mongodb://admin:hunter2-secret@", "phoenix", "properties", ())
    assert_shape(bad, "mongodb", "misconfigured")
    assert "hunter2" not in bad.detail


# -- secrets ------------------------------------------------------------------------------
@unit
def test_scrub_masks_userinfo_and_secrets():
    line = scrub("failed: mongodb+srv://u:pw@h.example/db and https://x:y@a.b/c token=abc123\nmore", ["abc123"])
    assert line == "failed: mongodb+srv://***@h.example/db and https://***@a.b/c token=*** more"
    # a short secret is masked where it stands alone, not inside every word that contains it
    assert scrub("pw=pw1 in pw1x", ["pw1"]) == "pw=*** in pw1x"


@unit
def test_no_secret_reaches_detail_even_when_an_error_carries_it():
    def leaky(request: httpx.Request):
        raise httpx.RemoteProtocolError(f"peer echoed {request.headers['AUTHORIZATION']} back", request=request)

    county_result = probe_county_api("https://c.example", TOKEN, mock(leaky))
    assert county_result.state == "down"
    assert county_result.detail == "RemoteProtocolError from c.example:443: peer echoed *** back"

    def url_in_error(request: httpx.Request):
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    in_url = probe_mls_html("https://crawler:pw-in-url@mls.example", mock(url_in_error))
    assert in_url.state == "down" and "pw-in-url" not in in_url.detail and "crawler" not in in_url.detail

    def reso_leaky(request: httpx.Request):
        raise httpx.ReadError(f"bad {request.headers['Authorization']}", request=request)

    reso_result = probe_reso("https://reso.example/odata", RESO_TOKEN, mock(reso_leaky))
    assert RESO_TOKEN not in reso_result.detail and reso_result.state == "down"


@integration
def test_no_secret_in_any_detail_of_a_full_probe():
    with county() as c, ResoContractServer(listings(), token=RESO_TOKEN) as reso:
        results = [
            probe_county_api(c.url, TOKEN),
            probe_county_api(c.url, TOKEN + "x"),
            probe_reso(reso.url, RESO_TOKEN),
            probe_reso(reso.url, RESO_TOKEN + "x"),
        ]
    assert [r.state for r in results] == ["up", "refused", "up", "refused"]
    assert not any(secret in r.detail for r in results for secret in (TOKEN, RESO_TOKEN))


# -- all together -------------------------------------------------------------------------
def configured(tmp_path: Path, **env) -> Settings:
    return Settings.from_env({"PHOENIX_DATA_DIR": str(tmp_path), **env})


def probe_all(settings: Settings, secrets: dict[str, str], **options) -> list[ProbeResult]:
    """One probe round through the resources these settings build, the secrets in the environment
    (as a deployment's are) for EnvVar to read."""
    wanted = probe_resource_keys(settings) - {"control_state"}
    with pytest.MonkeyPatch.context() as env:
        for name, value in secrets.items():
            env.setenv(name, value)
        settings = dataclasses.replace(settings, secrets_set=frozenset(secrets))
        resources = {key: r for key, r in build_resources(settings).items() if key in wanted}
        with dg.build_resources(resources) as built:
            return probe_round(settings, built, **options)


@integration
def test_probe_all_probes_what_the_settings_configure(tmp_path, closed_port, stand_in):
    with county() as c, ResoContractServer(listings(), token=RESO_TOKEN) as reso, MlsHtmlServer(listings()) as mls:
        settings = configured(
            tmp_path,
            PHOENIX_ASSESSOR_SOURCE="maricopa",
            MARICOPA_API_URL=c.url,
            PHOENIX_LISTING_SOURCE="sample,reso,mls_html",
            RESO_API_URL=reso.url,
            MLS_BASE_URL=mls.url,
            OLLAMA_HOST=closed_port,
            MONGODB_DATABASE="phoenix",
        )
        secrets = {"MARICOPA_API_TOKEN": TOKEN, "RESO_API_TOKEN": RESO_TOKEN}
        results = probe_all(settings, secrets, mongo_client=stand_in, timeout_s=1.0)
        assert c.requests_to("/search/property")[0].path.startswith("/search/property/?q=85031&page=1")
        assert mls.seen[0]["user_agent"] == settings.settings_of(settings.configured_sources[-1]).user_agent
    assert [(r.service, r.required, r.state) for r in results] == [
        ("county_api", True, "up"),
        ("reso", True, "up"),
        ("mls_html", True, "up"),
        ("ollama", False, "down"),
        ("mongodb", False, "up"),
    ]
    assert first_required_failure(results) is None  # Ollama down is a WARN, not a failed run


@integration
def test_probe_all_on_the_sample_probes_only_ollama_and_a_configured_mongodb(tmp_path, closed_port):
    settings = configured(tmp_path, OLLAMA_HOST=closed_port)
    assert [r.service for r in probe_all(settings, {})] == ["ollama"]
    results = probe_all(
        settings, {"MONGODB_URI": f"mongodb://u:topsecret@{closed_port.removeprefix('http://')}"}, timeout_s=0.3
    )
    assert [(r.service, r.state) for r in results] == [("ollama", "down"), ("mongodb", "down")]
    assert "topsecret" not in results[1].detail


@integration
def test_probe_all_missing_token_fails_fast_and_optional_sources_do_not(tmp_path, closed_port):
    settings = configured(
        tmp_path,
        PHOENIX_ASSESSOR_SOURCE="maricopa",
        MARICOPA_API_URL=closed_port,
        PHOENIX_LISTING_SOURCE="reso",
        RESO_API_URL=closed_port,
        PHOENIX_OPTIONAL_SOURCES="reso",
        OLLAMA_HOST=closed_port,
    )
    results = probe_all(settings, {"RESO_API_TOKEN": RESO_TOKEN}, timeout_s=0.3)
    assert [(r.service, r.required, r.state) for r in results] == [
        ("county_api", True, "misconfigured"),
        ("reso", False, "down"),
        ("ollama", False, "down"),
    ]
    assert first_required_failure(results, settings.sources) == (
        "county_api misconfigured: MARICOPA_API_TOKEN is not set: the county refuses every request without one — "
        "check MARICOPA_API_URL and MARICOPA_API_TOKEN"
    )


@unit
def test_an_mls_site_with_unreadable_selectors_is_misconfigured(tmp_path):
    broken = tmp_path / "selectors.yaml"
    broken.write_text("version: [")
    site = MlsHtmlResource(url="https://mls.example", selectors_file=str(broken))
    silent = mock(lambda r: httpx.Response(404))
    result = site.probe(zip_code="85031", required=True, http=silent)
    assert (result.service, result.state) == ("mls_html", "misconfigured")
    assert result.detail.startswith("MLS_SELECTORS_FILE does not load")


# -- the one line a run fails with --------------------------------------------------------
def result(service: str, state: str, required: bool, detail: str = "why") -> ProbeResult:
    return ProbeResult(service, required, state, None, detail, datetime.now(UTC))


@unit
def test_first_required_failure_picks_the_required_one_and_ignores_optional_and_degraded():
    results = [
        result("ollama", "down", False),
        result("mongodb", "refused", False),
        result("reso", "degraded", True, "429 from /Property: rate limited"),
        result(
            "county_api", "refused", True, "500 'Unauthorized access!' from /search/property/: the token was refused"
        ),
        result("mls_html", "down", True),
    ]
    assert first_required_failure(results, descriptors()) == (
        "county_api refused: 500 'Unauthorized access!' from "
        "/search/property/: the token was refused — check MARICOPA_API_TOKEN"
    )
    assert first_required_failure(results[:3]) is None
    assert first_required_failure([result("county_api", "up", True)]) is None
    assert first_required_failure([]) is None


@integration
def test_the_module_imports_no_dagster():
    code = "import sys, phoenix_dagster.monitoring.health; print('dagster' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
