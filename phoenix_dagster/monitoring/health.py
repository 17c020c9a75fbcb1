"""Service health, as data: one probe per configured dependency, each a
`ProbeResult` with a state, the reply's latency and one human line saying why.

States
- ``up``: the service answered as its contract says.
- ``down``: no usable answer — connection refused, nothing within the timeout, a 5xx.
- ``misconfigured``: it answered, but our configuration cannot work with it — no token or URL
  set, a 404 where the API should be, the Ollama model not pulled, robots.txt forbidding the
  MLS search pages.
- ``refused``: the credentials were refused — the county's HTTP 500 "Unauthorized access!"
  (see docs/maricopa-assessor-api.md; it never answers 401), a RESO 401/403, a
  MongoDB authentication failure, an MLS site answering 403 to our user agent.
- ``degraded``: it works, but not fully — missing MongoDB indexes, a 429, a 200 that is not the
  documented reply.

Required and optional
- The county API is required when PHOENIX_ASSESSOR_SOURCE=maricopa; a RESO feed or MLS site is
  required when it is a configured listing source (PHOENIX_LISTING_SOURCE). A source named in
  PHOENIX_OPTIONAL_SOURCES (``maricopa``, ``reso``, ``mls_html``) is probed but optional.
- Ollama (always probed: OLLAMA_HOST has a default) and MongoDB (probed when MONGODB_URI is set
  or a client is handed in) are optional: their failure is a WARN and the documented fallback
  (the rules extractor; the mongoimport export).
- A required probe in ``down``, ``misconfigured`` or ``refused`` fails the run fast:
  `first_required_failure` gives the one line to fail with. ``degraded`` never fails a run.

Probes never raise for a transport or server error, time out after `DEFAULT_TIMEOUT_S`
(configurable) and never put a secret in `detail`: tokens, passwords and URL userinfo are
masked. A probe is one look, not a collection: at most two requests, without the sources'
retries. The county probe takes its turn at the county's rate limiter like every collection
request (given one): a full window or a Retry-After in force makes it ``degraded`` ("not probed")
rather than a request over the limit, and a 429 it gets pauses the limiter for everyone. This
module has no Dagster imports; the Dagster wiring records and surfaces the results.
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from phoenix_dagster.settings import ListingSettings, Settings
from phoenix_dagster.sources.http import retry_after_seconds
from phoenix_dagster.sources.json_reply import UnreadableJson, read_json
from phoenix_dagster.sources.maricopa import AUTH_MARKER
from phoenix_dagster.sources.registry import descriptor
from phoenix_dagster.sources.registry import remedy as source_remedy

DEFAULT_TIMEOUT_S = 3.0
OWN_SERVICES = ("mongodb", "ollama")  # probed here; each source's service is in its descriptor
STATES = ("up", "down", "misconfigured", "refused", "degraded")
FAILING_STATES = frozenset({"down", "misconfigured", "refused"})
# What serving creates on `properties` (documents/properties.py INDEXES, which imports Dagster
# through the schemas; a test keeps the two lists equal).
PROPERTIES_COLLECTION = "properties"
PROPERTIES_INDEXES = ("property_id_unique", "parcel_number", "zip_status", "price", "location_2dsphere")
DEFAULT_MLS_SEARCH_PATH = "/search?zip={zip}&page={page}"
MONGO_AUTH_CODES = {13, 18}  # Unauthorized, AuthenticationFailed
_REMEDY = {  # the sources' remedies are in their descriptors (sources/registry.py)
    ("ollama", "misconfigured"): "check OLLAMA_HOST and OLLAMA_MODEL (ollama pull)",
    ("ollama", "down"): "check OLLAMA_HOST",
    ("mongodb", "refused"): "check the credentials in MONGODB_URI",
    ("mongodb", "down"): "check MONGODB_URI and the server",
    ("mongodb", "misconfigured"): "check MONGODB_URI",
}


@dataclass(frozen=True)
class ProbeResult:
    service: str  # one of OWN_SERVICES or a source's service
    required: bool  # a failing required probe fails the run
    state: str  # one of STATES
    latency_ms: float | None  # time until the probe's last reply; None when nothing answered
    detail: str  # one line: the reason, secrets masked
    checked_at: datetime  # UTC, when the probe started

    @property
    def failing(self) -> bool:
        return self.state in FAILING_STATES


def first_required_failure(results: Iterable[ProbeResult]) -> str | None:
    """The one line a run fails fast with: the first required probe that is down, misconfigured
    or refused; None when every required probe is up or only degraded."""
    for result in results:
        if result.required and result.failing:
            remedy = _REMEDY.get((result.service, result.state)) or source_remedy(result.service, result.state)
            return f"{result.service} {result.state}: {result.detail}" + (f" — {remedy}" if remedy else "")
    return None


# -- secrets and places -----------------------------------------------------------------
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@]*@")


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` as one line, with URL userinfo and every given secret replaced by ***."""
    text = _USERINFO.sub(r"\1***@", text)
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        if len(secret) >= 6:
            text = text.replace(secret, "***")
        else:  # a short one only where it stands alone, or "t" would mask every t
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", "***", text)
    return " ".join(text.split())


