"""Webhook signatures, checked with benchling-sdk (`webhook_helpers.verify`) against the app's published keys.

Benchling signs `<webhook-id>.<webhook-timestamp>.<body>` with ECDSA P-256 (DER, `v1der,<base64>`) and
publishes the public keys of each app definition as a JWKS; the SDK checks the signature and refuses
timestamps more than 5 minutes off. `JwksCache` fetches the key set once and again only when a
signature fails and the last fetch is a minute old (a rotated key), so an attacker cannot make the
receiver hammer Benchling. This module imports benchling-sdk: the receiver imports it when it starts.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from benchling_sdk.apps.helpers.webhook_helpers import WebhookVerificationError, verify
from jwcrypto import jwk

JWKS_URL = "https://apps.benchling.com/api/v1/apps/{app_definition_id}/jwks"  # as benchling-sdk builds it
REFETCH_AFTER = 60.0


class Refused(Exception):
    """A delivery the receiver does not accept; `status` is the HTTP answer, the message says why."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


class JwksCache:
    """The app definition's key set, fetched lazily and refetched at most once a minute."""

    def __init__(self, url: str, fetch: Callable[[str], bytes] | None = None) -> None:
        self.url = url
        self._fetch = fetch or _http_get
        self._keys: jwk.JWKSet | None = None
        self._fetched = 0.0
        self._lock = threading.Lock()
        self.fetches = 0

    def __call__(self, app_definition_id: str) -> jwk.JWKSet:
        """The key set (the SDK's `jwk_function`)."""
        return self.keys()

    def keys(self) -> jwk.JWKSet:
        with self._lock:
            if self._keys is None:
                self._load()
            assert self._keys is not None
            return self._keys

    def refresh(self) -> bool:
        """Fetch again unless the keys are fresh; True when new keys were fetched."""
        with self._lock:
            if time.monotonic() - self._fetched < REFETCH_AFTER:
                return False
            self._load()
            return True

    def _load(self) -> None:
        self._keys = jwk.JWKSet.from_json(self._fetch(self.url))
        self._fetched = time.monotonic()
        self.fetches += 1


def _http_get(url: str) -> bytes:
    response = httpx.get(url, timeout=10.0)
    response.raise_for_status()
    return response.content


@dataclass(frozen=True)
class Delivery:
    """A verified webhook: its id, the envelope, and the message inside it."""

    webhook_id: str
    body: str
    envelope: dict[str, Any]

    @property
    def message(self) -> dict[str, Any]:
        message = self.envelope.get("message")
        return message if isinstance(message, dict) else {}


class WebhookVerifier:
    """Checks one app definition's webhooks: headers present, timestamp within ±5 min, signature valid."""

    def __init__(self, app_definition_id: str, keys: JwksCache) -> None:
        self.app_definition_id = app_definition_id
        self.keys = keys

    def verify(self, body: bytes, headers: Mapping[str, str]) -> Delivery:
        """The delivery, or `Refused` saying why it was not accepted."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused("the body is not UTF-8") from None
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            self._check(text, lowered)
        except WebhookVerificationError as error:
            raise Refused(f"signature check failed: {error}") from None
        except httpx.HTTPError:  # Benchling will deliver again; a 503 says "not now" rather than "forged"
            raise Refused("cannot fetch the app's public keys to check the signature", 503) from None
        except (ValueError, TypeError):  # a malformed signature header (no comma, bad base64, bad DER)
            raise Refused("signature check failed: malformed webhook-signature header") from None
        try:
            envelope = json.loads(text)
        except ValueError:
            raise Refused("the signed body is not JSON", 400) from None
        if not isinstance(envelope, dict):
            raise Refused("the signed body is not a webhook envelope", 400)
        return Delivery(lowered["webhook-id"], text, envelope)

    def _check(self, text: str, headers: dict[str, str]) -> None:
        try:
            verify(self.app_definition_id, text, headers, jwk_function=self.keys)
        except WebhookVerificationError as error:
            if "No matching signature" not in str(error) or not self.keys.refresh():
                raise
            verify(self.app_definition_id, text, headers, jwk_function=self.keys)  # a rotated key
