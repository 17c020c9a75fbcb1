"""The Maricopa client against a real socket: tests/servers/maricopa.py speaks the county's contract."""

import re
import threading
import time
from datetime import UTC

import pytest
from servers.maricopa import CORRUPT_GZIP, EMPTY, MALFORMED, RESET, TRUNCATE, MaricopaContractServer, delay, status
from services import service_url

from phoenix_dagster.settings import DEFAULT_RESIDENTIAL_TYPES
from phoenix_dagster.sources.assessor_crawl import crawl_zip
from phoenix_dagster.sources.http import RetryBudget, retry_after_seconds
from phoenix_dagster.sources.maricopa import MaricopaApi, MaricopaAuthError
from phoenix_dagster.sources.rate_limit import SlidingWindowLimiter

pytestmark = pytest.mark.integration

TOKEN = "tok-3c1d-secret"


def rows(n: int, zip_code: str = "85031") -> list[dict]:
    out = [
        {
            "APN": f"103{i:05d}",
            "SitusZip": zip_code,
            "PropertyType": "RESIDENTIAL",
            "SitusAddress": f"{i} N 1ST AVE",
            "SitusCity": "PHOENIX",
            "MCR": "1",
            "SubdivisonName": "X",
            "SectionTownshipRange": "1",
            "Ownership": "(redacted)",
            "RentalID": None,
        }
        for i in range(n)
    ]
    return out


def server_for(n: int = 10, **kwargs) -> MaricopaContractServer:
    search = rows(n)
    parcels = {r["APN"]: (200, f'{{"APN": "{r["APN"]}", "LotSize": "6534"}}'.encode()) for r in search}
    return MaricopaContractServer({"85031": search}, parcels, token=TOKEN, **kwargs)


def api(server, *, token=TOKEN, limit=10_000, window=1.0, budget=100, attempts=4, timeout=2.0) -> MaricopaApi:
    return MaricopaApi(
        server.url,
        token,
        limiter=SlidingWindowLimiter(limit, window),
        budget=RetryBudget(budget),
        timeout_s=timeout,
        max_attempts=attempts,
        backoff_base_s=0.01,
        backoff_cap_s=0.05,
    )


def test_headers_paging_and_the_zip_and_type_filter():
    search = rows(60)
    search[1]["SitusZip"] = "85037"
    search[2]["PropertyType"] = "COMMERCIAL"
    search[3]["PropertyType"] = "VACANT LAND RESIDENTIAL"
    parcels = {r["APN"]: (200, b'{"APN": "x"}') for r in search}
    with MaricopaContractServer({"85031": search}, parcels, token=TOKEN) as server:
        client = api(server)
        result = crawl_zip(client, "85031", DEFAULT_RESIDENTIAL_TYPES)
    search_paths = [r.path for r in server.requests_to("/search")]
    assert search_paths == [f"/search/property/?q=85031&page={n}" for n in (1, 2, 3)]
    fetched = {r.path.rsplit("/", 1)[-1] for r in server.requests_to("/parcel/")}
    assert len(fetched) == 58 and "10300001" not in fetched and "10300002" not in fetched and "10300003" in fetched
    assert {(r.authorization, r.user_agent) for r in server.seen} == {(TOKEN, "null")}
    assert len(result.payloads) == 61 and not result.failures
    assert (
        len(server.seen) / len(result.apns_fetched) < 1.06
    )  # requests per parcel on a full crawl, as the county saw them


def test_429_retry_after_is_honoured_for_everyone():
    with server_for(3) as server:
        server.fail("/parcel/10300000", status(429, b"slow down", Retry_After="1"))
        client = api(server)
        payload = client.parcel("10300000")
        other = client.parcel("10300001")
    assert payload.http_status == 200 and other.http_status == 200
    first, second, third = server.requests_to("/parcel/")
    assert second.at - first.at >= 0.95 and third.at - first.at >= 0.95
    assert [r.outcome for r in client.records] == ["rate_limited", "ok", "ok"]