def _where(url: str) -> str:
    """host:port of a URL, nothing else (no userinfo, path or query)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "(no host)", parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:  # "http://[::1", a port that is not a number
        return "(unparsable URL)"
    return f"{host}:{port}" if port else host


def _mongo_secrets(uri: str) -> tuple[str, ...]:
    userinfo = urlsplit(uri).netloc.rpartition("@")[0] if "://" in uri else ""
    password = userinfo.partition(":")[2]
    return tuple(s for s in (uri, userinfo, password, unquote(password)) if s)


# -- timing -----------------------------------------------------------------------------
class _Probe:
    """Times one probe and builds its result with its secrets masked."""

    def __init__(self, service: str, required: bool, secrets: Iterable[str | None] = ()):
        self.service, self.required, self.secrets = service, required, tuple(secrets)
        self.checked_at = datetime.now(UTC)
        self._start = time.perf_counter()
        self.latency_ms: float | None = None

    def replied(self) -> None:
        self.latency_ms = round((time.perf_counter() - self._start) * 1000, 1)

    def result(self, state: str, detail: str) -> ProbeResult:
        return ProbeResult(
            self.service, self.required, state, self.latency_ms, scrub(detail, self.secrets), self.checked_at
        )


# -- HTTP -------------------------------------------------------------------------------
class _NoAnswer(Exception):
    def __init__(self, state: str, detail: str):
        super().__init__(detail)
        self.state, self.detail = state, detail


@contextmanager
def _client(http: httpx.Client | None) -> Iterator[httpx.Client]:
    if http is not None:
        yield http
        return
    with httpx.Client(follow_redirects=False) as own:
        yield own


def _get(probe: _Probe, http: httpx.Client, url: str, timeout_s: float, **kwargs) -> httpx.Response:
    """One GET; a transport failure becomes _NoAnswer with the reason."""
    where = _where(url)
    try:
        response = http.get(url, timeout=timeout_s, **kwargs)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise _NoAnswer("misconfigured", f"not a usable URL ({type(exc).__name__}: {exc})") from None
    except httpx.ConnectTimeout:
        raise _NoAnswer("down", f"no connection to {where} within {timeout_s:g} s") from None
    except httpx.TimeoutException:
        raise _NoAnswer("down", f"no reply from {where} within {timeout_s:g} s") from None
    except httpx.ConnectError as exc:
        reason = "connection refused at" if "refused" in str(exc).lower() else f"cannot connect ({exc}) to"
        raise _NoAnswer("down", f"{reason} {where}") from None
    except httpx.HTTPError as exc:
        raise _NoAnswer("down", f"{type(exc).__name__} from {where}: {exc}") from None
    probe.replied()
    return response


def _by_status(response: httpx.Response, path: str, setting: str) -> tuple[str, str]:
    """State and reason for a reply that is not the probe's 200."""
    code = response.status_code
    if code in (401, 403):
        return "refused", f"{code} from {path}: the credentials were refused"
    if code == 429:
        after = response.headers.get("retry-after")
        return "degraded", f"429 from {path}: rate limited" + (f" (Retry-After {after})" if after else "")
    if code >= 500:
        return "down", f"{code} from {path}"
    return "misconfigured", f"{code} from {path}: is {setting} right?"


def _json(response: httpx.Response):
    try:
        return read_json(response.content)
    except UnreadableJson:  # malformed, or nested past what any contract needs: not the envelope
        return None


# -- the probes -------------------------------------------------------------------------
def _turn_at(limiter, timeout_s: float) -> None:
    """Take a turn at the county's rate limiter, or raise _NoAnswer (degraded) when the turn is
    further away than the probe's timeout: the window is full or a Retry-After is in force."""
    waited = [0.0]

    def sleep(seconds: float) -> None:
        if waited[0] + seconds > timeout_s:
            raise _NoAnswer(
                "degraded",
                f"not probed: the county's rate limit allows no request for {seconds:.0f} s "
                "(its window is full or a Retry-After is in force)",
            )
        waited[0] += seconds
        time.sleep(seconds)

    try:
        limiter.acquire(sleep=sleep)
    except _NoAnswer:
        raise
    except Exception as exc:  # the limiter's shared store is away: not a request over the limit either
        raise _NoAnswer(
            "degraded", f"not probed: the county's rate limit could not be asked ({scrub(str(exc))})"
        ) from None


