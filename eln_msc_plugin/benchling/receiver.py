"""The webhook receiver: a WSGI app that checks each delivery, stores it, and answers at once.

`POST /webhooks` (or `/`): the signature is checked (unsigned, mis-signed, stale or future-dated
deliveries get 401), a `webhook-id` seen before gets 401 (a replay; the event it names is already
stored and is judged once), the event is written to the SQLite queue and the answer is 202, all
without talking to Benchling (the keys are fetched once). The work happens later, in the worker pool.
`GET /health` answers 200 while the queue is writable and the workers run, 503 otherwise (for a load
balancer). Events the app does not judge (lifecycle, other tenants) are answered 200 and not queued.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from eln_msc_plugin.benchling.queue import EventQueue
from eln_msc_plugin.benchling.webhooks import Refused, WebhookVerifier

log = logging.getLogger("eln_msc_plugin.benchling.receiver")
MAX_BODY = 1024 * 1024  # Benchling's messages are thin (ids and the names of changed properties)
JUDGED = ("v2.entry.created", "v2.entry.updated.fields", "v2.entity.registered", "v3.customEntity.created",
          "v3.customEntity.updated", "v2.assayRun.created", "v2.assayRun.updated.fields")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class Receiver:
    """The WSGI application; `alive()` says whether the worker pool still runs (for /health)."""

    def __init__(self, verifier: WebhookVerifier, queue: EventQueue, *, tenant: str = "",
                 alive: Callable[[], bool] = lambda: True, queued: Callable[[], None] = lambda: None) -> None:
        self.verifier, self.queue, self.tenant, self.alive, self.queued = verifier, queue, tenant, alive, queued
        self.accepted = 0
        self.refused = 0

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
        try:
            if path == "/health" and method in ("GET", "HEAD"):
                status, body = self._health()
            elif path in ("/", "/webhooks") and method == "POST":
                status, body = self._deliver(environ)
            else:
                status, body = 404, {"error": "not found"}
        except Exception:  # never a traceback to the caller; Benchling delivers again on a 5xx
            log.exception("webhook receiver failed")
            status, body = 500, {"error": "the receiver failed; the delivery was not stored"}
        payload = json.dumps(body).encode()
        start_response(f"{status} {_REASONS.get(status, 'Error')}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]

    def _health(self) -> tuple[int, dict[str, Any]]:
        counts = self.queue.counts()
        ok = self.alive()
        return (200 if ok else 503), {"status": "ok" if ok else "workers stopped", "queue": counts}

    def _deliver(self, environ: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            delivery = self.verifier.verify(_body(environ), _headers(environ))
        except Refused as refused:
            self.refused += 1
            log.warning("webhook refused (%s): %s", refused.status, refused)
            return refused.status, {"error": str(refused)}
        message = delivery.message
        kind, resource = str(message.get("type", "")), message.get("resourceId")
        if kind not in JUDGED or not isinstance(resource, str):
            return 200, {"status": "ignored", "reason": f"{kind or 'this message'} is not judged"}
        if self.tenant and delivery.envelope.get("baseURL") not in (self.tenant, None):
            return 200, {"status": "ignored", "reason": "another tenant"}
        if not self.queue.offer(delivery.webhook_id, kind, resource, delivery.body):
            self.refused += 1
            return 401, {"error": "replayed webhook-id: this delivery was received before"}
        self.accepted += 1
        self.queued()
        return 202, {"status": "queued"}


def _body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refused("bad Content-Length", 400) from None
    if length > MAX_BODY:
        raise Refused(f"body over {MAX_BODY} bytes", 413)
    return bytes(environ["wsgi.input"].read(length)) if length else b""


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    return {key[5:].replace("_", "-").lower(): str(value) for key, value in environ.items()
            if key.startswith("HTTP_")}


_REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            413: "Content Too Large", 500: "Internal Server Error", 503: "Service Unavailable"}
