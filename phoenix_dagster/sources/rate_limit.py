"""Sliding-window rate limits: at most `limit` requests start in any window of `window_s`
seconds, a caller waiting until the oldest grant has left the window.

`SlidingWindowLimiter` is shared by every thread of a process; `SharedWindowLimiter` by every
process on the machine (a state file under the data directory); the limiters of
rate_limit_stores.py by every machine (Redis or PostgreSQL, PHOENIX_RATE_LIMIT_STORE). `shared_limiter` hands out one
per (host, limit, window), so concurrent collectors of the same API share it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)


class SlidingWindowLimiter:
    def __init__(
        self,
        limit: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if limit < 1 or window_s <= 0:
            raise ValueError("a rate limit needs limit >= 1 and a positive window")
        self.limit, self.window_s = limit, window_s
        self._clock, self._sleep = clock, sleep
        self._grants: deque[float] = deque()
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self.waited_s = 0.0

    def pause(self, seconds: float) -> None:
        """Hold every caller for `seconds` (a server said Retry-After): nobody starts before then."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def acquire(self, sleep: Callable[[float], None] | None = None) -> float:
        """Block until a request may start; returns the seconds waited. `sleep`: how this caller
        waits, when not the limiter's own (a collection that can be stopped passes one that raises
        once it is stopped)."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                pause = self._paused_until - now
                if pause <= 0:
                    while self._grants and now - self._grants[0] >= self.window_s:
                        self._grants.popleft()
                    if len(self._grants) < self.limit:
                        self._grants.append(now)
                        self.waited_s += waited
                        return waited
                    pause = self.window_s - (now - self._grants[0])
            (sleep or self._sleep)(pause)
            waited += pause


_LIMITERS: dict[tuple, SlidingWindowLimiter | SharedWindowLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def shared_limiter(
    host: str,
    limit: int,
    window_s: float,
    state_dir: str | None = None,
    store_url: str | None = None,
    store_outage_s: float | None = None,
):
    """One limiter per (host, limit, window): across machines when `store_url` names a Redis or
    PostgreSQL server (rate_limit_stores.py), across this machine's processes when `state_dir`
    is given (its file is `<state_dir>/<host>.json`), else within this process."""
    with _LIMITERS_LOCK:
        key = (host, limit, window_s, state_dir, store_url, store_outage_s)
        if key not in _LIMITERS:
            if store_url:
                from phoenix_dagster.sources.rate_limit_stores import DEFAULT_OUTAGE_S, store_limiter

                _LIMITERS[key] = store_limiter(
                    store_url, host, limit, window_s, DEFAULT_OUTAGE_S if store_outage_s is None else store_outage_s
                )
            elif state_dir:
                _LIMITERS[key] = SharedWindowLimiter(
                    Path(state_dir) / f"{host.replace(':', '_')}.json", limit, window_s
                )
            else:
                _LIMITERS[key] = SlidingWindowLimiter(limit, window_s)
        return _LIMITERS[key]


class SharedWindowLimiter:
    """The same sliding window, held across processes on one machine: the grants live in a small
    state file under the data directory, read and written under an exclusive `flock`, so two runs
    started together stay under the limit combined. Times are wall-clock (monotonic clocks are
    per process), counted in buckets of window/600 (6 s for an hour), so the window is exact to
    a bucket. A Retry-After pause is shared the same way."""

    BUCKETS = 600

    def __init__(
        self,
        path: Path,
        limit: int,
        window_s: float,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if limit < 1 or window_s <= 0:
            raise ValueError("a rate limit needs limit >= 1 and a positive window")
        self.path, self.limit, self.window_s = path, limit, window_s
        self.bucket_s = max(window_s / self.BUCKETS, 0.001)
        self._clock, self._sleep = clock, sleep
        self.waited_s = 0.0
        path.parent.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def _state(self):
        with os.fdopen(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644), "r+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                state = self._decode(handle.read())
                state.setdefault("buckets", {})
                state.setdefault("paused_until", 0.0)
                yield state
                handle.seek(0)
                handle.write(json.dumps(state))
                handle.truncate()  # after the write: cutting the file to 0 first cost ~0.2 ms a request
                handle.flush()  # written before the lock is let go, not when the file closes
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _decode(self, text: str) -> dict:
        """The stored state. raw_decode: a writer killed between its write and its truncate leaves
        the old state's tail after the new state, which is ignored. A file that cannot be read at
        all (a crash mid-write on a full disk, a power cut before the page reached the disk) would
        otherwise stop every request on the machine: the window starts again empty, said in the log
        (the county's own 429 and Retry-After still hold us back)."""
        text = text.strip()
        if not text:
            return {}
        try:
            state = json.JSONDecoder().raw_decode(text)[0]
            if isinstance(state, dict) and isinstance(state.get("buckets", {}), dict):
                return state
        except ValueError:
            pass
        log.warning(
            "the shared rate window in %s could not be read (%r…); starting it again empty", self.path, text[:40]
        )
        return {}

    def pause(self, seconds: float) -> None:
        with self._state() as state:
            state["paused_until"] = max(state["paused_until"], self._clock() + seconds)

    def acquire(self, sleep: Callable[[float], None] | None = None) -> float:
        waited = 0.0
        while True:
            with self._state() as state:
                now = self._clock()
                pause = state["paused_until"] - now
                if pause <= 0:
                    oldest = int((now - self.window_s) // self.bucket_s) + 1  # buckets still inside the window
                    buckets = {int(k): n for k, n in state["buckets"].items() if int(k) >= oldest}
                    if sum(buckets.values()) < self.limit:
                        current = int(now // self.bucket_s)
                        buckets[current] = buckets.get(current, 0) + 1
                        state["buckets"] = buckets
                        self.waited_s += waited
                        return waited
                    state["buckets"] = buckets
                    first = min(buckets)
                    pause = (first + 1) * self.bucket_s + self.window_s - now  # when the oldest bucket leaves
            pause = max(pause, self.bucket_s / 10)
            (sleep or self._sleep)(pause)
            waited += pause
