"""A sliding-window rate limit shared by every thread of the process.

At most `limit` requests start in any window of `window_s` seconds: the limiter keeps
the start times of the last `limit` grants and makes a caller wait until the oldest of
them has left the window. One limiter exists per (host, limit, window), so concurrent
collectors of the same API share it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable


class SlidingWindowLimiter:
    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
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

    def acquire(self) -> float:
        """Block until a request may start; returns the seconds waited."""
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
            self._sleep(pause)
            waited += pause


_LIMITERS: dict[tuple[str, int, float], SlidingWindowLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def shared_limiter(host: str, limit: int, window_s: float) -> SlidingWindowLimiter:
    with _LIMITERS_LOCK:
        key = (host, limit, window_s)
        if key not in _LIMITERS:
            _LIMITERS[key] = SlidingWindowLimiter(limit, window_s)
        return _LIMITERS[key]
