"""A small threaded HTTP proxy on 127.0.0.1 in front of the real Kadi that injects faults on a fixed schedule.

Faults by request number n (counted from 1 over all requests, up to `Schedule.until`):
every `drop_before`-th request the connection is closed before Kadi sees it; every `drop_after`-th it
is forwarded and Kadi acts, then the connection is closed without an answer; every `unavailable`-th
starts a burst of `burst` answers 503; every `limited`-th is answered 429 with `Retry-After`; every
`slow`-th is delayed by `delay` seconds. `fail_path` (a regex) answers 500 for ever, `missing_path` 404 as
Kadi answers a route it does not have (a plugin not installed there). The log says what
happened to each request, so a test can count the writes that reached Kadi.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from eln_msc_plugin.testing.loopback import Loopback, drop, reply

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "upgrade"}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Schedule:
    drop_before: int = 0
    drop_after: int = 0
    unavailable: int = 0
    burst: int = 1
    limited: int = 0
    retry_after: int = 1
    slow: int = 0
    delay: float = 0.2
    until: int = 10**9
    fail_path: str | None = None
    missing_path: str | None = None

    def action(self, n: int, path: str) -> str:
        if self.fail_path and re.search(self.fail_path, path):
            return "error500"
        if self.missing_path and re.search(self.missing_path, path):
            return "missing404"
        if n > self.until:
            return "forward"
        for name, every in (("drop_before", self.drop_before), ("drop_after", self.drop_after),
                            ("limited", self.limited)):
            if every and n % every == 0:
                return name
        if self.unavailable and n % self.unavailable < self.burst:
            return "unavailable" if n >= self.unavailable else "forward"
        return "slow" if self.slow and n % self.slow == 0 else "forward"


@dataclass
class Entry:
    n: int
    method: str
    path: str
    action: str
    status: int | None


@dataclass
class FaultProxy:
    upstream: str
    schedule: Schedule = field(default_factory=Schedule)
    log: list[Entry] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self.server = Loopback(_handler(self))
        self.url = self.server.url

    def __enter__(self) -> FaultProxy:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.close()

    def next(self, method: str, path: str) -> tuple[int, str]:
        with self._lock:
            self._count += 1
            return self._count, self.schedule.action(self._count, path)

    def record(self, entry: Entry) -> None:
        with self._lock:
            self.log.append(entry)

    def writes_reaching_kadi(self, path_pattern: str = "") -> list[Entry]:
        return [e for e in self.log if e.method in WRITES and e.action in ("forward", "slow", "drop_after")
                and re.search(path_pattern, e.path)]

    def faults(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for e in self.log:
            if e.action != "forward":
                found[e.action] = found.get(e.action, 0) + 1
        return found


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    up = urlsplit(proxy.upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            n, action = proxy.next(self.command, self.path)
            if action in ("drop_before", "unavailable", "limited", "error500", "missing404"):
                self._fault(n, action)
                return
            conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read().replace(proxy.upstream.encode(), proxy.url.encode())
            conn.close()
            proxy.record(Entry(n, self.command, self.path, action, response.status))
            if action == "drop_after":
                drop(self)
                return
            if action == "slow":
                time.sleep(proxy.schedule.delay)
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _fault(self, n: int, action: str) -> None:
            status = {"unavailable": 503, "limited": 429, "error500": 500, "missing404": 404}.get(action)
            proxy.record(Entry(n, self.command, self.path, action, status))
            if status is None:
                drop(self)
                return
            payload = b'{"code": %d, "message": "injected fault"}' % status
            reply(self, status, payload,
                  headers={"Retry-After": str(proxy.schedule.retry_after)} if status == 429 else None)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _relay

    return Handler
