"""The county's sliding window kept in a store every machine reaches, for collectors on several
machines: Redis (`redis://…`) or PostgreSQL (`postgresql://…`, the same server as Dagster's
storage can be). Chosen by PHOENIX_RATE_LIMIT_STORE; without it the window stays in a file on
this machine (rate_limit.SharedWindowLimiter).

Both keep the same contract as the other limiters — `acquire()` blocks until a request may
start and returns the seconds waited, `pause(seconds)` holds every caller (a Retry-After) — and
both read the time from the store's server, so machines whose clocks disagree still share one
window.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Callable

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


class RedisWindowLimiter:
    def __init__(self, url: str, name: str, limit: int, window_s: float,
                 sleep: Callable[[float], None] = time.sleep):
        import redis

        if limit < 1 or window_s <= 0:
            raise ValueError("a rate limit needs limit >= 1 and a positive window")
        self.limit, self.window_s, self._sleep = limit, window_s, sleep
        self._client = redis.Redis.from_url(url, socket_timeout=10)
        self._keys = [f"phoenix:rate:{name}:grants", f"phoenix:rate:{name}:paused_until"]
        self._acquire = self._client.register_script(_ACQUIRE)
        self._pause = self._client.register_script(_PAUSE)
        self.waited_s = 0.0

    def pause(self, seconds: float) -> None:
        self._pause(keys=self._keys[1:], args=[max(int(seconds * 1000), 1)])

    def acquire(self, sleep: Callable[[float], None] | None = None) -> float:
        waited = 0.0
        while True:
            wait_ms = int(self._acquire(keys=self._keys, args=[int(self.window_s * 1000), self.limit,
                                                              uuid.uuid4().hex]))
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


class PostgresWindowLimiter:
    """The window as rows of `phoenix_rate_grants`, changed under a transaction-scoped advisory
    lock per limiter, so concurrent callers on any machine take turns deciding."""

    def __init__(self, url: str, name: str, limit: int, window_s: float,
                 sleep: Callable[[float], None] = time.sleep):
        import psycopg2

        if limit < 1 or window_s <= 0:
            raise ValueError("a rate limit needs limit >= 1 and a positive window")
        self.name, self.limit, self.window_s, self._sleep = name, limit, window_s, sleep
        self._connection = psycopg2.connect(url, connect_timeout=10, application_name="phoenix-estate rate limit")
        self._lock = threading.Lock()  # one connection: this process's threads take turns on it
        with self._lock, self._connection, self._connection.cursor() as cursor:
            cursor.execute("select pg_advisory_xact_lock(hashtext('phoenix_rate_tables'))")
            cursor.execute(_POSTGRES_TABLES)
        self.waited_s = 0.0

    def pause(self, seconds: float) -> None:
        with self._lock, self._connection, self._connection.cursor() as cursor:
            cursor.execute(
                "insert into phoenix_rate_pauses values (%s, clock_timestamp() + %s * interval '1 second') "
                "on conflict (limiter) do update set paused_until = greatest(phoenix_rate_pauses.paused_until, "
                "excluded.paused_until)", (self.name, seconds))

    def _try(self) -> float:
        """0 when granted, else the seconds to wait."""
        with self._lock, self._connection, self._connection.cursor() as cursor:
            cursor.execute("select pg_advisory_xact_lock(hashtext(%s))", (self.name,))
            cursor.execute("select extract(epoch from paused_until - clock_timestamp()) from phoenix_rate_pauses "
                           "where limiter = %s", (self.name,))
            paused = cursor.fetchone()
            if paused and paused[0] > 0:
                return float(paused[0])
            cursor.execute("delete from phoenix_rate_grants where limiter = %s and "
                           "granted_at <= clock_timestamp() - %s * interval '1 second'", (self.name, self.window_s))
            cursor.execute("select count(*), extract(epoch from min(granted_at) + %s * interval '1 second' "
                           "- clock_timestamp()) from phoenix_rate_grants where limiter = %s",
                           (self.window_s, self.name))
            count, oldest_leaves_in = cursor.fetchone()
            if count < self.limit:
                cursor.execute("insert into phoenix_rate_grants values (%s, clock_timestamp())", (self.name,))
                return 0.0
            return max(float(oldest_leaves_in), 0.001)

    def acquire(self, sleep: Callable[[float], None] | None = None) -> float:
        waited = 0.0
        while True:
            wait = self._try()
            if wait <= 0:
                self.waited_s += waited
                return waited
            (sleep or self._sleep)(wait)
            waited += wait


def store_limiter(url: str, name: str, limit: int, window_s: float):
    """The limiter for PHOENIX_RATE_LIMIT_STORE's URL: redis:// or rediss://, postgresql://."""
    scheme = url.split("://", 1)[0].lower()
    if scheme in ("redis", "rediss", "unix"):
        return RedisWindowLimiter(url, name, limit, window_s)
    if scheme in ("postgresql", "postgres"):
        return PostgresWindowLimiter(url, name, limit, window_s)
    raise ValueError(f"PHOENIX_RATE_LIMIT_STORE: {scheme!r} is not redis:// or postgresql://")
