import json
import threading
import time
from datetime import UTC, datetime

import pytest

from phoenix_dagster.settings import DEFAULT_RESIDENTIAL_TYPES, SAMPLE_DIR
from phoenix_dagster.sources.assessor_crawl import crawl_zip
from phoenix_dagster.sources.base import RawPayload
from phoenix_dagster.sources.sample import SampleAssessorApi

pytestmark = pytest.mark.unit

T = datetime(2026, 11, 28, 7, tzinfo=UTC)


class RecordedApi:
    """An in-memory assessor that answers from a list of search rows; records its calls."""

    name = "recorded"

    def __init__(self, rows: list[dict], bad_pages: tuple[int, ...] = ()):
        self.rows, self.bad_pages, self.calls = rows, bad_pages, []

    def search_page(self, query: str, page: int) -> RawPayload:
        self.calls.append(("search", page))
        body = {"TOTAL": len(self.rows), "Results": self.rows[(page - 1) * 25 : page * 25]}
        text = b"{not json" if page in self.bad_pages else json.dumps(body).encode()
        return RawPayload(self.name, "search_page", f"q={query}&page={page}", "/search", 200, T, text)

    def parcel(self, apn: str) -> RawPayload:
        self.calls.append(("parcel", apn))
        return RawPayload(self.name, "parcel", apn, f"/parcel/{apn}", 200, T, json.dumps({"APN": apn}).encode())


def row(apn: str, zip_code: str = "85031", kind: str = "RESIDENTIAL") -> dict:
    return {"APN": apn, "SitusZip": zip_code, "PropertyType": kind, "SitusAddress": "1 N 1ST AVE"}


def test_pages_through_total_and_fetches_one_detail_per_wanted_parcel():
    rows = [row(f"1000{i:04d}") for i in range(60)]
    rows[3] = row("OTHERZIP", zip_code="85037")
    rows[4] = row("SHOP", kind="COMMERCIAL")
    rows[5] = row("LOT", kind="VACANT LAND RESIDENTIAL")
    rows[6] = row("CLOT", kind="VACANT LAND COMMERCIAL ")
    rows[30] = rows[29]  # a paging shift repeats a row
    api = RecordedApi(rows)
    result = crawl_zip(api, "85031", DEFAULT_RESIDENTIAL_TYPES)
    assert [c for c in api.calls if c[0] == "search"] == [("search", 1), ("search", 2), ("search", 3)]
    fetched = [c[1] for c in api.calls if c[0] == "parcel"]
    assert "OTHERZIP" not in fetched and "SHOP" not in fetched and "CLOT" not in fetched and "LOT" in fetched
    assert len(fetched) == len(set(fetched)) == 60 - 4  # other ZIP, two commercial, one repeat
    assert result.search_rows_seen == 60
    assert len(result.payloads) == 3 + len(fetched)


class SlowFirstPagesApi(RecordedApi):
    """Earlier pages answer later (page 2 slowest), and it counts the searches in flight at once."""

    def __init__(self, rows: list[dict], together: int = 4):
        super().__init__(rows)
        self.lock, self.in_flight, self.most_in_flight = threading.Condition(), 0, 0
        self.together = together

    def search_page(self, query: str, page: int) -> RawPayload:
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.lock.notify_all()
            if page > 1:  # wait (up to 2 s, however loaded the machine) for the others to be in flight too
                self.lock.wait_for(lambda: self.most_in_flight >= self.together, timeout=2.0)
        time.sleep(0.05 * max(0, 6 - page))
        try:
            return super().search_page(query, page)
        finally:
            with self.lock:
                self.in_flight -= 1


def test_search_pages_after_the_first_go_out_concurrently_and_land_in_page_order():
    rows = [row(f"1{i:07d}") for i in range(25 * 5)]
    api = SlowFirstPagesApi(rows)
    result = crawl_zip(api, "85031", DEFAULT_RESIDENTIAL_TYPES, concurrency=4, plan=lambda wanted: [])
    assert api.most_in_flight == 4  # pages 2–5 at once, within the concurrency
    pages = [p.record_key for p in result.payloads]
    assert pages == [f"q=85031&page={n}" for n in range(1, 6)]  # page order, though page 2 answered last
    assert result.apns_wanted == [r["APN"] for r in rows]  # the rows in the county's order


def test_an_interrupted_crawl_makes_no_more_requests(monkeypatch):
    """A terminated run interrupts the thread waiting on the requests: those in flight finish, the
    queued ones are never made (they would spend the county's quota for a run nobody wants)."""
    import phoenix_dagster.sources.assessor_crawl as crawl

    made = []

    def request():
        made.append(time.monotonic())
        time.sleep(0.05)

    def interrupted(futures, return_when):
        time.sleep(0.12)
        raise KeyboardInterrupt

    monkeypatch.setattr(crawl, "wait", interrupted)
    with pytest.raises(KeyboardInterrupt):
        crawl.fetch_in_order([(request, str(i), f"/parcel/{i}") for i in range(40)], 2)
    settled = len(made)
    time.sleep(0.3)
    assert len(made) == settled <= 8  # ~3 rounds of 2 before the interrupt, none after


def test_an_unreadable_search_page_is_kept_and_reported():
    api = RecordedApi([row(f"1{i:07d}") for i in range(60)], bad_pages=(2,))
    result = crawl_zip(api, "85031", DEFAULT_RESIDENTIAL_TYPES)
    assert result.unreadable_pages == ["q=85031&page=2"]
    assert len(result.apns_wanted) == 35  # pages 1 and 3
    assert any(p.body == b"{not json" for p in result.payloads)


def test_sample_replays_the_countys_contract():
    api = SampleAssessorApi(SAMPLE_DIR, T)
    first = json.loads(api.search_page("85031", 1).body)
    assert first["Results"][0]["APN"] == "10306005"  # the real captured page
    assert json.loads(api.search_page("99999", 1).body) == {"TOTAL": 0, "Results": []}
    missing = api.parcel("00000000")
    assert missing.http_status == 404 and missing.body == b"[parcel]:Requested content was not found"
    result = crawl_zip(api, "85031", DEFAULT_RESIDENTIAL_TYPES)
    statuses = [p.http_status for p in result.payloads if p.entity == "parcel"]
    assert statuses.count(404) == 1 and len(statuses) == len(result.apns_wanted)


def test_search_completeness_names_the_pages_not_read():
    """From the landed pages: page 3 got an error reply, page 4 no reply at all (not landed)."""
    from phoenix_dagster.sources.assessor_crawl import search_completeness

    def page(n, rows, status=200):
        return (f"q=85031&page={n}", status, json.dumps({"TOTAL": 90, "Results": [{}] * rows}).encode())

    landed = [page(1, 25), page(2, 25), page(3, 0, status=500)]
    seen = search_completeness(landed)
    assert (seen.total, seen.rows_read, seen.pages_unread) == (90, 50, [3, 4])
    assert search_completeness([*landed[:2], page(3, 25), page(4, 15)]).pages_unread == []
    assert search_completeness([(landed[0][0], 200, b'{"TOTAL": 9')]).pages_unread == [1]
