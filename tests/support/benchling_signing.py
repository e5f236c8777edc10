"""Webhook signing as Benchling does it, for the fake: a P-256 key, its JWKS, signed deliveries.

Benchling signs `<webhook-id>.<webhook-timestamp>.<body>` with ECDSA P-256 over SHA-256, DER-encoded,
sent as `webhook-signature: v1der,<base64>`; receivers fetch the app definition's public keys as a
JWKS (benchling-sdk `apps/helpers/webhook_helpers.py`: `_verify`, `_has_valid_signature`,
`_production_webhook_jwks`). The fake signs with its own key so the receiver's check is real.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwk


@dataclass
class Signer:
    """One signing key and the JWKS that publishes its public half."""

    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    kid: str = field(default_factory=lambda: "key_" + secrets.token_hex(6))

    def jwks(self) -> dict[str, Any]:
        public = jwk.JWK.from_pyca(self.key.public_key())
        entry = json.loads(public.export_public())
        entry.update({"kid": self.kid, "use": "sig", "alg": "ES256"})
        return {"keys": [entry]}

    def jwk_set(self) -> jwk.JWKSet:
        return jwk.JWKSet.from_json(json.dumps(self.jwks()))

    def signature(self, webhook_id: str, timestamp: str, body: str) -> str:
        signed = f"{webhook_id}.{timestamp}.{body}".encode()
        der = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return "v1der," + base64.b64encode(der).decode()

    def headers(self, body: str, *, webhook_id: str | None = None, timestamp: float | None = None) -> dict[str, str]:
        """The three webhook headers for `body`, signed now (or at `timestamp`)."""
        wid = webhook_id or "msg_" + secrets.token_hex(10)
        stamp = str(int(time.time() if timestamp is None else timestamp))
        return {"webhook-id": wid, "webhook-timestamp": stamp,
                "webhook-signature": self.signature(wid, stamp, body),
                "Content-Type": "application/json"}
