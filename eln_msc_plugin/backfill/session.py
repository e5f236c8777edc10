"""The backfill's HTTP session: the shared ELN policy plus a request-rate limit and request counters."""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

from eln_msc_plugin.eln.http import ElnSession, Token
from eln_msc_plugin.eln.kadi import KadiClient

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


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


class BackfillSession(ElnSession):
    """An `ElnSession` that waits for the rate limiter and counts what it sends."""

    def __init__(self, base_url: str, token: Token | None, limiter: RateLimiter, counters: Counters,
                 **kwargs: Any) -> None:
        super().__init__(base_url, token, **kwargs)
        self.limiter = limiter
        self.counters = counters

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.limiter.acquire()
        self.counters.add(method)
        return super().request(method, url, *args, **kwargs)


def make_client(base_url: str, token: Token, limiter: RateLimiter, counters: Counters) -> KadiClient:
    """One client (one pooled session) per worker thread."""
    return KadiClient(base_url, token, session=BackfillSession(base_url, token, limiter, counters, pool=4))
