"""The network edge: one `requests.Session` per ELN adapter owns the HTTP policy.

Base URL, the adapter's auth scheme (eln/auth.py: Bearer for Kadi, a raw key header for eLabFTW, basic
or OAuth client credentials for Benchling), a default timeout on every call, retries with backoff that
honour `Retry-After` (429/502/503/504; non-idempotent writes only where the server said it did not act),
requests counted as reads and writes, and transport errors translated into `ElnError`. Secrets never
appear in a repr, log or message, even when a server repeats them back.
"""

from __future__ import annotations

import base64
import contextlib
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from urllib3.util.retry import Retry

from eln_msc_plugin import __version__
from eln_msc_plugin.display import printable
from eln_msc_plugin.eln.auth import BearerAuth, Token, scrub
from eln_msc_plugin.eln.base import Tally
from eln_msc_plugin.errors import ConfigError, ElnAnswerError, ElnError

__all__ = ["DEFAULT_TIMEOUT", "ElnSession", "Token", "check", "make_retry"]

RETRY_STATUSES = (429, 502, 503, 504)
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
DEFAULT_TIMEOUT = (5.0, 30.0)


class PoliteRetry(Retry):
    """Retries idempotent requests on 429/5xx, and any request on 429 or 503 (the server did not act)."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code in (429, 503) and self.total and self.status:
            return True
        return bool(super().is_retry(method, status_code, has_retry_after))


def make_retry(total: int = 6, backoff: float = 0.5) -> Retry:
    return PoliteRetry(
        total=total, connect=3, read=2, status=total, other=0,
        backoff_factor=backoff, status_forcelist=RETRY_STATUSES, allowed_methods=IDEMPOTENT,
        respect_retry_after_header=True, raise_on_status=False, raise_on_redirect=False,
    )


class ElnSession(requests.Session):
    """A session bound to one ELN: relative URLs, the adapter's auth, default timeout, retries, own errors.

    `auth` is a `requests` auth object from eln/auth.py (a bare `Token` means Bearer); `meter` is called
    with each request's method before it is sent; `tally` counts reads and writes.
    """

    def __init__(self, base_url: str, auth: AuthBase | Token | None, *, timeout: Any = DEFAULT_TIMEOUT,
                 retry: Retry | None = None, pool: int = 10, meter: Callable[[str], None] | None = None,
                 tally: Tally | None = None) -> None:
        super().__init__()
        self.origin = checked_origin(base_url)
        self.base_url = base_url.rstrip("/") + "/"
        self.timeout = timeout
        adapter = HTTPAdapter(max_retries=retry or make_retry(), pool_connections=pool, pool_maxsize=pool)
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self.headers["User-Agent"] = f"eln-msc-plugin/{__version__}"
        self.headers["Accept"] = "application/json"
        self.auth = BearerAuth(auth) if isinstance(auth, Token) else auth
        self.meter = meter
        self.tally = tally if tally is not None else Tally()
        self.requests_sent = 0

    def __repr__(self) -> str:
        return f"ElnSession({self.base_url!r}, token=***)"

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        """Before a redirect is followed: one to another site is an error (requests would follow it without the
        credentials, and the other site's answer would pass for the ELN's), not a request."""
        target, origin = _origin(prepared_request.url or ""), self.origin
        upgrade = ("https", origin[1], 443) if origin[0] == "http" else origin  # the same host, encrypted: allowed
        if target not in (origin, upgrade):
            raise ElnError(f"{response.request.method} {_path(response.url)}: the ELN answered with a redirect to "
                           f"another site ({_site(target)}); the credentials go only to {_site(origin)}: give the "
                           "address that answers itself")
        super().rebuild_auth(prepared_request, response)

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        full = urljoin(self.base_url, url.decode() if isinstance(url, bytes) else url.lstrip("/"))
        kwargs.setdefault("timeout", self.timeout)
        if self.meter is not None:
            self.meter(method)
        self.tally.add(method)
        self.requests_sent += 1
        try:
            response = super().request(method, full, *args, **kwargs)
        except requests.exceptions.RetryError as error:
            raise ElnError(f"{method} {_path(full)}: gave up after retries ({_reason(error)})",
                           retryable=True) from None
        except requests.exceptions.Timeout:
            raise ElnError(f"{method} {_path(full)}: the ELN did not answer in time", retryable=True) from None
        except requests.exceptions.ConnectionError as error:
            reason = _reason(error)
            if reason == "ReadTimeout":
                raise ElnError(f"{method} {_path(full)}: the ELN did not answer in time", retryable=True) from None
            raise ElnError(f"{method} {_path(full)}: cannot reach the ELN ({reason})", retryable=True) from None
        except requests.exceptions.RequestException as error:
            raise ElnError(f"{method} {_path(full)}: {type(error).__name__}") from None
        return response


def checked_origin(url: str) -> tuple[str, str, int]:
    """The (scheme, host, port) of an ELN's base URL; `ConfigError` when it is not one (shown without any
    user name or password in it)."""
    shown = _USERINFO.sub(r"\1***@", url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ConfigError(f"ELN URL {shown}: not a valid URL ({error})") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"ELN URL {shown}: must start with http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"ELN URL {shown}: holds a user name or password before '@'; credentials never go in a "
                          "URL (it is shown in logs and reports): give the token in a file or an environment variable")
    if not parts.hostname:
        raise ConfigError(f"ELN URL {shown}: names no host")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")


def _origin(url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        return parts.scheme, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "", url, 0


def _site(origin: tuple[str, str, int]) -> str:
    return f"{origin[0]}://{origin[1]}:{origin[2]}"


def _path(url: str) -> str:
    """The URL without its query string (which could carry a secret on some ELNs)."""
    return url.split("?", 1)[0]


def _reason(error: Exception) -> str:
    """A short cause (`[Errno 111] Connection refused`, `RemoteDisconnected`, …) without the urllib3 noise."""
    text = str(error.args[0] if error.args else error)
    match = re.search(r"\[Errno -?\d+\][^'\")]*|RemoteDisconnected|ProtocolError|ReadTimeout"
                      r"|too many \w+ responses", text)
    return match.group(0).strip() if match else type(error).__name__


def check(response: requests.Response, what: str, expect: type | None = None) -> Any:
    """The JSON body of a successful response (of type `expect`, when given); an `ElnError` that says what went
    wrong otherwise (an `ElnAnswerError` when the answer is not JSON, or not of that type)."""
    if response.status_code < 400:
        if not response.content:
            if expect is None:
                return None
            raise ElnAnswerError(f"{what}: the ELN answered {response.status_code} with nothing")
        try:
            body = response.json()
        except ValueError:
            raise ElnAnswerError(f"{what}: the ELN answered {response.status_code} with a body that is not JSON "
                                 f"({_kind(response)})") from None
        if expect is not None and not isinstance(body, expect):
            raise ElnAnswerError(f"{what}: the ELN answered {response.status_code} with a JSON "
                                 f"{_JSON_NAMES.get(type(body), type(body).__name__)} where its API gives a JSON "
                                 f"{_JSON_NAMES.get(expect, expect.__name__)}")
        return body
    detail = ""
    try:
        body = response.json()
        detail = str(body.get("description") or body.get("message") or "")[:300] if isinstance(body, dict) else ""
    except ValueError:
        pass
    detail = scrub(detail, sent_secrets(response))
    hint = {401: "the token was refused (missing, expired or revoked)",
            403: "the token lacks a scope or the account lacks permission",
            404: "not found", 409: "conflict", 413: "too large",
            429: "rate limited"}.get(response.status_code, "")
    message = (f"{what}: HTTP {response.status_code}" + (f" ({hint})" if hint else "")
               + (f": {detail}" if detail else ""))
    raise ElnError(message, status=response.status_code, retryable=response.status_code in RETRY_STATUSES)


_JSON_NAMES: dict[type, str] = {dict: "object", list: "array", str: "string", int: "number", float: "number",
                                bool: "boolean", type(None): "null"}


def _kind(response: requests.Response) -> str:
    """What the body was instead, without showing it: its content type."""
    kind = (response.headers.get("Content-Type") or "no content type").split(";")[0].strip()
    return printable(kind[:80])


def sent_secrets(response: requests.Response) -> list[str]:
    """The credentials the request carried (so a server repeating them back is not printed)."""
    found: list[str] = []
    request = response.request
    if request is None:
        return found
    value = request.headers.get("Authorization") or ""
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "basic" and rest:
        with contextlib.suppress(ValueError):
            found += base64.b64decode(rest).decode("utf-8", "replace").split(":", 1)
    found += [value, rest] if rest else [value]
    return [s for s in found if s]
