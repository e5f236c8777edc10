"""Secrets and the auth schemes an adapter hands its `ElnSession`; each shows as `***` wherever printed.

- `BearerAuth`: `Authorization: Bearer <token>` (Kadi4Mat personal access tokens).
- `KeyAuth`: the raw key in a header, no prefix (eLabFTW: `Authorization: <key>`).
- `BasicAuth`: HTTP basic with a user name and a secret (Benchling API keys: key as user, empty password).
- `ClientCredentialsAuth`: OAuth 2 client credentials, the access token fetched and renewed before it
  expires (Benchling apps).
"""

from __future__ import annotations

import base64
import os
import threading
import time
from typing import Any

import requests
from requests.auth import AuthBase

from eln_msc_plugin.errors import MASK, ConfigError, ElnError, register_secret
from eln_msc_plugin.limits import MAX_TOKEN_BYTES, read_small_text


class Token:
    """A secret that shows as `***` wherever it is printed, and is masked in every error of this package.

    Only visible ASCII characters: a token goes into an HTTP header, which cannot carry the rest (a line
    break would even add a header of its own)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        value = value.strip()
        if not value:
            raise ConfigError("the access token is empty")
        bad = next((i for i, char in enumerate(value) if not "!" <= char <= "~"), None)
        if bad is not None:
            raise ConfigError(f"the access token cannot be sent in an HTTP header: its character {bad + 1} of "
                              f"{len(value)} is not a visible ASCII character (a space, a line break, an accented "
                              "letter?)")
        register_secret(value)
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Token('***')"

    __str__ = __repr__

    @classmethod
    def from_env(cls, name: str) -> Token:
        value = os.environ.get(name)
        if not value:
            raise ConfigError(f"environment variable {name} holding the access token is not set")
        try:
            return cls(value)
        except ConfigError as error:
            raise ConfigError(f"environment variable {name}: {error}") from None

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Token:
        """The token in a file: a regular file of at most MAX_TOKEN_BYTES, in UTF-8, checked before it is read."""
        text = read_small_text(path, MAX_TOKEN_BYTES, "token file")
        try:
            return cls(text)
        except ConfigError as error:
            raise ConfigError(f"token file {os.fspath(path)}: {error}") from None


class SecretAuth(AuthBase):
    """An auth scheme holding secrets: `secrets()` lists them so messages can be scrubbed."""

    def secrets(self) -> list[str]:
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}({MASK})"


class BearerAuth(SecretAuth):
    def __init__(self, token: Token) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token.reveal()}"
        return request

    def secrets(self) -> list[str]:
        return [self.token.reveal()]


class KeyAuth(SecretAuth):
    """The raw key in `header` (no scheme prefix)."""

    def __init__(self, token: Token, header: str = "Authorization") -> None:
        self.token = token
        self.header = header

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers[self.header] = self.token.reveal()
        return request

    def secrets(self) -> list[str]:
        return [self.token.reveal()]


class BasicAuth(SecretAuth):
    """HTTP basic: `user` is not secret (an id or an API key name); `password` is."""

    def __init__(self, user: str | Token, password: Token | None = None) -> None:
        self.user = user
        self.password = password

    def _pair(self) -> tuple[str, str]:
        user = self.user.reveal() if isinstance(self.user, Token) else self.user
        return user, self.password.reveal() if self.password is not None else ""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        user, password = self._pair()
        request.headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        return request

    def secrets(self) -> list[str]:
        return [s for s in (self._pair()[1], self.user.reveal() if isinstance(self.user, Token) else "") if s]


class ClientCredentialsAuth(SecretAuth):
    """OAuth 2 client credentials: an access token from `token_url`, renewed a minute before it expires."""

    def __init__(self, token_url: str, client_id: str, secret: Token, *, timeout: Any = (5.0, 30.0)) -> None:
        self.token_url = token_url
        self.client = BasicAuth(client_id, secret)
        self.timeout = timeout
        self._access: Token | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def access_token(self) -> Token:
        with self._lock:
            if self._access is None or time.monotonic() > self._expires - 60:
                self._access, lifetime = self._fetch()
                self._expires = time.monotonic() + lifetime
            return self._access

    def _fetch(self) -> tuple[Token, float]:
        try:
            response = requests.post(self.token_url, data={"grant_type": "client_credentials"}, auth=self.client,
                                     timeout=self.timeout)
        except requests.RequestException as error:
            raise ElnError(f"cannot obtain an access token ({type(error).__name__})", retryable=True) from None
        if response.status_code >= 400:
            raise ElnError(f"the client credentials were refused (HTTP {response.status_code})",
                           status=response.status_code)
        try:
            body = response.json()
            return Token(str(body["access_token"])), float(body.get("expires_in") or 300)
        except (ValueError, KeyError, TypeError, ConfigError):
            raise ElnError("the token endpoint answered without an access token") from None

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.access_token().reveal()}"
        return request

    def secrets(self) -> list[str]:
        return self.client.secrets() + ([self._access.reveal()] if self._access is not None else [])


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with every secret (at least 4 characters long) replaced by `***`."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, MASK)
    return text
