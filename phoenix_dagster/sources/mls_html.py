"""The Phoenix MLS public search pages, read with the selectors in data/mls_html_selectors.yaml.

For a ZIP: the search result pages (following the "next" link), then each listing's detail
page. robots.txt is honoured (a disallowed page is reported, not fetched); requests go out
at MLS_RATE_LIMIT_PER_MINUTE (default 54) through the polite client, optionally through
rotating proxies (MLS_PROXIES), a proxy that fails 3 times in a row being parked for 5
minutes. Every page is landed raw; a search page that matches neither the result selector
nor the "no results" marker is reported as "selectors out of date", never as empty results.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import urljoin
from urllib.robotparser import RobotFileParser

import httpx
from selectolax.lexbor import LexborHTMLParser

from phoenix_dagster.settings import DEFAULT_MAX_BODY_BYTES
from phoenix_dagster.sources.base import FetchFailed, FetchFailure, ListingFetch, RawPayload, RequestRecord
from phoenix_dagster.sources.http import PoliteClient, RetryBudget, RetryPolicy
from phoenix_dagster.sources.mls_selectors import MlsSelectors
from phoenix_dagster.sources.rate_limit import SlidingWindowLimiter

MAX_SEARCH_PAGES = 200


class ProxyPool:
    """Round-robin over proxies; one that fails `failures_to_park` times in a row sits out `park_s`."""

    def __init__(self, urls: list[str], failures_to_park: int = 3, park_s: float = 300.0,
                 clock: Callable[[], float] = time.monotonic):
        self.urls, self.failures_to_park, self.park_s, self._clock = list(urls), failures_to_park, park_s, clock
        self._failures = {url: 0 for url in self.urls}
        self._parked_until = {url: 0.0 for url in self.urls}
        self._next = 0
        self._lock = threading.Lock()

    def choose(self) -> str:
        with self._lock:
            now = self._clock()
            for _ in range(len(self.urls)):
                url = self.urls[self._next % len(self.urls)]
                self._next += 1
                if self._parked_until[url] <= now:
                    return url
        raise httpx.ConnectError("every proxy is parked after repeated failures")

    def failed(self, url: str) -> None:
        with self._lock:
            self._failures[url] += 1
            if self._failures[url] >= self.failures_to_park:
                self._parked_until[url] = self._clock() + self.park_s
                self._failures[url] = 0

    def succeeded(self, url: str) -> None:
        with self._lock:
            self._failures[url] = 0

    def parked(self) -> list[str]:
        now = self._clock()
        return [url for url in self.urls if self._parked_until[url] > now]


class RotatingProxyTransport(httpx.BaseTransport):
    """Sends each request through the pool's next proxy and tells the pool how it went."""

    def __init__(self, pool: ProxyPool):
        self.pool = pool
        self._transports = {url: httpx.HTTPTransport(proxy=url) for url in pool.urls}
        self.bytes_by_proxy = {url: 0 for url in pool.urls}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = self.pool.choose()
        try:
            response = self._transports[url].handle_request(request)
        except (httpx.TransportError, httpx.ProxyError):
            self.pool.failed(url)
            raise
        if response.status_code in (502, 503, 504, 407):
            self.pool.failed(url)  # the proxy answered, but not with the page
        else:
            self.pool.succeeded(url)
        self.bytes_by_proxy[url] += int(response.headers.get("content-length") or 0)
        return response

    def close(self) -> None:
        for transport in self._transports.values():
            transport.close()