def test_retry_after_as_an_http_date():
    from datetime import datetime

    now = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("Sat, 28 Nov 2026 12:00:30 GMT", now) == 30
    assert retry_after_seconds("7") == 7 and retry_after_seconds("soon") is None


def test_a_burst_of_5xx_is_retried_then_succeeds():
    with server_for(1) as server:
        server.fail("/parcel/10300000", status(502), status(503), status(500, b"Internal error"))
        client = api(server, attempts=5)
        payload = client.parcel("10300000")
    assert payload.http_status == 200
    assert [r.attempt for r in client.records] == [1, 2, 3, 4]


def test_a_reply_still_failing_after_its_retries_is_landed_as_it_came():
    with server_for(1) as server:
        server.fail("/parcel/10300000", *[status(503, b"down")] * 4)
        payload = api(server, attempts=4).parcel("10300000")
    assert payload.http_status == 503 and payload.body == b"down"


def test_timeouts_are_retried_and_then_reported_not_dropped():
    with server_for(2) as server:
        server.fail("/parcel/10300000", delay(1.0))
        server.fail("/parcel/10300001", delay(1.0), delay(1.0))
        client = api(server, timeout=0.3, attempts=2)
        result = crawl_zip(client, "85031", DEFAULT_RESIDENTIAL_TYPES)
    assert [p.record_key for p in result.payloads if p.entity == "parcel"] == ["10300000"]
    [failure] = result.failures
    assert failure.record_key == "10300001" and "timed out" in failure.reason


def test_a_connection_cut_mid_body_is_retried():
    with server_for(1) as server:
        server.fail("/parcel/10300000", TRUNCATE, RESET)
        client = api(server)
        payload = client.parcel("10300000")
    assert payload.http_status == 200 and payload.body.startswith(b'{"APN"')
    assert [r.outcome for r in client.records] == ["connection", "connection", "ok"]


def test_a_body_that_cannot_be_decoded_is_retried_then_reported_and_the_crawl_goes_on():
    """A reply whose Content-Encoding lies (gzip that is not) is httpx's DecodingError, not a
    transport error: retried like a cut connection, then a failure with a reason for that request
    alone — search page or detail — while the rest of the ZIP is collected."""
    with server_for(60) as server:
        server.fail("/parcel/10300000", CORRUPT_GZIP)
        server.fail("/parcel/10300001", CORRUPT_GZIP, CORRUPT_GZIP)
        client = api(server, attempts=2)
        recovered = client.parcel("10300000")
        assert recovered.http_status == 200 and recovered.body.startswith(b'{"APN"')
        # page 1 answers (after no delay), page 2 is undecodable on both attempts
        server.fail("/search/property/", delay(0), CORRUPT_GZIP, CORRUPT_GZIP)
        result = crawl_zip(client, "85031", DEFAULT_RESIDENTIAL_TYPES, concurrency=1)
    assert [r.outcome for r in client.records[:2]] == ["undecodable", "ok"]
    reasons = {f.record_key: f.reason for f in result.failures}
    assert set(reasons) == {"q=85031&page=2", "10300001"}
    assert all("could not be decoded" in reason for reason in reasons.values())
    assert result.unreadable_pages == ["q=85031&page=2"] and result.search_rows_seen == 35


def test_malformed_and_empty_bodies_are_returned_for_landing_not_retried():
    with server_for(2) as server:
        server.fail("/parcel/10300000", MALFORMED)
        server.fail("/parcel/10300001", EMPTY)
        client = api(server)
        cut, empty = client.parcel("10300000"), client.parcel("10300001")
        missing = client.parcel("99999999")
    assert cut.http_status == 200 and cut.body == b'{"APN": "10300000", "'[: len(cut.body)]
    assert (
        empty.body == b"" and missing.http_status == 404 and missing.body == b"[parcel]:Requested content was not found"
    )
    assert len(server.requests_to("/parcel/")) == 3  # none of them retried


def test_a_refused_token_fails_fast_and_says_what_to_check():
    with server_for(30) as server, pytest.raises(MaricopaAuthError, match="check MARICOPA_API_TOKEN"):
        crawl_zip(api(server, token="wrong"), "85031", DEFAULT_RESIDENTIAL_TYPES)
    assert len(server.seen) == 1


