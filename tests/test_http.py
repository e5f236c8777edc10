"""The HTTP policy of every ELN client: retries, Retry-After, no blind retry of writes, own errors, no token leaks.

A real Kadi cannot be made to drop connections or answer 503 storms on demand, so these faults come
from a small scripted server on loopback (Kadi's own behaviour is tested against the real Kadi).
"""

from __future__ import annotations

import base64
import http.server
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from eln_msc_plugin.eln.auth import BasicAuth, BearerAuth, ClientCredentialsAuth, KeyAuth
from eln_msc_plugin.eln.http import ElnSession, Token, check, make_retry
from eln_msc_plugin.errors import ConfigError, ElnError
from eln_msc_plugin.kadi.client import KadiClient
from eln_msc_plugin.testing.loopback import Loopback, drop, reply

SECRET = "pat_0123456789abcdef0123456789abcdef"


class Script:
    """Answers to give, in order: (status, headers, body) or "drop" to close the connection unanswered."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers = list(answers)
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.times: list[float] = []


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script([])

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            script.seen.append((self.command, self.path, dict(self.headers)))
            script.times.append(time.monotonic())
            answer = script.answers.pop(0) if script.answers else (200, {}, {"ok": True})
            if answer == "drop":
                drop(self)
                return
            status, headers, body = answer
            reply(self, status, json.dumps(body).encode(), headers=headers)

        do_GET = do_POST = do_PATCH = do_PUT = answer

    with Loopback(Handler) as httpd:
        yield httpd.url, script


def session(url: str) -> ElnSession:
    return ElnSession(url, Token(SECRET), timeout=(2.0, 2.0), retry=make_retry(total=5, backoff=0.01))


def test_get_is_retried_through_a_503_storm(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(503, {}, {})] * 3 + [(200, {}, {"id": 1})]
    assert check(session(url).get("api/records/1"), "read") == {"id": 1}
    assert len(script.seen) == 4


def test_retry_after_is_honoured(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(429, {"Retry-After": "1"}, {}), (200, {}, {"ok": 1})]
    check(session(url).get("api/records"), "list")
    assert script.times[1] - script.times[0] >= 0.9


def test_dropped_connection_on_get_is_retried(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = ["drop", (200, {}, {"ok": 1})]
    assert check(session(url).get("api/records"), "list") == {"ok": 1}


def test_patch_is_not_retried_blindly_on_502(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(502, {}, {"description": "bad gateway"}), (200, {}, {})]
    with pytest.raises(ElnError, match="HTTP 502") as error:
        check(session(url).patch("api/records/1", json={"tags": []}), "update record 1")
    assert len(script.seen) == 1 and error.value.status == 502 and error.value.retryable


def test_post_is_retried_when_the_server_says_it_did_not_act(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(429, {"Retry-After": "0"}, {}), (503, {}, {}), (201, {}, {"id": 9})]
    assert check(session(url).post("api/records", json={}), "create") == {"id": 9}
    assert [m for m, _, _ in script.seen] == ["POST"] * 3


def test_endless_storm_ends_in_a_retryable_error(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(503, {}, {})] * 20
    with pytest.raises(ElnError) as error:
        check(session(url).get("api/records"), "list")
    assert error.value.retryable and len(script.seen) == 6


def test_connection_refused_is_an_eln_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ElnError, match="cannot reach the ELN") as error:
        session(f"http://127.0.0.1:{port}").get("api/records")
    assert error.value.retryable


def test_timeout_is_an_eln_error() -> None:
    sleeper = socket.socket()
    sleeper.bind(("127.0.0.1", 0))
    sleeper.listen(1)  # accepts, never answers
    try:
        slow = ElnSession(f"http://127.0.0.1:{sleeper.getsockname()[1]}", Token(SECRET), timeout=(1.0, 0.3),
                          retry=make_retry(total=1, backoff=0.01))
        with pytest.raises(ElnError, match="did not answer in time|gave up"):
            slow.get("api/records")
    finally:
        sleeper.close()


def test_every_request_carries_the_token_and_a_default_timeout(server: tuple[str, Script]) -> None:
    url, script = server
    client = KadiClient(url, Token(SECRET))
    client.session.get("api/records")
    assert script.seen[0][2]["Authorization"] == f"Bearer {SECRET}"
    assert client.session.timeout


def test_token_never_in_repr_or_errors(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(401, {}, {"description": "No valid access token was supplied."})]
    client = KadiClient(url, Token(SECRET))
    for text in (repr(Token(SECRET)), str(Token(SECRET)), repr(client), repr(client.session)):
        assert SECRET not in text and "***" in text
    with pytest.raises(ElnError) as error:
        client.record(1)
    assert SECRET not in str(error.value) and "401" in str(error.value)


def test_token_sources(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "token"
    path.write_text(SECRET + "\n")
    assert Token.from_file(path).reveal() == SECRET
    monkeypatch.setenv("ELN_TOKEN_TEST", SECRET)
    assert Token.from_env("ELN_TOKEN_TEST").reveal() == SECRET
    monkeypatch.delenv("ELN_TOKEN_TEST")
    with pytest.raises(ConfigError, match="ELN_TOKEN_TEST"):
        Token.from_env("ELN_TOKEN_TEST")
    with pytest.raises(ConfigError, match="cannot read the token file"):
        Token.from_file(tmp_path / "missing")
    with pytest.raises(ConfigError, match="empty"):
        Token("  ")


def test_base_url_must_be_http() -> None:
    with pytest.raises(ConfigError, match="http"):
        ElnSession("ftp://example.org", None)


@pytest.mark.parametrize(
    ("auth", "header"),
    [(lambda: BearerAuth(Token(SECRET)), f"Bearer {SECRET}"),
     (lambda: KeyAuth(Token(SECRET)), SECRET),
     (lambda: BasicAuth(Token(SECRET)), "Basic " + base64.b64encode(f"{SECRET}:".encode()).decode()),
     (lambda: BasicAuth("client-7", Token(SECRET)),
      "Basic " + base64.b64encode(f"client-7:{SECRET}".encode()).decode())],
    ids=["bearer-kadi", "raw-key-elabftw", "basic-api-key", "basic-user-secret"])
def test_auth_scheme_comes_from_the_adapter(server: tuple[str, Script], auth: Any, header: str) -> None:
    url, script = server
    scheme = auth()
    http = ElnSession(url, scheme)
    http.get("api/x")
    assert script.seen[0][2]["Authorization"] == header
    for text in (repr(scheme), repr(http)):
        assert SECRET not in text and "***" in text


def test_client_credentials_fetch_a_token_once_and_send_it_as_bearer(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(200, {}, {"access_token": "access-abcdef123456", "expires_in": 900}), (200, {}, {}),
                      (200, {}, {})]
    scheme = ClientCredentialsAuth(f"{url}/oauth/token", "client-7", Token(SECRET))
    http = ElnSession(url, scheme)
    http.get("api/a")
    http.get("api/b")
    methods = [(m, p) for m, p, _ in script.seen]
    assert methods == [("POST", "/oauth/token"), ("GET", "/api/a"), ("GET", "/api/b")]
    assert script.seen[0][2]["Authorization"] == "Basic " + base64.b64encode(f"client-7:{SECRET}".encode()).decode()
    assert script.seen[2][2]["Authorization"] == "Bearer access-abcdef123456"
    assert "access-abcdef123456" not in repr(scheme) and SECRET not in repr(scheme)


def test_refused_client_credentials_are_an_eln_error_without_the_secret(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(401, {}, {"error": "invalid_client", "secret": SECRET})]
    with pytest.raises(ElnError, match="refused") as error:
        ElnSession(url, ClientCredentialsAuth(f"{url}/oauth/token", "c", Token(SECRET))).get("api/a")
    assert error.value.status == 401 and SECRET not in str(error.value)


@pytest.mark.parametrize("scheme", [lambda: BearerAuth(Token(SECRET)), lambda: KeyAuth(Token(SECRET)),
                                    lambda: BasicAuth("user", Token(SECRET))], ids=["bearer", "key", "basic"])
def test_a_secret_the_server_repeats_back_is_masked(server: tuple[str, Script], scheme: Any) -> None:
    url, script = server
    script.answers = [(403, {}, {"description": f"token {SECRET} may not do this"})]
    with pytest.raises(ElnError) as error:
        check(ElnSession(url, scheme()).get("api/a"), "read a")
    assert SECRET not in str(error.value) and "token *** may not" in str(error.value)


def test_requests_are_metered_and_tallied_as_reads_and_writes(server: tuple[str, Script]) -> None:
    url, _ = server
    seen: list[str] = []
    http = ElnSession(url, Token(SECRET), meter=seen.append)
    http.get("api/a")
    http.patch("api/a", json={})
    http.put("api/a", data=b"x")
    assert seen == ["GET", "PATCH", "PUT"] and http.tally.snapshot() == (1, 2)