class MlsHtmlSource:
    name = "mls_html"
    complete = True  # a crawl returns every listing the search shows for the ZIP

    def __init__(self, base_url: str, selectors: MlsSelectors, *, limiter: SlidingWindowLimiter, budget: RetryBudget,
                 user_agent: str, policy: RetryPolicy | None = None, proxies: list[str] = (),
                 timeout_s: float = 30.0, transport: httpx.BaseTransport | None = None,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES):
        self.base_url, self.selectors, self.user_agent = base_url.rstrip("/"), selectors, user_agent
        self.proxies = RotatingProxyTransport(ProxyPool(list(proxies))) if proxies else None
        client = httpx.Client(headers={"User-Agent": user_agent, "Accept": "text/html"}, timeout=timeout_s,
                              transport=transport or self.proxies, follow_redirects=True)
        self._http = PoliteClient(client, limiter=limiter, budget=budget, policy=policy, max_body_bytes=max_body_bytes)
        self._robots: RobotFileParser | None = None

    @property
    def records(self) -> list[RequestRecord]:
        return self._http.records

    @property
    def proxy_bytes(self) -> int:
        """Bytes received through proxies (announced lengths), for the cost ledger."""
        return sum(self.proxies.bytes_by_proxy.values()) if self.proxies else 0

    def close(self) -> None:
        self._http.close()

    def robots(self) -> RobotFileParser:
        if self._robots is None:
            parser = RobotFileParser()
            try:
                response = self._http.get("robots", f"{self.base_url}/robots.txt", "robots.txt")
                lines = response.text.splitlines() if response.status_code == 200 else []
            except FetchFailed:
                lines = ["User-agent: *", "Disallow: /"]  # cannot read the rules: fetch nothing
            parser.parse(lines)
            self._robots = parser
        return self._robots

    def _page(self, endpoint: str, entity: str, url: str, key: str, result: ListingFetch) -> RawPayload | None:
        if not self.robots().can_fetch(self.user_agent, url):
            result.failures.append(FetchFailure(key, url, "disallowed by robots.txt; not fetched"))
            return None
        try:
            response = self._http.get(endpoint, url, key)
        except FetchFailed as failure:
            result.failures.append(FetchFailure(key, url, failure.reason))
            return None
        path = response.request.url.raw_path.decode()
        payload = RawPayload(self.name, entity, key, path, response.status_code, datetime.now(timezone.utc),
                             response.content)
        result.payloads.append(payload)
        return payload

    def fetch(self, zip_code: str, since: datetime | None = None) -> ListingFetch:
        result = ListingFetch()
        search = self.selectors.search
        url: str | None = urljoin(self.base_url + "/", search.path.format(zip=zip_code, page=1).lstrip("/"))
        seen: set[str] = set()
        for page in range(1, MAX_SEARCH_PAGES + 1):
            if url is None or url in seen:
                break
            seen.add(url)
            payload = self._page("search", "mls_search_page", url, f"{zip_code}:search:{page}", result)
            if payload is None or payload.http_status != 200:
                answer = "no reply" if payload is None else f"HTTP {payload.http_status}"
                result.cut_short = f"search page {page} got {answer}: the crawl saw only part of the ZIP"
                if payload is not None:
                    result.failures.append(FetchFailure(f"{zip_code}:search:{page}", url, result.cut_short))
                break
            document = LexborHTMLParser(payload.body.decode("utf-8", errors="replace"))
            cards = document.css(search.result)
            if not cards and document.css_first(search.no_results) is None:
                result.failures.append(FetchFailure(
                    f"{zip_code}:search:{page}", url,
                    f"selectors out of date (v{self.selectors.version}): search page matched neither "
                    f"'{search.result}' nor '{search.no_results}'; page landed raw"))
                result.cut_short = f"search page {page} could not be read (selectors out of date)"
                break
            for card in cards:
                link = search.detail_link.read(card)
                if link:
                    detail_url = urljoin(url, link)
                    self._page("listing", "mls_listing_page", detail_url, detail_url.rsplit("/", 1)[-1], result)
            following = search.next_page.read(document)
            url = urljoin(url, following) if following else None
        else:
            result.cut_short = f"more than {MAX_SEARCH_PAGES} search pages"
            result.failures.append(FetchFailure(f"{zip_code}:search:{MAX_SEARCH_PAGES + 1}", url or "", result.cut_short))
        return result