def probe_county_api(
    base_url: str,
    token: str | None,
    http: httpx.Client | None = None,
    *,
    query: str = "85031",
    required: bool = True,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    limiter=None,
) -> ProbeResult:
    """GET /search/property/?q=<query>&page=1 with the county's two headers: one page of 25 rows,
    at its turn at `limiter` (the county's rate limiter) when given."""
    probe = _Probe("county_api", required, [token])
    if not token:
        return probe.result(
            "misconfigured", "MARICOPA_API_TOKEN is not set: the county refuses every request without one"
        )
    path = "/search/property/"
    headers = {"AUTHORIZATION": token, "user-agent": "null", "accept": "application/json"}
    try:
        if limiter is not None:
            _turn_at(limiter, timeout_s)
        with _client(http) as client:
            response = _get(
                probe, client, base_url.rstrip("/") + path, timeout_s, params={"q": query, "page": "1"}, headers=headers
            )
    except _NoAnswer as no:
        return probe.result(no.state, no.detail)
    if response.status_code == 429 and limiter is not None:  # the county asked everyone to wait
        try:
            limiter.pause(retry_after_seconds(response.headers.get("retry-after")) or 60.0)
        except Exception:  # the limiter's store away: the 429 itself is still reported below
            pass
    if response.status_code == 500 and AUTH_MARKER in response.text:
        return probe.result("refused", f"500 'Unauthorized access!' from {path}: the token was refused")
    if response.status_code != 200:
        return probe.result(*_by_status(response, path, "MARICOPA_API_URL"))
    body = _json(response)
    if not (isinstance(body, dict) and isinstance(body.get("Results"), list) and "TOTAL" in body):
        return probe.result("degraded", f"200 from {path} but not the {{TOTAL, Results}} envelope")
    return probe.result("up", f"200 from {path} (TOTAL {body['TOTAL']} for q={query})")


