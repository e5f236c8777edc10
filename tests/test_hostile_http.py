"""Hostile servers and hostile configuration at the network edge: secrets stay secret, bad URLs and tokens are
clear configuration errors, and a redirect to another site is an error rather than an answer.

A real HTTP server on loopback plays the misbehaving ELN (a real Kadi cannot be made to repeat a token or
redirect elsewhere on demand).
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eln_msc_plugin.eln.auth import Token
from eln_msc_plugin.eln.http import ElnSession, check, make_retry
from eln_msc_plugin.errors import ConfigError, ElnError, mask
from eln_msc_plugin.testing.loopback import Loopback, reply

SECRET = "pat_hostile0123456789abcdef"


class Server:
    """A loopback HTTP server answering every request with `answer(path) -> (status, headers, body)`."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.answer: Any = lambda path: (200, {}, {"ok": True})
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.seen.append((self.path, dict(self.headers)))
                status, headers, body = server.answer(self.path)
                reply(self, status, body if isinstance(body, bytes) else json.dumps(body).encode(), headers=headers)

        self.httpd = Loopback(Handler).start()
        self.url = self.httpd.url

    def close(self) -> None:
        self.httpd.close()


@pytest.fixture
def servers() -> Iterator[tuple[Server, Server]]:
    pair = Server(), Server()
    try:
        yield pair
    finally:
        for server in pair:
            server.close()


def session(url: str) -> ElnSession:
    return ElnSession(url, Token(SECRET), timeout=(2.0, 2.0), retry=make_retry(total=1, backoff=0.01))


@pytest.mark.parametrize("url", [f"http://user:{SECRET}@127.0.0.1:1", f"https://{SECRET}@kadi.example.org/",
                                 f"http://:{SECRET}@[::1]:8080"], ids=["user-and-token", "token-as-user", "ipv6"])
