"""The backfill's request meter: a request-rate limit and counters over every worker's adapter.

Each worker opens its own adapter; the adapter's HTTP session calls the meter before every request.
"""

from __future__ import annotations

import threading
import time

from eln_msc_plugin.eln.base import WRITE_METHODS


class RateLimiter:
    """At most `rate` requests per second over every worker (evenly spaced, no bursts); None: unlimited."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


class Counters:
    """Requests and writes sent by every worker's session (the writes are what idempotency is about)."""

    def __init__(self) -> None:
        self.requests = 0
        self.writes = 0
        self._lock = threading.Lock()

    def add(self, method: str) -> None:
        with self._lock:
            self.requests += 1
            self.writes += method.upper() in WRITE_METHODS


class Meter:
    """Called by each adapter before every request: waits for the rate limiter, then counts."""

    def __init__(self, rate: float | None) -> None:
        self.limiter = RateLimiter(rate)
        self.counters = Counters()

    def __call__(self, method: str) -> None:
        self.limiter.acquire()
        self.counters.add(method)
