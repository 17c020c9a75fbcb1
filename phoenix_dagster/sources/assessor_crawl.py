"""Collect one ZIP code from the assessor: page through the search, keep the ZIP's wanted
rows, then one detail request per parcel that needs one.

Works against anything that speaks the county's contract (the real API or the embedded
replay), so the sample exercises the same logic as production.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Protocol

from phoenix_dagster.sources.base import AssessorApi, CollectionFailed, FetchFailed, FetchFailure, RawPayload
from phoenix_dagster.sources.json_reply import UnreadableJson, read_json

DEFAULT_MAX_SEARCH_ROWS = 100_000  # the county's TOTAL for one ZIP search, beyond which the ZIP fails

ROWS_PER_PAGE = 25


@dataclass
class CrawlResult:
    payloads: list[RawPayload] = field(default_factory=list)
    apns_wanted: list[str] = field(default_factory=list)
    apns_fetched: list[str] = field(default_factory=list)
    search_total: int = 0  # TOTAL on page 1: the rows the county says the ZIP has
    search_rows_seen: int = 0
    unreadable_pages: list[str] = field(default_factory=list)
    failures: list[FetchFailure] = field(default_factory=list)


def search_page_rows(http_status: int | None, body: bytes | str) -> tuple[int | None, list]:
    """TOTAL and Results of a search page, or (None, []) if the reply is not the contract's JSON:
    an object whose TOTAL is a whole number of rows, 0 or more, and whose Results is an array
    (a body that is not JSON, nests too deep, or says `"TOTAL": Infinity`, `true` or `"many"` is not)."""
    if http_status != 200:
        return None, []
    try:
        document = read_json(body)
    except UnreadableJson:
        return None, []
    if not isinstance(document, dict):
        return None, []
    total, rows = document.get("TOTAL"), document.get("Results")
    if isinstance(total, str) and total.strip().isascii() and total.strip().isdigit():
        total = int(total)
    if isinstance(total, bool) or not isinstance(total, int) or total < 0 or not isinstance(rows, list):
        return None, []
    return total, rows


@dataclass(frozen=True)
class SearchCompleteness:
    """What the county's search announced for a ZIP (TOTAL on page 1) against what was read."""

    total: int | None  # None: page 1 itself was not read
    rows_read: int
    pages_unread: list[int]  # pages with no reply, an error reply or a body that is not the contract's

    @property
    def complete(self) -> bool:
        """Every page read, and together they held the rows TOTAL announced (a page answering
        fewer rows than it should is short too)."""
        return not self.pages_unread and self.total is not None and self.rows_read >= self.total


def search_completeness(pages: list[tuple[str, int | None, bytes]]) -> SearchCompleteness:
    """From a partition's landed search pages (record_key `q=<zip>&page=<n>`, status, body): the
    pages a TOTAL on page 1 announces that were not read — a page that got no reply is not landed
    at all, so it is missing here — and the rows on the pages that were."""
    total, rows_read, readable = None, 0, set()
    for record_key, http_status, body in pages:
        numbered = re.search(r"page=(\d+)", record_key or "")
        page_total, rows = search_page_rows(http_status, body)
        if numbered is None or page_total is None:
            continue
        page = int(numbered.group(1))
        readable.add(page)
        rows_read += len(rows)
        if page == 1:
            total = page_total
    expected = range(1, math.ceil(total / ROWS_PER_PAGE) + 1) if total is not None else [1]
    return SearchCompleteness(total, rows_read, [page for page in expected if page not in readable])


def _attempt(fetch: Callable[[], RawPayload], key: str, request: str) -> RawPayload | FetchFailure:
    try:
        return fetch()
    except FetchFailed as failure:
        return FetchFailure(key, request, failure.reason)


def fetch_in_order(
    calls: list[tuple[Callable[[], RawPayload], str, str]], concurrency: int, stop: Callable[[], None] | None = None
) -> list[RawPayload | FetchFailure]:
    """Each (fetch, key, request) of `calls`, `concurrency` at a time (every one still waits its
    turn at the source's rate limiter); the payload or the failure of each, in the order asked.
    Anything but a FetchFailed (a refused token) stops the rest and is raised; so does an
    interrupt of the waiting thread (a terminated run): the calls not yet started are not made,
    and `stop` (the source's) makes those waiting their turn give up instead of sleeping it out."""
    if not calls:
        return []
    pool = ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(calls))), thread_name_prefix="assessor")
    try:
        futures = [pool.submit(_attempt, *call) for call in calls]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            if future.exception() is not None:
                raise future.exception()
    except BaseException:
        if stop is not None:
            stop()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # only the calls in flight finish
    return [future.result() for future in futures]


