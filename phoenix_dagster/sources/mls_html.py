"""The Phoenix MLS public search pages, read with the selectors in data/mls_html_selectors.yaml.

For a ZIP: the search result pages (following the "next" link), then each listing's detail
page (at most MLS_MAX_DETAILS_PER_PAGE links a page; more cut the crawl short). Only the
configured site is fetched, on its own scheme and port (MLS_BASE_URL's; https on 443 for a
public site), and the hosts of MLS_ALLOWED_HOSTS on the same (or on the scheme and port an entry
spells out, `https://host:8443`); every other link or redirect is refused. robots.txt is
honoured (RFC 9309: a disallowed page is reported, not fetched; a robots.txt answered with a 5xx
or 429, or not at all, disallows everything; a 4xx means there are no rules); requests go out
at MLS_RATE_LIMIT_PER_MINUTE (default 54) through the polite client, optionally through
rotating proxies (MLS_PROXIES), a proxy that fails 3 times in a row being parked for 5
minutes. Every page is landed raw; a search page that matches neither the result selector
nor the "no results" marker is reported as "selectors out of date", never as empty results.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar, Optional
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import dagster as dg
import httpx
from selectolax.lexbor import LexborHTMLParser

from phoenix_dagster.redact import MaskedRepr
from phoenix_dagster.sources.base import FetchFailed, FetchFailure, ListingFetch, RawPayload
from phoenix_dagster.sources.env_values import number, split, text, url, urls
from phoenix_dagster.sources.http import (
    DEFAULT_MAX_BODY_BYTES,
    HTTP_TIMEOUT_S,
    HttpSource,
    PoliteClient,
    RetryBudget,
    RetryPolicy,
)
from phoenix_dagster.sources.http_policy import HttpPolicy
from phoenix_dagster.sources.mls_selectors import SELECTORS_FILE, MlsSelectors, load_selectors
from phoenix_dagster.sources.probes import DEFAULT_TIMEOUT_S, NoAnswer, Probe, ProbeResult, by_status, get, open_client
from phoenix_dagster.sources.rate_limit import SlidingWindowLimiter, shared_limiter
from phoenix_dagster.sources.registry import SourceDescriptor

MAX_SEARCH_PAGES = 200
MAX_REDIRECTS = 5
DEFAULT_PORTS = {"http": 80, "https": 443}
DISALLOW_ALL = ["User-agent: *", "Disallow: /"]
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")  # what MLS_PROXIES may name


def origin_of(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port — the scheme's default when none is given) of a URL; ValueError for a
    port that is not a number."""
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(parts.scheme.lower())


def resolves_to_private(host: str, resolve: Callable = socket.getaddrinfo) -> bool:
    """True when the host is, or resolves to, a private, loopback, link-local or otherwise
    non-public address (169.254.169.254, 10/8, 127/8, ::1 …)."""
    try:
        addresses = {ipaddress.ip_address(host)}
    except ValueError:
        try:
            addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in resolve(host, None)}
        except (OSError, ValueError):
            return False  # does not resolve: the request itself will fail and say so
    return any(not a.is_global for a in addresses)


