"""A blip in the county limiter's shared store (Redis, PostgreSQL) pauses the requests and
retries with backoff; past PHOENIX_RATE_LIMIT_STORE_OUTAGE_S the collection fails naming the
store (never its password), with the requests it made recorded. The store is reached through a
loopback TCP proxy the test closes and opens again: the machine's own Redis and PostgreSQL, which
other tests use, are never stopped."""

from __future__ import annotations

import threading
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import polars as pl
import pytest
from platform_harness import DAY, make_platform
from servers.maricopa import MaricopaContractServer
from servers.tcp_proxy import TcpProxy
from services import service_url

from phoenix_dagster.settings import SAMPLE_DIR
from phoenix_dagster.sources.rate_limit_stores import RateLimitStoreUnavailable, store_limiter

pytestmark = pytest.mark.integration

SECRET = "s3cret-store-password"


def _with_password(url: str) -> str:
    """The store's URL with a password in it (PostgreSQL here trusts loopback and ignores it; Redis
    has none set, so its URL keeps none)."""
    parts = urlsplit(url)
    if parts.scheme.startswith("postgres"):
        return urlunsplit(
            parts._replace(netloc=f"{parts.username or 'postgres'}:{SECRET}@{parts.hostname}:{parts.port}")
        )
    return url


@pytest.mark.parametrize("kind", ["redis", "postgresql"])
def test_a_store_that_comes_back_within_the_bound_only_delays_the_request(kind):
    with TcpProxy.before(service_url(kind)) as proxy:
        limiter = store_limiter(
            proxy.url(_with_password(service_url(kind))),
            f"outage-{uuid.uuid4().hex[:8]}",
            limit=100,
            window_s=60,
            outage_s=30,
        )
        assert limiter.acquire() == 0  # connected through the proxy
        proxy.close()  # the store goes away: open connections cut, new ones refused
        reopen = threading.Timer(1.5, proxy.open)
        reopen.start()
        started = time.monotonic()
        limiter.acquire()  # waits it out (PostgreSQL: on a new connection)
        assert time.monotonic() - started >= 1.4
        limiter.pause(0.01)
        assert limiter.acquire() >= 0  # and keeps working
        reopen.join()


@pytest.mark.parametrize("kind", ["redis", "postgresql"])
def test_past_the_bound_the_error_names_the_store_and_not_its_password(kind):
    with TcpProxy.before(service_url(kind)) as proxy:
        url = proxy.url(_with_password(service_url(kind)))
        limiter = store_limiter(url, f"outage-{uuid.uuid4().hex[:8]}", limit=100, window_s=60, outage_s=1)
        limiter.acquire()
        proxy.close()
        started = time.monotonic()
        with pytest.raises(RateLimitStoreUnavailable) as failure:
            limiter.acquire()
        assert 1 <= time.monotonic() - started < 15
    message = str(failure.value)
    assert "PHOENIX_RATE_LIMIT_STORE" in message and f"127.0.0.1:{proxy.port}" in message, message
    assert "PHOENIX_RATE_LIMIT_STORE_OUTAGE_S" in message and SECRET not in message


def test_a_store_gone_mid_collection_fails_the_step_naming_it_with_the_requests_recorded(tmp_path, monkeypatch):
    token = "outage-token"
    with (
        TcpProxy.before(service_url("postgresql")) as proxy,
        MaricopaContractServer.from_sample(SAMPLE_DIR, token=token) as county,
    ):
        county.parcel_delay_s = 0.02  # the details take a while: the store goes away among them
        store = proxy.url(_with_password(service_url("postgresql")))
        for name, value in (("MARICOPA_API_TOKEN", token), ("PHOENIX_RATE_LIMIT_STORE", store)):
            monkeypatch.setenv(name, value)  # secrets reach resources through EnvVar only
        platform = make_platform(
            tmp_path / "data",
            env={
                "PHOENIX_ASSESSOR_SOURCE": "maricopa",
                "MARICOPA_API_URL": county.url,
                "MARICOPA_API_TOKEN": token,
                "PHOENIX_RATE_LIMIT_STORE": store,
                "PHOENIX_RATE_LIMIT_STORE_OUTAGE_S": "1",
                "MARICOPA_RATE_LIMIT_PER_HOUR": "1000000",
                "MARICOPA_CONCURRENCY": "1",
            },
        )

        def close_among_the_details():  # the store goes away once the collection is well under way
            deadline = time.monotonic() + 60
            while sum(s.path.startswith("/parcel/") for s in county.seen) < 5 and time.monotonic() < deadline:
                time.sleep(0.01)
            proxy.close()

        threading.Thread(target=close_among_the_details, daemon=True).start()
        [outcome] = platform.run(DAY, ["85031"], build=False)
    assert not outcome.ok
    assert "PHOENIX_RATE_LIMIT_STORE" in outcome.error and "has not answered" in outcome.error, outcome.error
    assert SECRET not in outcome.error
    requests = pl.concat(
        [
            pl.read_parquet(path)
            for path in (platform.settings.lake_dir / "_bookkeeping" / "source_requests").rglob(
                "raw_assessor_payloads__*"
            )
        ]
    )
    made = int(requests["requests"].sum())
    assert made > 1 and made == sum(1 for seen in county.seen if seen.path.startswith(("/search", "/parcel"))) - 1