class Landing(Protocol):
    """Where replies land as they arrive (sources/landing.py's RawLanding)."""

    def take_earlier(self, entity: str, record_key: str) -> RawPayload | None: ...

    def land(self, payload: RawPayload) -> None: ...


def _landed(fetch: Callable[[], RawPayload], entity: str, key: str, landing: Landing | None):
    """`fetch`, its reply landed as soon as it arrives; a reply landed by a collection of the
    partition that did not end is taken (and landed again as this one's) instead of asking."""
    if landing is None:
        return fetch

    def fetch_or_take() -> RawPayload:
        payload = landing.take_earlier(entity, key) or fetch()
        landing.land(payload)
        return payload

    return fetch_or_take


def _search_call(
    api: AssessorApi, zip_code: str, page: int, landing: Landing | None = None
) -> tuple[Callable[[], RawPayload], str, str]:
    key = f"q={zip_code}&page={page}"
    return (
        _landed(lambda: api.search_page(zip_code, page), "search_page", key, landing),
        key,
        f"/search/property/?q={zip_code}&page={page}",
    )


def crawl_zip(
    api: AssessorApi,
    zip_code: str,
    property_types: tuple[str, ...],
    *,
    plan: Callable[[list[str]], list[str]] = lambda wanted: wanted,
    concurrency: int = 1,
    max_rows: int = DEFAULT_MAX_SEARCH_ROWS,
    landing: Landing | None = None,
) -> CrawlResult:
    """Search page 1 (it says how many pages there are), the other pages, then the parcel details
    that `plan` picks from the wanted APNs; pages and details `concurrency` at a time, landed in
    page order and in the order the details were asked for.

    A search page 1 that got no reply fails the crawl (the ZIP cannot be enumerated), and so
    does a page 1 whose TOTAL is 0 (a configured ZIP with no parcels is a mistake, not a quiet
    zero) or above `max_rows` (a reply must not steer the crawl into millions of requests). A
    page 1 that came but cannot be read (malformed, nested too deep, not the contract) is landed
    and reported, and nothing more is asked: staging quarantines it with its reason and the
    search_complete check names it. Later unreadable pages and failed details are reported in the
    result, not dropped.
    """
    wanted_types = {t.strip().upper() for t in property_types}
    result = CrawlResult()
    stop = getattr(api, "stop", None)  # (the embedded sample makes no requests to stop)
    [first] = fetch_in_order([_search_call(api, zip_code, 1, landing)], 1, stop)
    if isinstance(first, FetchFailure):
        raise CollectionFailed(f"assessor search for {zip_code} failed on page 1: {first.reason}")
    total, _ = search_page_rows(first.http_status, first.body)
    if total is None:  # a reply, but not one to enumerate the ZIP by: landed for staging to say why
        result.payloads.append(first)
        result.unreadable_pages.append(first.record_key)
        return result
    if total == 0:
        raise CollectionFailed(
            f"assessor search for {zip_code} answered TOTAL: 0 (no parcels): check that "
            f"{zip_code} belongs in PHOENIX_ZIP_CODES"
        )
    if total > max_rows:
        raise CollectionFailed(
            f"assessor search for {zip_code} answered TOTAL: {total:,}, above the ceiling of "
            f"{max_rows:,} rows per ZIP (PHOENIX_MAX_SEARCH_ROWS); nothing more was requested"
        )
    result.search_total = total
    pages = math.ceil(total / ROWS_PER_PAGE)
    later = fetch_in_order(
        [_search_call(api, zip_code, page, landing) for page in range(2, pages + 1)], concurrency, stop
    )
    seen: set[str] = set()
    for page, outcome in enumerate([first, *later], start=1):
        if isinstance(outcome, FetchFailure):
            result.failures.append(outcome)
            result.unreadable_pages.append(outcome.record_key)
            continue
        result.payloads.append(outcome)
        page_total, rows = search_page_rows(outcome.http_status, outcome.body)
        if page_total is None:
            result.unreadable_pages.append(f"q={zip_code}&page={page}")
        result.search_rows_seen += len(rows)
        for row in rows:
            if not isinstance(row, dict):  # landed raw; staging quarantines it
                continue
            apn = str(row.get("APN") or "")
            if (
                apn
                and apn not in seen
                and str(row.get("SitusZip") or "").strip() == zip_code
                and str(row.get("PropertyType") or "").strip().upper() in wanted_types
            ):
                seen.add(apn)
                result.apns_wanted.append(apn)
    result.apns_fetched = plan(list(result.apns_wanted))
    details = fetch_in_order(
        [
            (_landed(lambda apn=apn: api.parcel(apn), "parcel", apn, landing), apn, f"/parcel/{apn}")
            for apn in result.apns_fetched
        ],
        concurrency,
        stop,
    )
    for outcome in details:
        (result.failures if isinstance(outcome, FetchFailure) else result.payloads).append(outcome)
    return result
