"""A fake Benchling tenant: a real, threaded HTTP server on loopback for the Benchling adapter's tests.

Benchling is a hosted service and cannot run here, so this fake stands in for it. It checks every
request it receives and every response it sends against the stable REST description shipped in the
installed `benchling-api-client` (openapi-core); a request the description forbids is refused with 400
and recorded in `violations`, and so is a response of the fake's own that the description does not
allow (a test fails on either). What the description leaves out is coded by hand, each place naming
its source: OAuth client credentials, rate limits, pagination limits, the JWKS, webhook signing.
The resources live in `fake_benchling_api.py`; webhooks are signed by `benchling_signing.py`.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import requests
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.support import benchling_spec
from tests.support.benchling_signing import Signer
from tests.support.fake_benchling_api import Tenant

# Benchling's documented limits ("Rate limiting", Benchling developer docs): 300 requests per 30 s per
# app; excess requests get 429. Tests shrink the window to keep bursts short.
RATE_LIMIT = (300, 30.0)
# Statuses the description does not list for every operation, answered as Benchling's docs describe
# them (401 bad token, 404 unknown id, 429 rate limited, 503 unavailable): not response-validated.
UNDESCRIBED_OK = frozenset({401, 403, 404, 429, 503})


class FakeBenchling:
    """The server, its tenant data, its apps' credentials, and the record of what it was asked."""

    def __init__(self, *, rate_limit: tuple[int, float] = RATE_LIMIT, validate: bool = True) -> None:
        self.tenant = Tenant(self)
        self.signer = Signer()
        self.rate_limit = rate_limit
        self.validate = validate
        self.violations: list[str] = []
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status) in order of arrival
        self.arrivals: list[float] = []  # monotonic times of the authenticated API requests (limited or not)
        self.rate_limited = 0
        self.clients: dict[str, str] = {}  # client id -> secret
        self.tokens: dict[str, str] = {}   # bearer token -> client id
        self.fail_next: deque[tuple[str, int]] = deque()  # (path prefix, status) injected faults
        self._windows: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._server: Any = None
        self.url = ""
        self.app_id = "app_" + secrets.token_hex(6)
        self.app_definition_id = "appdef_" + secrets.token_hex(6)
        self.tenant_id = "ten_" + secrets.token_hex(4)

    # ------------------------------------------------------------ lifecycle
    def start(self) -> FakeBenchling:
        if self.validate:
            benchling_spec.rest_spec()  # built once per test session, before the first request
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-benchling", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def add_client(self, client_id: str | None = None, secret: str | None = None) -> tuple[str, str]:
        client_id = client_id or "cid_" + secrets.token_hex(6)
        secret = secret or "secret-" + secrets.token_hex(12)
        self.clients[client_id] = secret
        return client_id, secret

    # ------------------------------------------------------------ webhooks
    def envelope(self, message: dict[str, Any]) -> dict[str, Any]:
        """A webhook envelope as Benchling wraps each message (webhook description `WebhookEnvelopeV0`)."""
        envelope = {"version": "0", "baseURL": self.url.removeprefix("http://"), "tenantId": self.tenant_id,
                    "app": {"id": self.app_id}, "channel": "events", "message": message,
                    "appDefinition": {"id": self.app_definition_id, "versionNumber": "1.0.0"}}
        errors = benchling_spec.webhook_errors(envelope)
        if errors:  # the fake must not send what Benchling would not
            raise AssertionError(f"the fake built a webhook the description refuses: {errors}")
        return envelope

    def deliver(self, url: str, message: dict[str, Any], *, timeout: float = 30.0) -> requests.Response:
        """Sign and POST one webhook message to `url`, as Benchling delivers it."""
        body = json.dumps(self.envelope(message))
        return requests.post(url, data=body.encode(), headers=self.signer.headers(body), timeout=timeout)

    def deliver_pending(self, url: str) -> list[int]:
        """Deliver every queued webhook (oldest first); the statuses the receiver answered."""
        statuses = []
        while True:
            with self.tenant.lock:
                if not self.tenant.webhooks:
                    return statuses
                message = self.tenant.webhooks.pop(0)
            statuses.append(self.deliver(url, message).status_code)

    def api_requests(self, method: str | None = None) -> list[tuple[str, str, int]]:
        """Requests to the REST API (token requests included), optionally of one method."""
        return [r for r in self.requests if r[1].startswith("/api/v2/") and (method is None or r[0] == method)]

    # ------------------------------------------------------------ WSGI
    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        # benchling-sdk asks for every first page with an empty `nextToken=` (pagination_helpers.py,
        # `PageIterator._fetch_data`), which Benchling treats as absent; the description does not allow
        # empty values, so the fake drops it the way the server ignores it.
        query = [p for p in environ.get("QUERY_STRING", "").split("&") if p and p != "nextToken="]
        environ["QUERY_STRING"] = "&".join(query)
        request = Request(environ)
        response = self._answer(request)
        with self._lock:
            self.requests.append((request.method, request.path, response.status_code))
        return response(environ, start_response)

    def _answer(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/apps/jwks/"):
            # Not in the REST description: the SDK reads keys from `apps.benchling.com/api/v1/apps/{id}/jwks`
            # (webhook_helpers._production_webhook_jwks); tests point its jwk_function here.
            return _json(self.signer.jwks(), 200)
        if path.startswith("/download/"):
            # Not in the REST description: `EntryExternalFile.downloadURL` is "a short-lived URL" (S3).
            return self.tenant.download(path.rpartition("/")[2])
        if not path.startswith("/api/v2/"):
            return _error(404, "not found")
        if self.validate:
            problem = self._request_problem(request) or self.tenant.worded_limits(request)
            if problem:
                self.violations.append(f"{request.method} {path}: {problem}")
                return _error(400, problem)
        if path == "/api/v2/token":
            return self._checked(request, self._token(request))
        client = self.tokens.get(request.headers.get("Authorization", "").removeprefix("Bearer "))
        if client is None:
            return _error(401, "Invalid or expired token", "invalid_request_error")
        if not self._admit(client):
            self.rate_limited += 1
            return self._too_many(client)
        injected = self._injected(path)
        if injected is not None:
            return injected
        return self._checked(request, self.tenant.route(request, client))

    def _request_problem(self, request: Request) -> str:
        try:
            benchling_spec.rest_spec().validate_request(WerkzeugOpenAPIRequest(request))
        except Exception as error:  # openapi-core raises a family of errors; each names the problem
            cause = getattr(error, "__cause__", None)
            return f"{error}" + (f" ({cause})" if cause else "")
        return ""

    def _checked(self, request: Request, response: Response) -> Response:
        if not self.validate or response.status_code in UNDESCRIBED_OK:
            return response
        try:
            benchling_spec.rest_spec().validate_response(WerkzeugOpenAPIRequest(request),
                                                         WerkzeugOpenAPIResponse(response))
        except Exception as error:
            cause = getattr(error, "__cause__", None)
            self.violations.append(f"response to {request.method} {request.path}: {error} ({cause})")
            return _error(500, "the fake's response broke the description")
        return response

    # ------------------------------------------------------------ auth and limits
    def _token(self, request: Request) -> Response:
        # OAuth2 client credentials (RFC 6749 §4.4) as benchling-sdk's ClientCredentialsOAuth2 sends them:
        # Basic auth with client id and secret, form body grant_type=client_credentials.
        client_id, secret = _basic(request.headers.get("Authorization", ""))
        if client_id is None:
            client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
        if client_id not in self.clients or self.clients[client_id] != secret:
            return _json({"error": "invalid_client", "error_description": "Invalid client credentials"}, 401)
        token = "tok_" + secrets.token_urlsafe(24)
        self.tokens[token] = client_id
        return _json({"access_token": token, "token_type": "Bearer", "expires_in": 900}, 200)

    def _admit(self, client: str) -> bool:
        limit, window = self.rate_limit
        now = time.monotonic()
        with self._lock:
            stamps = self._windows.setdefault(client, deque())
            while stamps and now - stamps[0] >= window:
                stamps.popleft()
            self.arrivals.append(now)
            if len(stamps) >= limit:
                return False
            stamps.append(now)
            return True

    def _too_many(self, client: str) -> Response:
        limit, window = self.rate_limit
        with self._lock:
            oldest = self._windows[client][0]
        reset = max(0.0, window - (time.monotonic() - oldest))
        response = _error(429, "Rate limit exceeded", "invalid_request_error")
        # Header names as benchling-sdk reads them (benchling.py `_capture_rate_limit_headers`).
        response.headers["x-rate-limit-limit"] = str(limit)
        response.headers["x-rate-limit-remaining"] = "0"
        response.headers["x-rate-limit-reset"] = f"{reset:.3f}"
        response.headers["Retry-After"] = str(max(1, round(reset)))
        return response

    def _injected(self, path: str) -> Response | None:
        with self._lock:
            for i, (prefix, status) in enumerate(self.fail_next):
                if path.startswith(prefix):
                    del self.fail_next[i]
                    return _error(status, f"injected fault {status}")
        return None


def _basic(header: str) -> tuple[str | None, str | None]:
    if not header.startswith("Basic "):
        return None, None
    try:
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None, None
    return client_id, secret


def _json(body: Any, status: int) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _error(status: int, message: str, kind: str = "invalid_request_error") -> Response:
    return _json({"error": {"message": message, "type": kind, "userMessage": message}}, status)
