"""A threaded HTTP server on 127.0.0.1 for tests (the contract suite's fault server, an adapter's fake), and
the two ways its handlers answer: a whole response, or a connection closed unanswered."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

POLL_S = 0.05  # how often the serving loop looks for a stop: `close` returns within this


class Loopback:
    """`handler` served on a free port of 127.0.0.1 from a daemon thread, between `start` and `close`
    (or as a context manager); `url` is known from the start."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(POLL_S,), daemon=True)

    def start(self) -> Loopback:
        if self._thread.ident is None:  # once: a started server entered as a context manager is not restarted
            self._thread.start()
        return self

    def close(self) -> None:
        if self._thread.is_alive():  # shutdown waits for the loop: never ask one that is not running
            self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Loopback:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def reply(handler: BaseHTTPRequestHandler, status: int, data: bytes, *,
          headers: Mapping[str, str] | None = None, content_type: str = "application/json") -> None:
    """Answer with `status`, `data` and its length; `headers` add to (or replace) the content type."""
    handler.send_response(status)
    for key, value in {"Content-Type": content_type, **(headers or {})}.items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def drop(handler: BaseHTTPRequestHandler) -> None:
    """Close the connection without an answer, as a proxy or a crashed server does."""
    handler.close_connection = True
    with contextlib.suppress(OSError):
        handler.connection.shutdown(socket.SHUT_RDWR)
