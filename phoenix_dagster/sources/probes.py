"""What every service probe is made of: a `ProbeResult` (state, latency, one line saying why,
secrets masked), the `Probe` that times one and builds its result, and one GET that turns
transport failures into states. Each source's probe is in its own module (its descriptor's
resource calls it); Ollama's and MongoDB's and the wiring are in monitoring/health.py.

States: ``up`` answered as its contract says; ``down`` no usable answer (refused connection,
timeout, 5xx); ``misconfigured`` it answered but our configuration cannot work with it;
``refused`` the credentials were refused; ``degraded`` it works, but not fully (a 429, a 200 that
is not the documented reply). A probe never raises for a transport or server error and never
puts a secret in its detail."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from phoenix_dagster.sources.json_reply import UnreadableJson, read_json

DEFAULT_TIMEOUT_S = 3.0
STATES = ("up", "down", "misconfigured", "refused", "degraded")
FAILING_STATES = frozenset({"down", "misconfigured", "refused"})


@dataclass(frozen=True)
class ProbeResult:
    service: str  # Ollama, MongoDB or a source's service
    required: bool  # a failing required probe fails the run
    state: str  # one of STATES
    latency_ms: float | None  # time until the probe's last reply; None when nothing answered
    detail: str  # one line: the reason, secrets masked
    checked_at: datetime  # UTC, when the probe started

    @property
    def failing(self) -> bool:
        return self.state in FAILING_STATES


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


def where(url: str) -> str:
    """host:port of a URL, nothing else (no userinfo, path or query)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "(no host)", parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:  # "http://[::1", a port that is not a number
        return "(unparsable URL)"
    return f"{host}:{port}" if port else host


# -- timing -----------------------------------------------------------------------------
class Probe:
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
class NoAnswer(Exception):
    def __init__(self, state: str, detail: str):
        super().__init__(detail)
        self.state, self.detail = state, detail


@contextmanager
def open_client(http: httpx.Client | None) -> Iterator[httpx.Client]:
    if http is not None:
        yield http
        return
    with httpx.Client(follow_redirects=False) as own:
        yield own


def get(probe: Probe, http: httpx.Client, url: str, timeout_s: float, **kwargs) -> httpx.Response:
    """One GET; a transport failure becomes NoAnswer with the reason."""
    place = where(url)
    try:
        response = http.get(url, timeout=timeout_s, **kwargs)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise NoAnswer("misconfigured", f"not a usable URL ({type(exc).__name__}: {exc})") from None
    except httpx.ConnectTimeout:
        raise NoAnswer("down", f"no connection to {place} within {timeout_s:g} s") from None
    except httpx.TimeoutException:
        raise NoAnswer("down", f"no reply from {place} within {timeout_s:g} s") from None
    except httpx.ConnectError as exc:
        reason = "connection refused at" if "refused" in str(exc).lower() else f"cannot connect ({exc}) to"
        raise NoAnswer("down", f"{reason} {place}") from None
    except httpx.HTTPError as exc:
        raise NoAnswer("down", f"{type(exc).__name__} from {place}: {exc}") from None
    probe.replied()
    return response


def by_status(response: httpx.Response, path: str, setting: str) -> tuple[str, str]:
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


def reply_json(response: httpx.Response):
    try:
        return read_json(response.content)
    except UnreadableJson:  # malformed, or nested past what any contract needs: not the envelope
        return None


def turn_at(limiter, timeout_s: float) -> None:
    """Take a turn at a source's rate limiter, or raise NoAnswer (degraded) when the turn is
    further away than the probe's timeout: the window is full or a Retry-After is in force."""
    waited = [0.0]

    def sleep(seconds: float) -> None:
        if waited[0] + seconds > timeout_s:
            raise NoAnswer(
                "degraded",
                f"not probed: the source's rate limit allows no request for {seconds:.0f} s "
                "(its window is full or a Retry-After is in force)",
            )
        waited[0] += seconds
        time.sleep(seconds)

    try:
        limiter.acquire(sleep=sleep)
    except NoAnswer:
        raise
    except Exception as exc:  # the limiter's shared store is away: not a request over the limit either
        raise NoAnswer(
            "degraded", f"not probed: the source's rate limit could not be asked ({scrub(str(exc))})"
        ) from None
