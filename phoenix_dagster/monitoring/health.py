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

Each source's probe is in its own module, called through its resource (a source's descriptor,
sources/registry.py); the pieces every probe is made of are in sources/probes.py. Ollama's and
MongoDB's probes are here. Probes never raise for a transport or server error, time out after
`DEFAULT_TIMEOUT_S` and never put a secret in `detail`. A probe is one look, not a collection:
at most two requests, without the sources' retries; the county's probe takes its turn at the
county's rate limiter. This module has no Dagster imports; assets/health.py records and
surfaces the results.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import unquote, urlsplit

import httpx

from phoenix_dagster.settings import Settings
from phoenix_dagster.sources.probes import (
    DEFAULT_TIMEOUT_S,
    FAILING_STATES,
    STATES,
    NoAnswer,
    Probe,
    ProbeResult,
    by_status,
    get,
    open_client,
    reply_json,
    scrub,
)
from phoenix_dagster.sources.registry import SourceDescriptor
from phoenix_dagster.sources.registry import remedy as source_remedy

__all__ = ["DEFAULT_TIMEOUT_S", "FAILING_STATES", "STATES", "ProbeResult", "scrub"]  # read from here by the wiring

OWN_SERVICES = ("mongodb", "ollama")  # probed here; each source's service is in its descriptor
# What serving creates on `properties` (documents/properties.py INDEXES, which imports Dagster
# through the schemas; a test keeps the two lists equal).
PROPERTIES_COLLECTION = "properties"
PROPERTIES_INDEXES = ("property_id_unique", "parcel_number", "zip_status", "price", "location_2dsphere")
MONGO_AUTH_CODES = {13, 18}  # Unauthorized, AuthenticationFailed
_REMEDY = {  # the sources' remedies are in their descriptors (sources/registry.py)
    ("ollama", "misconfigured"): "check OLLAMA_HOST and OLLAMA_MODEL (ollama pull)",
    ("ollama", "down"): "check OLLAMA_HOST",
    ("mongodb", "refused"): "check the credentials in MONGODB_URI",
    ("mongodb", "down"): "check MONGODB_URI and the server",
    ("mongodb", "misconfigured"): "check MONGODB_URI",
}


def first_required_failure(results: Iterable[ProbeResult], sources: Sequence[SourceDescriptor] = ()) -> str | None:
    """The one line a run fails fast with: the first required probe that is down, misconfigured
    or refused, with what to check (Ollama's and MongoDB's here, a source's in its descriptor);
    None when every required probe is up or only degraded."""
    for result in results:
        if result.required and result.failing:
            remedy = _REMEDY.get((result.service, result.state)) or source_remedy(sources, result.service, result.state)
            return f"{result.service} {result.state}: {result.detail}" + (f" — {remedy}" if remedy else "")
    return None


def _mongo_secrets(uri: str) -> tuple[str, ...]:
    userinfo = urlsplit(uri).netloc.rpartition("@")[0] if "://" in uri else ""
    password = userinfo.partition(":")[2]
    return tuple(s for s in (uri, userinfo, password, unquote(password)) if s)


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
    probe = Probe("ollama", required)
    base = ollama_base_url(host)
    try:
        with open_client(http) as client:
            version = get(probe, client, base + "/api/version", timeout_s)
            if version.status_code != 200:
                return probe.result(*by_status(version, "/api/version", "OLLAMA_HOST"))
            tags = get(probe, client, base + "/api/tags", timeout_s)
    except NoAnswer as no:
        return probe.result(no.state, no.detail)
    if tags.status_code != 200:
        return probe.result(*by_status(tags, "/api/tags", "OLLAMA_HOST"))
    catalogue = reply_json(tags)
    listed = catalogue.get("models") if isinstance(catalogue, dict) else None
    if not isinstance(listed, list):
        return probe.result("degraded", "200 from /api/tags but no 'models' list")
    names = sorted({m.get("model") or m.get("name") for m in listed if isinstance(m, dict)} - {None})
    if model not in names and f"{model}:latest" not in names:
        return probe.result("misconfigured", f"model {model} not in /api/tags (have: {', '.join(names) or 'none'})")
    about = reply_json(version)
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
    probe = Probe("mongodb", required, secrets)
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


# -- what the settings configure -------------------------------------------------------
def configured_services(settings: Settings, *, mongo_configured: bool) -> list[str]:
    """What a full round probes for these settings, in its order: each configured source's
    service (its descriptor's), Ollama (OLLAMA_HOST has a default) and MongoDB when it is
    configured (MONGODB_URI set, or a client handed in)."""
    services = list(dict.fromkeys(source.service for source in settings.configured_sources if source.service))
    return services + ["ollama"] + (["mongodb"] if mongo_configured else [])
