"""The webhook receiver: every delivery's signature checked, each event stored once, answered at once."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests
from werkzeug.test import Client

from eln_msc_plugin.benchling.queue import EventQueue
from eln_msc_plugin.benchling.receiver import Receiver
from eln_msc_plugin.benchling.webhooks import JwksCache, WebhookVerifier
from tests.benchling.conftest import QUIET
from tests.support.benchling_signing import Signer
from tests.support.fake_benchling import FakeBenchling

pytestmark = QUIET


def _message(resource: str = "etr_1", kind: str = "v2.entry.updated.fields") -> dict:  # type: ignore[type-arg]
    return {"id": "evt_" + resource, "type": kind, "resourceId": resource, "createdAt": "2026-01-01T00:00:00Z",
            "deprecated": False, "schema": None, "updates": ["fields.Lot"]}


@pytest.fixture
def receiver(fake: FakeBenchling, tmp_path: Path) -> Receiver:
    keys = JwksCache(f"{fake.url}/apps/jwks/{fake.app_definition_id}",
                     fetch=lambda url: requests.get(url, timeout=10).content)
    return Receiver(WebhookVerifier(fake.app_definition_id, keys), EventQueue(tmp_path / "q.sqlite3"))


def _post(receiver: Receiver, body: str, headers: dict[str, str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = Client(receiver).post("/webhooks", data=body.encode(), headers=headers)
    return response.status_code, json.loads(response.data)


def test_a_good_signature_is_queued(fake: FakeBenchling, receiver: Receiver) -> None:
    body = json.dumps(fake.envelope(_message()))
    status, answer = _post(receiver, body, fake.signer.headers(body))
    assert (status, answer["status"]) == (202, "queued")
    assert receiver.queue.counts()["queued"] == 1


def _tampered(body: str) -> str:
    return body.replace("fields.Lot", "fields.Lot ")


@pytest.mark.parametrize(("sign", "reason"), [
    (lambda fake, body: Signer().headers(body), "No matching signature"),
    (lambda fake, body: fake.signer.headers(_tampered(body)), "No matching signature"),
    (lambda fake, body: fake.signer.headers(body, timestamp=time.time() - 600), "too old"),
    (lambda fake, body: fake.signer.headers(body, timestamp=time.time() + 600), "too new"),
    (lambda fake, body: _without(fake.signer.headers(body), "webhook-id"), "Missing webhook-id"),
    (lambda fake, body: _without(fake.signer.headers(body), "webhook-timestamp"), "Missing webhook-timestamp"),
    (lambda fake, body: _without(fake.signer.headers(body), "webhook-signature"), "Missing webhook-signature"),
    (lambda fake, body: fake.signer.headers(body) | {"webhook-signature": "garbage"}, "malformed"),
    (lambda fake, body: fake.signer.headers(body) | {"webhook-signature": "v1,abc"}, "der encoded"),
], ids=["wrong-key", "tampered-body", "stale-timestamp", "future-timestamp", "no-webhook-id",
        "no-timestamp", "no-signature", "malformed-signature", "hmac-style-signature"])
def test_refused_with_401(fake: FakeBenchling, receiver: Receiver, sign, reason: str) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps(fake.envelope(_message()))
    status, answer = _post(receiver, body, sign(fake, body))
    assert status == 401 and reason in answer["error"]
    assert receiver.queue.counts()["queued"] == 0


def _without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != name}


def test_a_replayed_webhook_id_is_refused_and_judged_once(fake: FakeBenchling, receiver: Receiver) -> None:
    body = json.dumps(fake.envelope(_message()))
    first = _post(receiver, body, fake.signer.headers(body, webhook_id="msg_1"))
    again = _post(receiver, body, fake.signer.headers(body, webhook_id="msg_1"))  # re-signed, same id
    assert first[0] == 202 and again[0] == 401 and "replayed" in again[1]["error"]
    assert receiver.queue.counts()["queued"] == 1


def test_keys_are_fetched_once(fake: FakeBenchling, receiver: Receiver) -> None:
    for i in range(5):
        body = json.dumps(fake.envelope(_message(f"etr_{i}")))
        assert _post(receiver, body, fake.signer.headers(body))[0] == 202
    assert receiver.verifier.keys.fetches == 1
    assert len([r for r in fake.requests if r[1].startswith("/apps/jwks/")]) == 1


def test_a_message_not_judged_is_answered_and_not_queued(fake: FakeBenchling, receiver: Receiver) -> None:
    body = json.dumps(fake.envelope({"type": "v2.app.installed", "deprecated": False}))
    status, answer = _post(receiver, body, fake.signer.headers(body))
    assert (status, answer["status"]) == (200, "ignored")
    assert sum(receiver.queue.counts().values()) == 0


def test_health_follows_the_workers(receiver: Receiver) -> None:
    assert Client(receiver).get("/health").status_code == 200
    receiver.alive = lambda: False
    response = Client(receiver).get("/health")
    assert response.status_code == 503 and json.loads(response.data)["status"] == "workers stopped"


def test_unknown_paths_and_oversized_bodies(fake: FakeBenchling, receiver: Receiver) -> None:
    assert Client(receiver).get("/webhooks").status_code == 404
    big = "x" * (1024 * 1024 + 1)
    assert Client(receiver).post("/webhooks", data=big, headers=fake.signer.headers(big)).status_code == 413