def probe_reso(
    base_url: str | None,
    token: str | None,
    http: httpx.Client | None = None,
    *,
    zip_code: str = "85031",
    required: bool = True,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> ProbeResult:
    """GET {RESO_API_URL}/Property?$filter=PostalCode eq '<zip>'&$top=1 with the Bearer token."""
    probe = _Probe("reso", required, [token])
    if not base_url or not token:
        return probe.result("misconfigured", f"{'RESO_API_URL' if not base_url else 'RESO_API_TOKEN'} is not set")
    url = base_url.rstrip("/") + "/Property"
    path = urlsplit(url).path
    params = {"$filter": f"PostalCode eq '{zip_code}'", "$top": "1"}
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    try:
        with _client(http) as client:
            response = _get(probe, client, url, timeout_s, params=params, headers=headers)
    except _NoAnswer as no:
        return probe.result(no.state, no.detail)
    if response.status_code != 200:
        return probe.result(*_by_status(response, path, "RESO_API_URL"))
    body = _json(response)
    if not (isinstance(body, dict) and isinstance(body.get("value"), list)):
        return probe.result("degraded", f"200 from {path} but not an OData page (no 'value' list)")
    return probe.result("up", f"200 from {path} ({len(body['value'])} listing(s) for {zip_code} with $top=1)")


def probe_mls_html(
    base_url: str | None,
    http: httpx.Client | None = None,
    *,
    user_agent: str = ListingSettings.mls_user_agent,
    search_path: str = DEFAULT_MLS_SEARCH_PATH,
    zip_code: str = "85031",
    required: bool = True,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> ProbeResult:
    """GET <site>/robots.txt with our user agent (the crawler's first request), and whether it
    lets us fetch the first search page."""
    probe = _Probe("mls_html", required)
    if not base_url:
        return probe.result("misconfigured", "MLS_BASE_URL is not set")
    parts = urlsplit(base_url)
    robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
    try:
        with _client(http) as client:
            response = _get(probe, client, robots_url, timeout_s, headers={"User-Agent": user_agent})
    except _NoAnswer as no:
        return probe.result(no.state, no.detail)
    if response.status_code in (404, 410):
        return probe.result("up", f"{response.status_code} from /robots.txt: no rules, the search pages are allowed")
    if response.status_code == 403:
        return probe.result("refused", "403 from /robots.txt: the site refuses our user agent")
    if response.status_code != 200:
        return probe.result(*_by_status(response, "/robots.txt", "MLS_BASE_URL"))
    rules = RobotFileParser()
    rules.parse(response.text.splitlines())
    search = base_url.rstrip("/") + "/" + search_path.format(zip=zip_code, page=1).lstrip("/")
    if not rules.can_fetch(user_agent, search):
        return probe.result(
            "misconfigured",
            f"robots.txt disallows {urlsplit(search).path} for our user agent: the crawl would fetch nothing",
        )
    return probe.result("up", "200 from /robots.txt: the search pages are allowed")


def ollama_base_url(host: str) -> str:
    """OLLAMA_HOST as the ollama client reads it ("127.0.0.1" → http://127.0.0.1:11434)."""
    try:
        from ollama._client import _parse_host  # the client's own reading; private, so guarded

        return _parse_host(host)
    except ImportError:  # pragma: no cover - a future ollama without it
        host = host if "://" in host else f"http://{host}"
        return host if urlsplit(host).port else host.rstrip("/") + ":11434"


def probe_ollama(
    host: str,
    model: str,
    http: httpx.Client | None = None,
    *,
    required: bool = False,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> ProbeResult:
    """GET /api/version, then GET /api/tags: the model must be listed (as `model` or `model:latest`)."""
    probe = _Probe("ollama", required)
    base = ollama_base_url(host)
    try:
        with _client(http) as client:
            version = _get(probe, client, base + "/api/version", timeout_s)
            if version.status_code != 200:
                return probe.result(*_by_status(version, "/api/version", "OLLAMA_HOST"))
            tags = _get(probe, client, base + "/api/tags", timeout_s)
    except _NoAnswer as no:
        return probe.result(no.state, no.detail)
    if tags.status_code != 200:
        return probe.result(*_by_status(tags, "/api/tags", "OLLAMA_HOST"))
    catalogue = _json(tags)
    listed = catalogue.get("models") if isinstance(catalogue, dict) else None
    if not isinstance(listed, list):
        return probe.result("degraded", "200 from /api/tags but no 'models' list")
    names = sorted({m.get("model") or m.get("name") for m in listed if isinstance(m, dict)} - {None})
    if model not in names and f"{model}:latest" not in names:
        return probe.result("misconfigured", f"model {model} not in /api/tags (have: {', '.join(names) or 'none'})")
    about = _json(version)
    release = about.get("version") if isinstance(about, dict) else None
    return probe.result("up", f"Ollama {release or '(version unknown)'}; model {model} listed")


def probe_mongodb(
    client_or_uri,
    database: str,
    collection: str = PROPERTIES_COLLECTION,
    expected_indexes: Sequence[str] = PROPERTIES_INDEXES,
    *,
    required: bool = False,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> ProbeResult:
    """`ping`, then the collection's index names: any of `expected_indexes` missing is degraded.
    A URI gets its own short-lived client; a client handed in (pymongo or mongomock) is used as is,
    bounded by pymongo.timeout."""
    import pymongo  # ~0.5 s to import: only where MongoDB is probed
    from pymongo.errors import ConfigurationError, InvalidURI, OperationFailure, PyMongoError

    secrets = _mongo_secrets(client_or_uri) if isinstance(client_or_uri, str) else ()
    probe = _Probe("mongodb", required, secrets)
    owned = None
    try:
        if isinstance(client_or_uri, str):
            ms = max(1, int(timeout_s * 1000))
            owned = pymongo.MongoClient(
                client_or_uri,
                serverSelectionTimeoutMS=ms,
                connectTimeoutMS=ms,
                socketTimeoutMS=ms,
                appname="phoenix-estate-health",
            )
        client = owned or client_or_uri
        with pymongo.timeout(timeout_s):
            client.admin.command("ping")
            probe.replied()
            present = set(client[database][collection].index_information())
            probe.replied()
    except (InvalidURI, ConfigurationError, ValueError) as exc:
        return probe.result("misconfigured", f"MONGODB_URI is not usable ({type(exc).__name__}: {exc})")
    except OperationFailure as exc:
        if exc.code in MONGO_AUTH_CODES:
            return probe.result("refused", f"authentication failed (code {exc.code}): the credentials were refused")
        return probe.result("down", f"{type(exc).__name__} (code {exc.code}): {exc}")
    except PyMongoError as exc:
        return probe.result("down", _mongo_down(client_or_uri, exc, timeout_s))
    finally:
        if owned is not None:
            owned.close()
    missing = [name for name in expected_indexes if name not in present]
    if missing:
        absent = "" if present else f" (collection {collection} has none yet: serving creates them)"
        return probe.result(
            "degraded",
            f"{'index' if len(missing) == 1 else 'indexes'} {', '.join(missing)} "
            f"missing on {database}.{collection}{absent}",
        )
    return probe.result("up", f"ping ok; {len(expected_indexes)} expected index(es) on {database}.{collection}")


def _mongo_down(client_or_uri, exc: Exception, timeout_s: float) -> str:
    where = "MongoDB"
    if isinstance(client_or_uri, str):
        hosts = re.sub(r"^[^:]+://", "", client_or_uri).rpartition("@")[2].split("/")[0].split("?")[0]
        where = f"MongoDB at {hosts}"
    why = ": connection refused" if "refused" in str(exc).lower() else ""
    return f"no answer from {where} within {timeout_s:g} s{why} ({type(exc).__name__})"


# -- everything the settings configure --------------------------------------------------
def _mls_search_path(settings: Settings) -> str:
    from phoenix_dagster.sources.mls_selectors import load_selectors  # pydantic + yaml: only when MLS is on

    return load_selectors(Path(settings.listings.mls_selectors_file)).search.path


def configured_services(settings: Settings, *, mongo_configured: bool) -> list[str]:
    """What `probe_all` probes for these settings, in its order: the county API with the maricopa
    assessor source, each configured RESO feed or MLS site, Ollama (OLLAMA_HOST has a default)
    and MongoDB when it is configured (MONGODB_URI set, or a client handed in)."""
    configured = [descriptor("assessor", settings.assessor_source)]
    configured += [descriptor("listings", name) for name in settings.listing_sources]
    services = list(dict.fromkeys(source.service for source in configured if source.service))
    return services + ["ollama"] + (["mongodb"] if mongo_configured else [])


def probe_all(
    settings: Settings,
    secrets: Mapping[str, str] | None = None,
    *,
    http: httpx.Client | None = None,
    mongo_client=None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    services: Collection[str] | None = None,
    zip_code: str | None = None,
    county_limiter=None,
) -> list[ProbeResult]:
    """Probe every dependency `settings` configures, or only those of them named in `services`.
    `secrets` maps the secret variables' names (MARICOPA_API_TOKEN, RESO_API_TOKEN, MONGODB_URI)
    to their values — settings never hold them; pass the process environment or the resources'
    values. `mongo_client` (e.g. the tests' stand-in) is probed instead of MONGODB_URI. The
    sources are asked about `zip_code` (default: the first configured ZIP); the county's probe takes
    its turn at `county_limiter`, the collectors' own."""
    secrets = secrets or {}
    zip_code = zip_code or settings.zip_codes[0]
    needed = lambda name: name not in settings.optional_sources  # noqa: E731
    mongo = mongo_client if mongo_client is not None else secrets.get("MONGODB_URI")
    wanted = [
        name
        for name in configured_services(settings, mongo_configured=bool(mongo))
        if services is None or name in services
    ]
    probes = {
        "county_api": lambda: probe_county_api(
            settings.maricopa.url,
            secrets.get("MARICOPA_API_TOKEN"),
            http,
            query=zip_code,
            required=needed("maricopa"),
            timeout_s=timeout_s,
            limiter=county_limiter,
        ),
        "reso": lambda: probe_reso(
            settings.listings.reso_url,
            secrets.get("RESO_API_TOKEN"),
            http,
            zip_code=zip_code,
            required=needed("reso"),
            timeout_s=timeout_s,
        ),
        "mls_html": lambda: _probe_configured_mls(settings, http, zip_code, needed("mls_html"), timeout_s),
        "ollama": lambda: probe_ollama(settings.ollama.host, settings.ollama.model, http, timeout_s=timeout_s),
        "mongodb": lambda: probe_mongodb(mongo, settings.mongodb_database, timeout_s=timeout_s),
    }
    return [probes[name]() for name in wanted]


def _probe_configured_mls(settings: Settings, http, zip_code: str, required: bool, timeout_s: float) -> ProbeResult:
    try:
        search_path = _mls_search_path(settings)
    except Exception as exc:  # a selector file that does not load: the crawl cannot run either
        return _Probe("mls_html", required).result(
            "misconfigured", f"MLS_SELECTORS_FILE does not load ({type(exc).__name__}: {str(exc)[:160]})"
        )
    return probe_mls_html(
        settings.listings.mls_url,
        http,
        user_agent=settings.listings.mls_user_agent,
        search_path=search_path,
        zip_code=zip_code,
        required=required,
        timeout_s=timeout_s,
    )
