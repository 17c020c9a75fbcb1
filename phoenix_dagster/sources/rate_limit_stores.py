"""The county's sliding window kept in a store every machine reaches, for collectors on several
machines: Redis (`redis://…`) or PostgreSQL (`postgresql://…`, the same server as Dagster's
storage can be). Chosen by PHOENIX_RATE_LIMIT_STORE; without it the window stays in a file on
this machine (rate_limit.SharedWindowLimiter).

Both keep the same contract as the other limiters — `acquire()` blocks until a request may
start and returns the seconds waited, `pause(seconds)` holds every caller (a Retry-After) — and
both read the time from the store's server, so machines whose clocks disagree still share one
window.

A store that goes away for a while (a restart, a failover, a network blip) pauses the requests
instead of failing them: each operation is tried again with a growing backoff (0.25 s doubling to
5 s) for up to `outage_s` (PHOENIX_RATE_LIMIT_STORE_OUTAGE_S, 60 s by default); past that the
collection fails with RateLimitStoreUnavailable, naming the store by scheme, host and port only.
The PostgreSQL limiter opens a new connection after a broken one; Redis's pool does the same.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from urllib.parse import urlsplit

from phoenix_dagster.sources.base import SourceUnavailable

DEFAULT_OUTAGE_S = 60.0  # how long a collection waits for the shared store to come back

_BACKOFF_FIRST_S, _BACKOFF_MAX_S = 0.25, 5.0


class RateLimitStoreUnavailable(SourceUnavailable):
    """The shared store of the rate limit did not answer for longer than the outage bound."""


def store_name(url: str) -> str:
    """How a message names the store: its kind and where it is, never its credentials."""
    try:
        parts = urlsplit(url)
        where = f"{parts.hostname or 'localhost'}{f':{parts.port}' if parts.port else ''}"
    except ValueError:
        where = "an unreadable address"
    return f"{url.split('://', 1)[0].lower() or 'store'} at {where}"


class _OutageTolerant(ABC):
    """A sliding window of `limit` grants a `window_s` kept in a shared store at `url` under
    `name`; runs each store operation waiting out an outage of up to `outage_s` with backoff."""

    def __init__(
        self,
        url: str,
        name: str,
        limit: int,
        window_s: float,
        sleep: Callable[[float], None] = time.sleep,
        outage_s: float = DEFAULT_OUTAGE_S,
    ):
        if limit < 1 or window_s <= 0:
            raise ValueError("a rate limit needs limit >= 1 and a positive window")
        self.url, self.name, self.limit, self.window_s = url, name, limit, window_s
        self._sleep, self.outage_s = sleep, outage_s

    @abstractmethod
    def _outage_errors(self) -> tuple[type[BaseException], ...]:
        """The store client's errors that mean the store is not answering (retried until `outage_s`)."""

    def _reset(self) -> None:  # noqa: B027 (a hook: nothing to forget unless the store keeps a connection)
        """Forget a connection the outage broke (the next operation opens a new one)."""

    def _with_outage(self, operation, sleep: Callable[[float], None] | None = None):
        started, backoff = None, _BACKOFF_FIRST_S
        while True:
            try:
                return operation()
            except self._outage_errors() as exc:
                self._reset()
                now = time.monotonic()
                started = now if started is None else started
                if now - started >= self.outage_s:
                    raise RateLimitStoreUnavailable(
                        f"the county rate limit's store (PHOENIX_RATE_LIMIT_STORE, {store_name(self.url)}) has not "
                        f"answered for {now - started:.0f} s (PHOENIX_RATE_LIMIT_STORE_OUTAGE_S is "
                        f"{self.outage_s:g}): {type(exc).__name__}"
                    ) from None
                (sleep or self._sleep)(min(backoff * (0.5 + random.random() / 2), self.outage_s))
                backoff = min(backoff * 2, _BACKOFF_MAX_S)


# Redis: grants are members of a sorted set scored by the server's time in ms. One script, run
# atomically by the server: drop grants older than the window; grant when fewer than the limit
# (returns 0) else return the ms until the oldest leaves the window; a pause key holds everyone.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return paused - now end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(tonumber(oldest[2]) + window - now, 1)
"""
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
if tonumber(redis.call('GET', KEYS[1]) or '0') < until_ms then
  redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]))
end
return until_ms
"""


class RedisWindowLimiter(_OutageTolerant):
    def __init__(self, url: str, name: str, limit: int, window_s: float, **timing):
        import redis

        super().__init__(url, name, limit, window_s, **timing)
        # a store that stops answering fails an operation within seconds, which the outage loop retries
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)
        self._keys = [f"phoenix:rate:{name}:grants", f"phoenix:rate:{name}:paused_until"]
        self._acquire = self._client.register_script(_ACQUIRE)
        self._pause = self._client.register_script(_PAUSE)
        self.waited_s = 0.0

    def _outage_errors(self) -> tuple[type[BaseException], ...]:
        import redis

        return (redis.ConnectionError, redis.TimeoutError, redis.exceptions.ReadOnlyError)  # READONLY: mid-failover

    def pause(self, seconds: float) -> None:
        self._with_outage(lambda: self._pause(keys=self._keys[1:], args=[max(int(seconds * 1000), 1)]))

    def acquire(self, sleep: Callable[[float], None] | None = None) -> float:
        waited = 0.0
        while True:
            wait_ms = int(
                self._with_outage(
                    lambda: self._acquire(
                        keys=self._keys, args=[int(self.window_s * 1000), self.limit, uuid.uuid4().hex]
                    ),
                    sleep,
                )
            )
            if wait_ms <= 0:
                self.waited_s += waited
                return waited
            (sleep or self._sleep)(wait_ms / 1000)
            waited += wait_ms / 1000


