"""A fake eLabFTW (REST API v2) on loopback for the adapter's tests: a real threaded HTTP server.

eLabFTW cannot run here (PHP, MySQL, nginx). The fake checks every request and every answer against the
published OpenAPI description (see `spec`), codes by hand what the description leaves out (see `store`,
each with the eLabFTW source file it follows), and injects the faults a reverse proxy or a slow server
produces: 429 with Retry-After, 503, slow answers (client timeouts), and answers lost after the work was done.
Two answers are not checked against the description, being no answers of eLabFTW's: an injected fault
(what a proxy in front of it sends) and the fake's own refusal of a request that breaks the description
(400, recorded in `violations`, which the `fake_elabftw` fixture requires to be empty).

    with FakeElabftw() as fake:
        lab = fake.store.add_user("Ada", "Lovelace")
        key = fake.store.add_key(lab)
        ...  # talk to fake.url with the key in the Authorization header
    assert not fake.violations
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.support.fake_elabftw import spec
from tests.support.fake_elabftw.api import Answer, handle
from tests.support.fake_elabftw.store import ApiError, Store
from tests.support.fake_elabftw.views import error_body


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


@dataclass
class Fault:
    """Answer `times` matching requests with `status` (and `Retry-After`), after sleeping `delay` seconds.

    `after=True` lets the fake do the work first, then answers with the fault (an answer lost on the way).
    """

    status: int | None = None
    retry_after: int | None = None
    delay: float = 0.0
    method: str | None = None
    path: str = ""
    times: int = 1
    after: bool = False

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and (self.method in (None, method)) and re.search(self.path, path) is not None


@dataclass
class Logged:
    method: str
    path: str
    status: int
    fault: bool = False
    user: int | None = None


@dataclass
class FakeElabftw:
    store: Store = field(default_factory=Store)
    faults: list[Fault] = field(default_factory=list)
    log: list[Logged] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    drift: Any = None  # callable(path, body) -> body: lets a test send an answer the description forbids

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.openapi = spec.load(f"{self.url}/api/v2")
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True,
                                        name="fake-elabftw")

    def __enter__(self) -> FakeElabftw:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def requests(self, method: str | None = None, path: str = "", *, user: int | None = None) -> list[Logged]:
        """The requests that reached the fake (faults included), filtered."""
        with self._lock:
            return [e for e in self.log if method in (None, e.method) and re.search(path, e.path)
                    and user in (None, e.user)]

    def _fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        request.get_data()  # read the body once, so every later reader sees it
        response = self._respond(request)
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        method, path = request.method, request.path
        fault = self._fault(method, path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status and not fault.after:
            return self._faulted(request, fault)
        problems = spec.request_errors(self.openapi, request)
        if any(not spec.is_security_error(p) for p in problems):
            self._violation(f"request {method} {path}: " + " | ".join(problems))
            body = error_body(400, "request violates the eLabFTW API description", problems[0][:300])
            return self._send(request, Answer(400, body), check=False)
        answer, user = self._answer(request)
        if fault is not None and fault.status:
            return self._faulted(request, fault, user)
        return self._send(request, answer, user=user)

    def _answer(self, request: Request) -> tuple[Answer, int | None]:
        key = self.store.keys.get(request.headers.get("Authorization") or "")
        try:
            return handle(self.store, request), key.userid if key else None
        except ApiError as error:
            body = error_body(error.status, error.message, error.description)
            return Answer(error.status, body), key.userid if key else None

    def _send(self, request: Request, answer: Answer, *, user: int | None = None, check: bool = True) -> Response:
        data = answer.data()
        if self.drift is not None and answer.content_type == "application/json" and data:
            data = self.drift(request.path, data)
        if check:
            problems = spec.response_errors(self.openapi, request, answer.status, answer.content_type,
                                            answer.headers, data)
            if problems:
                self._violation(f"answer to {request.method} {request.path} ({answer.status}): " + " | ".join(problems))
                answer = Answer(500, content_type="application/json")
                data = error_body(500, "the fake's answer drifted from the eLabFTW API description", problems[0][:300])
        with self._lock:
            self.log.append(Logged(request.method, request.path, answer.status, False, user))
        return Response(data, status=answer.status, headers=dict(answer.headers), content_type=answer.content_type)

    def _faulted(self, request: Request, fault: Fault, user: int | None = None) -> Response:
        # a proxy's answer, outside eLabFTW and its description: not checked against it
        with self._lock:
            self.log.append(Logged(request.method, request.path, fault.status or 0, True, user))
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        body = error_body(fault.status or 500, "injected fault", "")
        return Response(body, status=fault.status or 500, headers=headers, content_type="application/json")

    def _violation(self, text: str) -> None:
        with self._lock:
            self.violations.append(text)
