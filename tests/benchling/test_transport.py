"""The app's HTTP policy under benchling-sdk: client-side rate limit, 429 handling, retries by method."""

from __future__ import annotations

import httpx
import pytest

from eln_msc_plugin.benchling.transport import PoliteTransport, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_limiter_never_lets_more_than_the_limit_into_a_window() -> None:
    clock = Clock()
    limiter = RateLimiter(10, 30.0, clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(35):
        limiter.acquire()
        sent.append(clock.now)
    for i, stamp in enumerate(sent):
        assert sum(1 for s in sent[i:] if s - stamp < 30.0) <= 10
    assert clock.now >= 90.0  # 35 requests at 10 per 30 s need three full waits


def test_a_hold_from_the_server_delays_everyone() -> None:
    clock = Clock()
    limiter = RateLimiter(100, 30.0, clock=clock, sleep=clock.sleep)
    limiter.hold(7.5)
    limiter.acquire()
    assert clock.now == pytest.approx(7.5)


def _transport(statuses: list[int], clock: Clock,
               headers: dict[str, str] | None = None) -> tuple[PoliteTransport, list[str]]:
    seen: list[str] = []
    answers = iter(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        return httpx.Response(next(answers), headers=headers or {}, json={})

    limiter = RateLimiter(1000, 30.0, clock=clock, sleep=clock.sleep)
    return PoliteTransport(limiter, None, sleep=clock.sleep, inner=httpx.MockTransport(handler)), seen


@pytest.mark.parametrize(("method", "statuses", "sent", "final"), [
    ("GET", [429, 200], 2, 200),
    ("PATCH", [429, 200], 2, 200),
    ("POST", [503, 201], 2, 201),
    ("GET", [502, 504, 200], 3, 200),
    ("PATCH", [502, 200], 1, 502),
    ("POST", [504, 200], 1, 504),
    ("GET", [429] * 6, 6, 429),
], ids=["read-429", "write-429", "write-503", "read-502-504", "write-502-not-retried", "write-504-not-retried",
        "gives-up"])
def test_retries_by_status_and_method(method: str, statuses: list[int], sent: int, final: int) -> None:
    clock = Clock()
    transport, seen = _transport(statuses, clock)
    response = httpx.Client(transport=transport).request(method, "http://tenant/api/v2/x", json={})
    assert (len(seen), response.status_code) == (sent, final)


def test_a_429_waits_as_the_server_says() -> None:
    clock = Clock()
    transport, seen = _transport([429, 200], clock, {"x-rate-limit-reset": "12"})
    httpx.Client(transport=transport).get("http://tenant/api/v2/x")
    assert clock.slept == [12.0]