def test_a_token_revoked_mid_crawl_stops_every_thread():
    with server_for(60) as server:
        client = api(server)
        revoked_at = []

        def revoke():
            while len(server.requests_to("/parcel/")) < 5:
                time.sleep(0.001)
            revoked_at.append(time.monotonic())
            server.token = "rotated"

        threading.Thread(target=revoke, daemon=True).start()
        with pytest.raises(MaricopaAuthError):
            crawl_zip(client, "85031", DEFAULT_RESIDENTIAL_TYPES, concurrency=4)
    after = [r for r in server.seen if r.at >= revoked_at[0]]
    assert len(server.requests_to("/parcel/")) < 60
    assert 1 <= len(after) <= 4  # the refusal, and at most one request already in flight per other thread


def test_the_retry_budget_caps_retries_for_the_whole_run():
    with server_for(3) as server:
        for apn in ("10300000", "10300001", "10300002"):
            server.fail(f"/parcel/{apn}", *[status(503)] * 5)
        client = api(server, budget=2, attempts=5)
        statuses = [client.parcel(apn).http_status for apn in ("10300000", "10300001", "10300002")]
    assert statuses == [503, 503, 503]
    assert len(server.requests_to("/parcel/")) == 3 + 2


def test_the_rate_limit_holds_across_concurrent_requests():
    limit, window = 8, 0.5
    with server_for(40) as server:
        client = api(server, limit=limit, window=window)
        started = time.monotonic()
        crawl_zip(client, "85031", DEFAULT_RESIDENTIAL_TYPES, concurrency=5)
        elapsed = time.monotonic() - started
    arrivals = sorted(r.at for r in server.seen)
    assert len(arrivals) == 42
    # any window (less 100 ms for scheduling between the grant and the arrival: the suite runs two
    # workers on two cores) holds ≤ limit; unlimited, all 42 arrive within a few ms
    worst = max(sum(1 for t in arrivals if start <= t < start + window - 0.1) for start in arrivals)
    assert worst <= limit
    assert elapsed >= (42 / limit - 1) * window * 0.95


def test_a_reply_that_inflates_past_the_limit_is_refused_while_it_streams():
    from phoenix_dagster.sources.base import FetchFailed

    with server_for(3) as server:
        apn = next(iter(server.parcels))
        server.parcels[apn] = (200, b'{"APN": "' + apn.encode() + b'", "pad": "' + b"0" * 6_000_000 + b'"}')
        client = MaricopaApi(
            server.url,
            TOKEN,
            limiter=SlidingWindowLimiter(1000, 1.0),
            budget=RetryBudget(10),
            backoff_base_s=0.01,
            max_body_bytes=2**20,
        )
        with pytest.raises(FetchFailed, match=r"reply larger than 1 MB decoded \(PHOENIX_MAX_BODY_MB\)"):
            client.parcel(apn)
        assert [r.outcome for r in client.records] == ["too_large"]  # not retried: it would be as large again
        small = next(a for a in server.parcels if a != apn)
        assert client.parcel(small).http_status == 200  # the limit costs the others nothing
    sent = [r for r in server.seen if r.path == f"/parcel/{apn}"]
    assert len(sent) == 1


@pytest.mark.parametrize(
    "count,ceiling,message",
    [
        (0, 100, "answered TOTAL: 0 (no parcels): check that 85031 belongs in PHOENIX_ZIP_CODES"),
        (60, 50, "answered TOTAL: 60, above the ceiling of 50 rows per ZIP (PHOENIX_MAX_SEARCH_ROWS)"),
    ],
)
def test_a_search_total_of_zero_or_past_the_ceiling_fails_the_zip_with_the_reason(count, ceiling, message):
    with server_for(count) as server:
        client = api(server)
        with pytest.raises(RuntimeError, match=re.escape(message)):
            crawl_zip(client, "85031", DEFAULT_RESIDENTIAL_TYPES, max_rows=ceiling)
    assert len(server.seen) == 1  # page 1 only: nothing more was requested