_POSTGRES_TABLES = """
create table if not exists phoenix_rate_grants (limiter text not null, granted_at timestamptz not null);
create index if not exists phoenix_rate_grants_by_limiter on phoenix_rate_grants (limiter, granted_at);
create table if not exists phoenix_rate_pauses (limiter text primary key, paused_until timestamptz not null);
"""


class PostgresWindowLimiter(_OutageTolerant):
    """The window as rows of `phoenix_rate_grants`, changed under a transaction-scoped advisory
    lock per limiter, so concurrent callers on any machine take turns deciding."""

    def __init__(self, url: str, name: str, limit: int, window_s: float, **timing):
        super().__init__(url, name, limit, window_s, **timing)
        self._connection = None
        self._lock = threading.Lock()  # one connection: this process's threads take turns on it
        self.waited_s = 0.0  # the tables are made on each new connection (not here: no outage wait at construction)

    def _outage_errors(self) -> tuple[type[BaseException], ...]:
        import psycopg2

        return (psycopg2.OperationalError, psycopg2.InterfaceError)

    def _connected(self):
        """The connection, opened again after one an outage broke. A server that stops answering
        fails a statement within ~10 s (statement_timeout, TCP keepalives and user timeout)."""
        import psycopg2

        if self._connection is None or self._connection.closed:
            connection = psycopg2.connect(
                self.url,
                connect_timeout=5,
                application_name="phoenix-estate rate limit",
                keepalives=1,
                keepalives_idle=5,
                keepalives_interval=2,
                keepalives_count=3,
                tcp_user_timeout=10_000,
                options="-c statement_timeout=10000",
            )
            try:
                with connection, connection.cursor() as cursor:
                    cursor.execute("select pg_advisory_xact_lock(hashtext('phoenix_rate_tables'))")
                    cursor.execute(_POSTGRES_TABLES)
            except Exception:
                connection.close()
                raise
            self._connection = connection
        return self._connection

    def _reset(self) -> None:
        with self._lock:
            if self._connection is not None:
                try:
                    self._connection.close()
                except Exception:  # already broken: nothing to close cleanly
                    pass
                self._connection = None

    def pause(self, seconds: float) -> None:
        self._with_outage(lambda: self._pause(seconds))

    def _pause(self, seconds: float) -> None:
        with self._lock:
            connection = self._connected()
            with connection, connection.cursor() as cursor:
                cursor.execute(
                    "insert into phoenix_rate_pauses values (%s, clock_timestamp() + %s * interval '1 second') "
                    "on conflict (limiter) do update set paused_until = greatest(phoenix_rate_pauses.paused_until, "
                    "excluded.paused_until)",
                    (self.name, seconds),
                )

    def _try(self) -> float:
        """0 when granted, else the seconds to wait."""
        with self._lock:
            connection = self._connected()
            with connection, connection.cursor() as cursor:
                return self._decide(cursor)

    def _decide(self, cursor) -> float:
        cursor.execute("select pg_advisory_xact_lock(hashtext(%s))", (self.name,))
        cursor.execute(
            "select extract(epoch from paused_until - clock_timestamp()) from phoenix_rate_pauses where limiter = %s",
            (self.name,),
        )
        paused = cursor.fetchone()
        if paused and paused[0] > 0:
            return float(paused[0])
        cursor.execute(
            "delete from phoenix_rate_grants where limiter = %s and "
            "granted_at <= clock_timestamp() - %s * interval '1 second'",
            (self.name, self.window_s),
        )
        cursor.execute(
            "select count(*), extract(epoch from min(granted_at) + %s * interval '1 second' "
            "- clock_timestamp()) from phoenix_rate_grants where limiter = %s",
            (self.window_s, self.name),
        )
        count, oldest_leaves_in = cursor.fetchone()
        if count < self.limit:
            cursor.execute("insert into phoenix_rate_grants values (%s, clock_timestamp())", (self.name,))
            return 0.0
        return max(float(oldest_leaves_in), 0.001)

    def acquire(self, sleep: Callable[[float], None] | None = None) -> float:
        waited = 0.0
        while True:
            wait = self._with_outage(self._try, sleep)
            if wait <= 0:
                self.waited_s += waited
                return waited
            (sleep or self._sleep)(wait)
            waited += wait


def store_limiter(url: str, name: str, limit: int, window_s: float, outage_s: float = DEFAULT_OUTAGE_S):
    """The limiter for PHOENIX_RATE_LIMIT_STORE's URL: redis:// or rediss://, postgresql://."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ("redis", "rediss", "unix"):
        return RedisWindowLimiter(url, name, limit, window_s, outage_s=outage_s)
    if scheme in ("postgresql", "postgres"):
        return PostgresWindowLimiter(url, name, limit, window_s, outage_s=outage_s)
    raise ValueError(
        "PHOENIX_RATE_LIMIT_STORE is not a redis://, rediss:// or postgresql:// URL"
        + (f" (its scheme is {scheme!r})" if scheme.isalnum() else "")
    )