class ProxyPool:
    """Round-robin over proxies; one that fails `failures_to_park` times in a row sits out `park_s`."""

    def __init__(
        self,
        urls: list[str],
        failures_to_park: int = 3,
        park_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.urls, self.failures_to_park, self.park_s, self._clock = list(urls), failures_to_park, park_s, clock
        self._failures = dict.fromkeys(self.urls, 0)
        self._parked_until = dict.fromkeys(self.urls, 0.0)
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
        self.bytes_by_proxy = dict.fromkeys(pool.urls, 0)

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


class MlsHtmlSource(HttpSource):
    name = "mls_html"
    complete = True  # a crawl returns every listing the search shows for the ZIP

    def __init__(
        self,
        base_url: str,
        selectors: MlsSelectors,
        *,
        limiter: SlidingWindowLimiter,
        budget: RetryBudget,
        user_agent: str,
        policy: RetryPolicy | None = None,
        proxies: list[str] = (),
        timeout_s: float = HTTP_TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        allowed_hosts: tuple[str, ...] = (),
        resolve: Callable = socket.getaddrinfo,
        max_fetch_bytes: int | None = None,
        max_details_per_page: int = 100,
    ):
        self.base_url, self.selectors, self.user_agent = base_url.rstrip("/"), selectors, user_agent
        self.max_details_per_page = max_details_per_page
        scheme, site, port = origin_of(self.base_url)
        # Only the configured site and an explicit allow-list (MLS_ALLOWED_HOSTS, e.g. its www. twin)
        # are fetched, on the site's scheme and port unless an entry names its own; a private address
        # only when the configured site is one itself.
        self.allowed_origins = {(scheme, site, port)}
        for entry in (h.strip().lower() for h in allowed_hosts if h.strip()):
            if "://" in entry:  # its own scheme and port
                self.allowed_origins.add(origin_of(entry))
            elif ":" in entry:  # host:port, on the site's scheme
                self.allowed_origins.add(origin_of(f"{scheme}://{entry}"))
            else:
                self.allowed_origins.add((scheme, entry, port))
        self.allowed_hosts = {host for _, host, _ in self.allowed_origins}
        self._resolve = resolve
        self._private_ok = resolves_to_private(site, resolve)
        self.proxies = RotatingProxyTransport(ProxyPool(list(proxies))) if proxies else None
        client = httpx.Client(
            headers={"User-Agent": user_agent, "Accept": "text/html"},
            timeout=timeout_s,
            transport=transport or self.proxies,
            follow_redirects=False,
        )  # each hop checked
        self._http = PoliteClient(
            client,
            limiter=limiter,
            budget=budget,
            policy=policy,
            max_body_bytes=max_body_bytes,
            max_total_bytes=max_fetch_bytes,
        )
        self._robots: dict[str, RobotFileParser] = {}
        self._robots_said: dict[str, str] = {}  # origin → why its rules are "disallow all", when they are

    @property
    def proxy_bytes(self) -> int:
        """Bytes received through proxies (announced lengths), for the cost ledger."""
        return sum(self.proxies.bytes_by_proxy.values()) if self.proxies else 0

    def refusal(self, url: str) -> str | None:
        """Why `url` must not be fetched, or None."""
        try:
            scheme, host, port = origin_of(url)
        except ValueError:
            return "a port that is not a number; not fetched"
        if scheme not in DEFAULT_PORTS:
            return f"scheme {scheme or '(none)'} refused; not fetched"
        if host not in self.allowed_hosts:
            return f"host {host or '(none)'} is not the configured site (MLS_BASE_URL) or in MLS_ALLOWED_HOSTS; not fetched"
        if (scheme, host, port) not in self.allowed_origins:
            return (
                f"{scheme}://{host}:{port} is not the scheme and port configured for {host} (MLS_BASE_URL, "
                "MLS_ALLOWED_HOSTS); not fetched"
            )
        if not self._private_ok and resolves_to_private(host, self._resolve):
            return f"host {host} resolves to a private, loopback or link-local address; not fetched"
        return None

    def robots(self, url: str | None = None) -> RobotFileParser:
        """The robots.txt rules of the host `url` is on (the configured site's by default), read once per host."""
        parts = urlsplit(url or self.base_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            parser = RobotFileParser()
            lines, said = self._robots_lines(f"{origin}/robots.txt", f"{parts.netloc}/robots.txt")
            if said:
                self._robots_said[origin] = said
            parser.parse(lines)
            self._robots[origin] = parser
        return self._robots[origin]

    def _robots_lines(self, url: str, key: str) -> tuple[list[str], str | None]:
        """The rules as RFC 9309 reads a robots.txt reply: 200, its lines; a 4xx (but 429), no rules;
        a 5xx or 429 (after retries), no reply, or more than five redirects, disallow everything
        (with the reason)."""
        for _ in range(MAX_REDIRECTS + 1):
            try:
                response = self._http.get("robots", url, key)
            except FetchFailed as failure:
                return DISALLOW_ALL, f"robots.txt got no reply ({failure.reason})"
            code = response.status_code
            if response.is_redirect and response.headers.get("location"):
                url = urljoin(url, response.headers["location"])
                if self.refusal(url):
                    return DISALLOW_ALL, f"robots.txt redirects off the site ({self.refusal(url)})"
                continue
            if code == 200:
                return response.text.splitlines(), None
            if 400 <= code < 500 and code != 429:
                return [], None  # unavailable: no rules
            return DISALLOW_ALL, f"robots.txt answered HTTP {code}"
        return DISALLOW_ALL, f"robots.txt redirected more than {MAX_REDIRECTS} times"

    def _disallowed(self, url: str) -> str:
        parts = urlsplit(url)
        said = self._robots_said.get(f"{parts.scheme}://{parts.netloc}")
        return (
            "disallowed by robots.txt"
            + (f" ({said}: everything is disallowed, RFC 9309)" if said else "")
            + "; not fetched"
        )

    def _page(self, endpoint: str, entity: str, url: str, key: str, result: ListingFetch) -> RawPayload | None:
        for _ in range(MAX_REDIRECTS + 1):
            refused = self.refusal(url) or (
                None if self.robots(url).can_fetch(self.user_agent, url) else self._disallowed(url)
            )
            if refused:
                result.failures.append(FetchFailure(key, url, refused))
                return None
            try:
                response = self._http.get(endpoint, url, key)
            except FetchFailed as failure:
                result.failures.append(FetchFailure(key, url, failure.reason))
                return None
            if response.is_redirect and response.headers.get("location"):
                url = urljoin(url, response.headers["location"])  # checked like any link, next turn
                continue
            payload = RawPayload(
                self.name,
                entity,
                key,
                str(response.request.url),
                response.status_code,
                datetime.now(UTC),
                response.content,
            )  # the full URL, host included
            result.payloads.append(payload)
            return payload
        result.failures.append(FetchFailure(key, url, f"more than {MAX_REDIRECTS} redirects; not followed"))
        return None

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
                result.failures.append(
                    FetchFailure(
                        f"{zip_code}:search:{page}",
                        url,
                        f"selectors out of date (v{self.selectors.version}): search page matched neither "
                        f"'{search.result}' nor '{search.no_results}'; page landed raw",
                    )
                )
                result.cut_short = f"search page {page} could not be read (selectors out of date)"
                break
            links = [link for link in (search.detail_link.read(card) for card in cards) if link]
            if len(links) > self.max_details_per_page:
                result.cut_short = (
                    f"search page {page} links {len(links)} listings, more than "
                    f"{self.max_details_per_page} (MLS_MAX_DETAILS_PER_PAGE): only the first "
                    f"{self.max_details_per_page} fetched"
                )
                result.failures.append(FetchFailure(f"{zip_code}:search:{page}", url, result.cut_short))
            for link in links[: self.max_details_per_page]:
                detail_url = urljoin(url, link)
                key = detail_url.rstrip("/").rsplit("/", 1)[-1] or detail_url
                self._page("listing", "mls_listing_page", detail_url, key, result)
                if self._http.fetch_bytes_spent:
                    break
            if self._http.fetch_bytes_spent:
                result.cut_short = f"the crawl's replies reached PHOENIX_MAX_FETCH_MB on search page {page}"
                break
            if result.cut_short:
                break
            following = search.next_page.read(document)
            url = urljoin(url, following) if following else None
        else:
            result.cut_short = f"more than {MAX_SEARCH_PAGES} search pages"
            result.failures.append(
                FetchFailure(f"{zip_code}:search:{MAX_SEARCH_PAGES + 1}", url or "", result.cut_short)
            )
        return result


# -- configuration and the Dagster resource ---------------------------------------------
DEFAULT_USER_AGENT = "PhoenixEstateBot/0.1 (+https://github.com/phoenix-real-estate)"
DEFAULT_SEARCH_PATH = "/search?zip={zip}&page={page}"


@dataclass(frozen=True)
class MlsHtmlSettings:
    """The MLS site's place, pace and manners (MLS_PROXIES is a secret: proxy URLs can hold passwords)."""

    url: str | None = None  # MLS_BASE_URL
    rate_limit_per_minute: int = 54  # MLS_RATE_LIMIT_PER_MINUTE
    allowed_hosts: tuple[str, ...] = ()  # MLS_ALLOWED_HOSTS: hosts besides MLS_BASE_URL's the crawler may fetch
    max_details_per_page: int = 100  # MLS_MAX_DETAILS_PER_PAGE: detail links read from one search page
    user_agent: str = DEFAULT_USER_AGENT  # MLS_USER_AGENT
    selectors_file: str = str(SELECTORS_FILE)  # MLS_SELECTORS_FILE

    @classmethod
    def from_env(cls, env) -> MlsHtmlSettings:
        urls(env, "MLS_PROXIES", PROXY_SCHEMES)  # checked, never kept: resources read it through EnvVar
        return cls(
            url=url(env, "MLS_BASE_URL", None),
            rate_limit_per_minute=number(env, "MLS_RATE_LIMIT_PER_MINUTE", cls.rate_limit_per_minute),
            allowed_hosts=split(env.get("MLS_ALLOWED_HOSTS", "")),
            max_details_per_page=number(env, "MLS_MAX_DETAILS_PER_PAGE", cls.max_details_per_page),
            user_agent=text(env, "MLS_USER_AGENT", cls.user_agent),
            selectors_file=text(env, "MLS_SELECTORS_FILE", cls.selectors_file),
        )


class MlsHtmlResource(MaskedRepr, dg.ConfigurableResource):
    """The MLS public search pages: MLS_BASE_URL, the selector file, rate, proxies."""

    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset({"proxies"})
    URL_FIELDS: ClassVar[frozenset[str]] = frozenset({"url"})

    url: Optional[str] = None  # None: MLS_BASE_URL is not set (the probe says so; a collection fails)
    selectors_file: str = MlsHtmlSettings.selectors_file
    rate_limit_per_minute: int = MlsHtmlSettings.rate_limit_per_minute
    proxies: Optional[str] = None  # MLS_PROXIES (EnvVar: proxy URLs can hold passwords), comma separated
    allowed_hosts: list[str] = []  # MLS_ALLOWED_HOSTS
    max_details_per_page: int = MlsHtmlSettings.max_details_per_page  # MLS_MAX_DETAILS_PER_PAGE
    user_agent: str = DEFAULT_USER_AGENT
    http: HttpPolicy = HttpPolicy()

    @classmethod
    def from_settings(cls, settings: MlsHtmlSettings, shared, secret) -> MlsHtmlResource:
        resource = cls(
            url=settings.url,
            selectors_file=settings.selectors_file,
            rate_limit_per_minute=settings.rate_limit_per_minute,
            proxies=secret("MLS_PROXIES"),
            user_agent=settings.user_agent,
            allowed_hosts=list(settings.allowed_hosts),
            max_details_per_page=settings.max_details_per_page,
            http=HttpPolicy.from_shared(shared),
        )
        if settings.url:
            resource.selectors()  # validated at start-up: a broken selector file stops the code location loading
        return resource

    def selectors(self) -> MlsSelectors:
        return load_selectors(Path(self.selectors_file))

    def open(self, *, replay_time: datetime | None = None, day: str | None = None) -> MlsHtmlSource:
        if not self.url:
            raise dg.Failure("PHOENIX_LISTING_SOURCE includes mls_html but MLS_BASE_URL is not set")
        limiter = shared_limiter(urlsplit(self.url).netloc, self.rate_limit_per_minute, 60.0)
        return MlsHtmlSource(
            self.url,
            self.selectors(),
            limiter=limiter,
            budget=RetryBudget(self.http.retry_budget),
            policy=self.http.retry_policy(),
            user_agent=self.user_agent,
            proxies=[p for p in re.split(r"[,;\s]+", self.proxies or "") if p],
            timeout_s=self.http.timeout_s,
            max_body_bytes=self.http.max_body_bytes,
            max_fetch_bytes=self.http.max_fetch_bytes,
            max_details_per_page=self.max_details_per_page,
            allowed_hosts=tuple(self.allowed_hosts),
        )

    def probe(self, *, zip_code: str, required: bool, timeout_s: float = DEFAULT_TIMEOUT_S, http=None) -> ProbeResult:
        try:
            search_path = self.selectors().search.path
        except Exception as exc:  # a selector file that does not load: the crawl cannot run either
            return Probe("mls_html", required).result(
                "misconfigured", f"MLS_SELECTORS_FILE does not load ({type(exc).__name__}: {str(exc)[:160]})"
            )
        return probe_mls_html(
            self.url,
            http,
            user_agent=self.user_agent,
            search_path=search_path,
            zip_code=zip_code,
            required=required,
            timeout_s=timeout_s,
        )


def probe_mls_html(
    base_url: str | None,
    http: httpx.Client | None = None,
    *,
    user_agent: str = DEFAULT_USER_AGENT,
    search_path: str = DEFAULT_SEARCH_PATH,
    zip_code: str = "85031",
    required: bool = True,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> ProbeResult:
    """GET <site>/robots.txt with our user agent (the crawler's first request), and whether it
    lets us fetch the first search page."""
    probe = Probe("mls_html", required)
    if not base_url:
        return probe.result("misconfigured", "MLS_BASE_URL is not set")
    parts = urlsplit(base_url)
    robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
    try:
        with open_client(http) as client:
            response = get(probe, client, robots_url, timeout_s, headers={"User-Agent": user_agent})
    except NoAnswer as no:
        return probe.result(no.state, no.detail)
    if response.status_code in (404, 410):
        return probe.result("up", f"{response.status_code} from /robots.txt: no rules, the search pages are allowed")
    if response.status_code == 403:
        return probe.result("refused", "403 from /robots.txt: the site refuses our user agent")
    if response.status_code != 200:
        return probe.result(*by_status(response, "/robots.txt", "MLS_BASE_URL"))
    rules = RobotFileParser()
    rules.parse(response.text.splitlines())
    search = base_url.rstrip("/") + "/" + search_path.format(zip=zip_code, page=1).lstrip("/")
    if not rules.can_fetch(user_agent, search):
        return probe.result(
            "misconfigured",
            f"robots.txt disallows {urlsplit(search).path} for our user agent: the crawl would fetch nothing",
        )
    return probe.result("up", "200 from /robots.txt: the search pages are allowed")


DESCRIPTORS = (
    SourceDescriptor(
        "listings",
        "mls_html",
        resource=MlsHtmlResource.from_settings,
        settings=MlsHtmlSettings.from_env,
        service="mls_html",
        complete=True,  # a ZIP's search pages list every current listing
        pool="listing_source_mls_html",
        secrets=("MLS_PROXIES",),
        remedies={
            "refused": "check MLS_USER_AGENT, MLS_PROXIES and the site's terms",
            "down": "check MLS_BASE_URL and the site's status",
            "misconfigured": "check MLS_BASE_URL, MLS_USER_AGENT and the site's robots.txt",
        },
    ),
)