CRAWL = """
import sys
sys.path.insert(0, {tests!r})
from phoenix_dagster.sources.maricopa import MaricopaResource
from phoenix_dagster.settings import DEFAULT_RESIDENTIAL_TYPES
from phoenix_dagster.sources.assessor_crawl import crawl_zip
resource = MaricopaResource(url={url!r}, token={token!r}, rate_limit_per_hour={limit}, rate_window_s={window},
                            rate_state_dir={state!r}, rate_limit_store={store!r}, backoff_base_s=0.01)
crawl_zip(resource.open(), {zip!r}, DEFAULT_RESIDENTIAL_TYPES, concurrency=3)
"""


def _store(kind: str) -> str | None:
    """The shared store a test runs against: none (the file), or the local service."""
    return None if kind == "file" else service_url(kind)


@pytest.mark.parametrize("kind", ["file", "redis", "postgresql"])
def test_two_processes_stay_under_the_county_limit_combined(tmp_path, kind):
    """Two collectors started together (separate processes, as on two machines when the window is
    in Redis or PostgreSQL) stay under the county's limit combined, counted at the server."""
    import subprocess
    import sys
    from pathlib import Path

    store = _store(kind)

    limit, window = 12, 1.0
    search = rows(25) + rows(25, "85033")
    for i, row in enumerate(search[25:]):
        row["APN"] = f"104{i:05d}"
    parcels = {r["APN"]: (200, f'{{"APN": "{r["APN"]}"}}'.encode()) for r in search}
    with MaricopaContractServer({"85031": search[:25], "85033": search[25:]}, parcels, token=TOKEN) as server:
        code = [
            CRAWL.format(
                tests=str(Path(__file__).parent),
                url=server.url,
                token=TOKEN,
                limit=limit,
                window=window,
                state=str(tmp_path / "rate_limits"),
                store=store,
                zip=z,
            )
            for z in ("85031", "85033")
        ]
        runs = [subprocess.Popen([sys.executable, "-c", c]) for c in code]  # started together
        assert [run.wait(timeout=120) for run in runs] == [0, 0]
    starts = sorted(r.at for r in server.seen)
    assert len(starts) == 2 * (1 + 25)  # a search page and 25 details each
    # any window (less 150 ms for scheduling between the grant and the arrival) holds ≤ limit
    busiest = max(sum(1 for t in starts if s <= t < s + window - 0.15) for s in starts)
    assert busiest <= limit, busiest
    assert starts[-1] - starts[0] >= (len(starts) / limit - 1) * window * 0.9  # they really waited for each other


@pytest.mark.parametrize("kind", ["redis", "postgresql"])
def test_a_retry_after_pause_and_the_window_hold_in_the_shared_store(kind):
    import uuid

    from phoenix_dagster.sources.rate_limit_stores import store_limiter

    url, name = _store(kind), f"test-{uuid.uuid4().hex[:8]}"
    first, second = store_limiter(url, name, 2, 0.6), store_limiter(url, name, 2, 0.6)  # two "machines"
    assert first.acquire() == 0 and second.acquire() == 0
    started = time.monotonic()
    first.acquire()  # the third grant in the window waits for the oldest to leave it
    assert 0.45 <= time.monotonic() - started < 2.0
    time.sleep(0.7)
    second.pause(0.5)  # a 429's Retry-After, said by one, holds the other
    started = time.monotonic()
    first.acquire()
    assert 0.4 <= time.monotonic() - started < 2.0


def test_the_machine_wide_window_survives_a_writer_killed_between_its_write_and_its_truncate(tmp_path):
    """The state file is rewritten in place, then cut to length: a writer killed in between leaves
    the old state's tail after the new state, and the window still counts (and is then tidied)."""
    import json

    from phoenix_dagster.sources.rate_limit import SharedWindowLimiter

    state = tmp_path / "county.json"
    now = time.time()
    limiter = SharedWindowLimiter(state, limit=3, window_s=3600, clock=lambda: now, sleep=lambda s: None)
    limiter.acquire()
    torn = state.read_text() + ', "paused_until": 0.0}'  # a shorter state written over a longer one
    state.write_text(torn)
    limiter.acquire()
    limiter.acquire()
    assert sum(json.loads(state.read_text())["buckets"].values()) == 3
    waits = []
    limiter._sleep = lambda seconds: (waits.append(seconds), (_ for _ in ()).throw(TimeoutError))
    with pytest.raises(TimeoutError):
        limiter.acquire()  # the fourth in the window waits
    assert waits and waits[0] > 3000


