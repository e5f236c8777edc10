"""A loopback HTTP server that answers every request with one fault, for the adapter contract suite.

Each fault is something an ELN (or what stands in front of it) really does: an error status, a rate limit
that never lifts, a body that is not JSON or not the shape asked for, a connection closed unanswered, or
no server at all. Error bodies repeat the credentials the request carried, so the suite can check that
an adapter never shows them.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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
        self._server: ThreadingHTTPServer | None = None
        if kind == "refused":
            with socket.socket() as probe:  # a port nothing listens on
                probe.bind(("127.0.0.1", 0))
                self.url = f"http://127.0.0.1:{probe.getsockname()[1]}"
            return
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FaultServer:
        if self._server is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


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
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            status, kind, body = fault
            data = body.replace(b"%(auth)s", auth.encode("latin-1", "replace"))
            self.send_response(status)
            self.send_header("Content-Type", kind)
            if status == 429:
                self.send_header("Retry-After", "0")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = answer

    return Handler
