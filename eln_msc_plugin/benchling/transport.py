"""The HTTP policy under benchling-sdk: a client-side rate limit, 429/5xx handling with backoff, counting.

Benchling allows an app 300 requests per 30 s (and a tenant's apps 1,000) and answers 429 past that
(Benchling developer docs, "Rate limiting"). `RateLimiter` keeps this process under a configured share
of that window; `PoliteTransport` (an httpx transport the SDK's client and its OAuth token client both
use) waits for a slot before each request, retries 429 and 503 (the server did not act) for any method
and 502/504 and connection failures for reads only, waiting as `Retry-After` or `x-rate-limit-reset`
says, and reports each request's method to a meter (the adapter's tally).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

import httpx

WINDOW = 30.0
DEFAULT_PER_WINDOW = 240  # a margin under Benchling's 300 per 30 s for one app
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
MAX_WAIT = 60.0


class RateLimiter:
    """At most `limit` requests in any `window` seconds, shared by every thread of the process."""

    def __init__(self, limit: int = DEFAULT_PER_WINDOW, window: float = WINDOW,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.limit, self.window = limit, window
        self._clock, self._sleep = clock, sleep
        self._sent: deque[float] = deque()
        self._hold_until = 0.0
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting for a slot, all threads together

    def acquire(self) -> None:
        """Block until a request may be sent, then count it as sent."""
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and now - self._sent[0] >= self.window:
                    self._sent.popleft()
                wait = self._hold_until - now
                if wait <= 0 and len(self._sent) < self.limit:
                    self._sent.append(now)
                    return
                if wait <= 0:
                    wait = self.window - (now - self._sent[0])
            self.waited += wait
            self._sleep(min(wait, MAX_WAIT))

    def hold(self, seconds: float) -> None:
        """Send nothing for `seconds` (the server said so with a 429)."""
        with self._lock:
            self._hold_until = max(self._hold_until, self._clock() + min(seconds, MAX_WAIT))


def server_wait(response: httpx.Response) -> float | None:
    """How long the server asked us to wait, from `Retry-After` or the rate-limit reset header."""
    for name in ("retry-after", "x-rate-limit-reset", "x-ratelimit-reset"):
        value = response.headers.get(name)
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                continue
    return None


class PoliteTransport(httpx.BaseTransport):
    """Rate-limited, retrying, counted HTTP for the Benchling SDK."""

    def __init__(self, limiter: RateLimiter, meter: Callable[[str], None] | None = None, *, tries: int = 6,
                 backoff: float = 0.5, sleep: Callable[[float], None] = time.sleep,
                 inner: httpx.BaseTransport | None = None) -> None:
        self.limiter, self.meter = limiter, meter
        self.tries, self.backoff, self._sleep = tries, backoff, sleep
        self._inner = inner or httpx.HTTPTransport()
        self.retried = 0
        self.token_requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()  # the body is sent again on a retry
        safe = request.method in IDEMPOTENT
        for attempt in range(self.tries):
            last = attempt == self.tries - 1
            self.limiter.acquire()
            if request.url.path.endswith("/token"):
                self.token_requests += 1  # the OAuth token, fetched once per 15 min or so: not the batch's cost
            elif self.meter is not None:
                self.meter(request.method)
            try:
                response = self._inner.handle_request(request)
            except httpx.ConnectError:
                if last:
                    raise
                self._pause(attempt, None)  # never connected: nothing was done, any method may retry
                continue
            except httpx.TransportError:
                if last or not safe:
                    raise
                self._pause(attempt, None)
                continue
            status = response.status_code
            if not last and (status in (429, 503) or (safe and status in (502, 504))):
                wait = server_wait(response)
                response.close()
                if status == 429:
                    self.limiter.hold(wait if wait is not None else self.backoff * 2 ** attempt)
                self._pause(attempt, wait)
                continue
            return response
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _pause(self, attempt: int, wait: float | None) -> None:
        self.retried += 1
        self._sleep(min(wait if wait is not None else self.backoff * 2 ** attempt, MAX_WAIT))

    def close(self) -> None:
        self._inner.close()
