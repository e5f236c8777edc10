"""A loopback HTTP server that answers every request with one fault, for the adapter contract suite.

Each fault is something an ELN (or what stands in front of it) really does: an error status, a rate limit
that never lifts, a body that is not JSON or not the shape asked for, a connection closed unanswered, or
no server at all. Error bodies repeat the credentials the request carried, so the suite can check that
an adapter never shows them.
"""

from __future__ import annotations

import socket
from http.server import BaseHTTPRequestHandler
from typing import Any

from eln_msc_plugin.testing.loopback import Loopback, drop, reply

JSON = "application/json"
# kind → (status, content type, body); "drop": close unanswered; "refused": nothing listens.
FAULTS: dict[str, tuple[int, str, bytes] | str] = {
    "500": (500, JSON, b'{"code": 500, "description": "internal error, credentials %(auth)s"}'),
    "401": (401, JSON, b'{"code": 401, "description": "bad token %(auth)s"}'),
    "403": (403, JSON, b'{"code": 403, "description": "forbidden for %(auth)s"}'),
    "404": (404, JSON, b'{"code": 404, "description": "not found"}'),
    "429": (429, JSON, b'{"code": 429, "description": "slow down"}'),
    "not-json": (200, "text/html", b"<html><body>a proxy's login page</body></html>"),
    "wrong-shape": (200, JSON, b'["not", "what", "was", "asked", "for"]'),
    "empty": (200, JSON, b""),
    "drop": "drop",
    "refused": "refused",
}


class FaultServer:
    """`url` answers every request with the fault `kind`; `secret` is the credential the last request sent."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.secret = "\x00never-sent"
        self._server: Loopback | None = None
        if kind == "refused":
            with socket.socket() as probe:  # a port nothing listens on
                probe.bind(("127.0.0.1", 0))
                self.url = f"http://127.0.0.1:{probe.getsockname()[1]}"
            return
        self._server = Loopback(_handler(self))
        self.url = self._server.url

    def __enter__(self) -> FaultServer:
        if self._server is not None:
            self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()


def _handler(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            auth = self.headers.get("Authorization") or ""
            server.secret = auth.split(" ", 1)[-1] or server.secret
            fault = FAULTS[server.kind]
            if isinstance(fault, str):
                drop(self)
                return
            status, kind, body = fault
            reply(self, status, body.replace(b"%(auth)s", auth.encode("latin-1", "replace")), content_type=kind,
                  headers={"Retry-After": "0"} if status == 429 else None)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = answer

    return Handler