def test_a_token_in_the_url_userinfo_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="user name or password") as caught:
        ElnSession(url, None)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(("url", "why"), [
    ("http://[::1", "not a valid URL"), ("http://127.0.0.1:99999", "not a valid URL"), ("http://", "names no host"),
    ("ftp://kadi.example.org", "http:// or https://"), ("kadi.example.org", "http:// or https://"),
], ids=["ipv6-unclosed", "port-out-of-range", "no-host", "ftp", "no-scheme"])
def test_a_url_that_is_not_an_eln_url_is_a_clear_configuration_error(url: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        ElnSession(url, None)


@pytest.mark.parametrize("value", ["tök€n-0123456789", "pat_0123 456789", "pat_0123\n456789", "pat_\x00123456789"],
                         ids=["not-latin-1", "space", "line-break", "nul"])
def test_a_token_that_cannot_go_in_a_header_is_a_clear_configuration_error(
        value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="cannot be sent in an HTTP header") as caught:
        Token(value)
    assert value.strip() not in str(caught.value)
    if "\x00" in value:
        return  # no environment variable can hold a NUL
    monkeypatch.setenv("ELN_HOSTILE_TOKEN", value)
    with pytest.raises(ConfigError, match="environment variable ELN_HOSTILE_TOKEN: the access token cannot"):
        Token.from_env("ELN_HOSTILE_TOKEN")


def test_a_token_file_that_is_not_utf8_is_a_clear_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_bytes(b"pat_\xff\xfe0123456789")
    with pytest.raises(ConfigError, match="is not UTF-8 text") as caught:
        Token.from_file(path)
    assert "pat_" not in str(caught.value)


def _in_a_child(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter: were the file read (a FIFO blocks for ever), the timeout ends it."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("what", ["token", "policy"], ids=["token-file", "policy-file"])
def test_a_fifo_named_as_a_file_is_refused_before_reading(tmp_path: Path, what: str) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    call = f"Token.from_file({str(fifo)!r})" if what == "token" else f"load_policy({str(fifo)!r})"
    done = _in_a_child("from eln_msc_plugin.eln.auth import Token\nfrom eln_msc_plugin.policy import load_policy\n"
                       f"from eln_msc_plugin.errors import ConfigError\ntry:\n    {call}\n"
                       "except ConfigError as error:\n    print(error)\n")
    assert "not a regular file" in done.stdout and str(fifo) in done.stdout, done.stderr


@pytest.mark.parametrize("what", ["token", "policy"], ids=["token-file", "policy-file"])
def test_a_huge_file_is_refused_before_reading(tmp_path: Path, what: str) -> None:
    big = tmp_path / "big"
    with big.open("wb") as stream:
        stream.truncate(1 << 30)  # 1 GB, sparse: nothing to write, everything to read
    call = f"Token.from_file({str(big)!r})" if what == "token" else f"load_policy({str(big)!r})"
    # the peak of this process's own memory (VmHWM): ru_maxrss would carry the parent's peak over the exec
    done = _in_a_child("import re\nfrom eln_msc_plugin.eln.auth import Token\n"
                       "from eln_msc_plugin.policy import load_policy\nfrom eln_msc_plugin.errors import ConfigError\n"
                       f"try:\n    {call}\nexcept ConfigError as error:\n    print(error)\n"
                       "print(re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read()).group(1))\n")
    message, peak_kb = done.stdout.splitlines()
    assert "1,073,741,824 bytes" in message and "at most" in message, done.stderr
    assert int(peak_kb) < 200 * 1024  # the gigabyte was never read


@pytest.mark.parametrize("what", ["token", "policy"], ids=["token-file", "policy-file"])
def test_a_device_named_as_a_file_is_refused_before_reading(what: str) -> None:
    # /dev/zero never ends: read, it would fill the memory
    done = _in_a_child("from eln_msc_plugin.eln.auth import Token\nfrom eln_msc_plugin.policy import load_policy\n"
                       "from eln_msc_plugin.errors import ConfigError\ntry:\n"
                       f"    {'Token.from_file' if what == 'token' else 'load_policy'}('/dev/zero')\n"
                       "except ConfigError as error:\n    print(error)\n")
    assert "/dev/zero: is not a regular file" in done.stdout, done.stderr


def test_a_folder_named_as_a_token_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder"):
        Token.from_file(tmp_path)


def test_a_redirect_to_another_origin_is_an_error(servers: tuple[Server, Server]) -> None:
    eln, elsewhere = servers
    eln.answer = lambda path: (302, {"Location": f"{elsewhere.url}/api/users/me"}, {})
    elsewhere.answer = lambda path: (200, {}, {"id": None, "identity": {"username": None}})
    with pytest.raises(ElnError, match="redirect to another site") as caught:
        check(session(eln.url).get("api/users/me"), "read the token's user")
    assert elsewhere.url.replace("http://", "") in str(caught.value) and not elsewhere.seen


def test_a_redirect_within_the_eln_is_followed_with_the_token(servers: tuple[Server, Server]) -> None:
    eln, _ = servers
    eln.answer = lambda path: ((302, {"Location": "/api/v2/users/me"}, {}) if path == "/api/users/me"
                               else (200, {}, {"id": 7}))
    assert check(session(eln.url).get("api/users/me"), "read the token's user") == {"id": 7}
    assert eln.seen[-1][1]["Authorization"] == f"Bearer {SECRET}"


def test_a_redirect_from_http_to_https_on_the_same_host_is_followed(servers: tuple[Server, Server]) -> None:
    """The one change of origin allowed: the same host, encrypted. Nothing answers TLS on port 443 of loopback
    here, so following it ends in "cannot reach", where a refused redirect would say "another site"."""
    eln, _ = servers
    eln.answer = lambda path: (301, {"Location": "https://127.0.0.1/api/users/me"}, {})
    with pytest.raises(ElnError) as caught:
        check(session(eln.url).get("api/users/me"), "read the token's user")
    assert "another site" not in str(caught.value) and "cannot reach the ELN" in str(caught.value)


@pytest.mark.parametrize("location", ["https://localhost/api/users/me", "http://127.0.0.2/api/users/me"],
                         ids=["https-on-another-host", "another-address"])
def test_a_redirect_to_another_host_is_an_error_even_over_https(servers: tuple[Server, Server],
                                                                 location: str) -> None:
    eln, _ = servers
    eln.answer = lambda path: (301, {"Location": location}, {})
    with pytest.raises(ElnError, match="redirect to another site"):
        check(session(eln.url).get("api/users/me"), "read the token's user")


BASE64_SECRET = "eyJhbGciOiJIUzI1NiJ9+abc/def=="  # a token with characters a URL encodes


@pytest.mark.parametrize(("secret", "echo"), [
    (SECRET, SECRET), (SECRET, f"Bearer {SECRET}"), (BASE64_SECRET, "token=eyJhbGciOiJIUzI1NiJ9%2Babc%2Fdef%3D%3D"),
], ids=["value", "header", "url-encoded"])
def test_a_token_the_server_repeats_is_masked_in_every_error(servers: tuple[Server, Server], secret: str,
                                                             echo: str) -> None:
    eln, _ = servers
    eln.answer = lambda path: (400, {}, {"description": f"bad request with {echo}"})
    client = ElnSession(eln.url, Token(secret), timeout=(2.0, 2.0), retry=make_retry(total=1, backoff=0.01))
    with pytest.raises(ElnError) as caught:
        check(client.get("api/records"), "list records")
    assert echo not in str(caught.value) and secret not in str(caught.value) and "***" in str(caught.value)
    # an adapter that passes server text on in its own error gets the same, without doing anything
    assert "***" in str(ElnError(f"the ELN said: {echo}")) and echo not in mask(f"stored: {echo}")