@pytest.mark.parametrize(
    "garbage", ['{"buckets": {"2953', "\0\0\0\0", "[1, 2]", '  {"buckets": {}, "paused_until": 0.0}']
)
def test_a_machine_wide_window_that_cannot_be_read_starts_again_empty_and_says_so(tmp_path, caplog, garbage):
    """A half-written or zeroed state file (a crash on a full disk, a power cut) must not stop every
    request on the machine: the window starts again, and the log names the file."""
    import json
    import logging

    from phoenix_dagster.sources.rate_limit import SharedWindowLimiter

    state = tmp_path / "county.json"
    state.write_text(garbage)
    limiter = SharedWindowLimiter(state, limit=3, window_s=3600, clock=time.time, sleep=lambda s: None)
    with caplog.at_level(logging.WARNING, logger="phoenix_dagster.sources.rate_limit"):
        assert limiter.acquire() == 0.0
    assert sum(json.loads(state.read_text())["buckets"].values()) == 1
    readable = garbage.strip().startswith('{"buckets": {}')
    assert (str(state) in caplog.text) is not readable


def test_an_interrupted_crawl_does_not_sleep_out_the_rate_limit(monkeypatch):
    """At the county's limit the requests in flight wait their turn for up to the window (an hour
    after a burst). Interrupted (a terminated run), they give up at once: the crawl ends in
    seconds and makes no request past the limit."""
    import phoenix_dagster.sources.assessor_crawl as crawl

    real_wait, waits = crawl.wait, []

    def interrupted_after_page_one(futures, return_when):
        waits.append(len(futures))
        if len(waits) == 1:  # page 1 goes through
            return real_wait(futures, return_when=return_when)
        time.sleep(0.3)  # the later pages: two granted, the rest asleep in the limiter
        raise KeyboardInterrupt

    monkeypatch.setattr(crawl, "wait", interrupted_after_page_one)
    with server_for(200) as server:
        client = api(server, limit=3, window=3600)
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            crawl.crawl_zip(client, "85031", DEFAULT_RESIDENTIAL_TYPES, concurrency=4)
        elapsed = time.monotonic() - started
    assert elapsed < 5, elapsed
    assert len(server.seen) == 3  # the limit's three, no more


def test_a_collection_stops_asking_once_its_replies_reach_the_total_bytes_cap():
    """PHOENIX_MAX_FETCH_MB: every reply of one collection together, so a source that answers each
    request with a large (but allowed) body cannot stream gigabytes over a partition's thousands of
    requests. Past the cap no request goes out; each detail left is a failure with the reason."""
    search = rows(50)
    big = b'{"APN": "x", "Pad": "' + b"x" * 10_000 + b'"}'
    with MaricopaContractServer({"85031": search}, {r["APN"]: (200, big) for r in search}, token=TOKEN) as server:
        county = MaricopaApi(
            server.url,
            TOKEN,
            limiter=SlidingWindowLimiter(10_000, 1.0),
            budget=RetryBudget(100),
            timeout_s=2.0,
            backoff_base_s=0.01,
            max_fetch_bytes=50_000,
        )
        crawl = crawl_zip(county, "85031", DEFAULT_RESIDENTIAL_TYPES)
    asked = [s for s in server.seen if s.path.startswith("/parcel/")]
    landed = [p for p in crawl.payloads if p.entity == "parcel"]
    assert 1 <= len(asked) <= 5  # the pages (~12 KB each) and details until 50 KB, then nothing
    assert len(landed) + len(crawl.failures) == 50 and len(landed) <= len(asked)  # the last one cut off mid-body
    assert all("PHOENIX_MAX_FETCH_MB" in failure.reason for failure in crawl.failures)
