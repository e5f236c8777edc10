"""The fake Benchling holds to Benchling's published descriptions (it refuses what they forbid)."""

from __future__ import annotations

import json

import pytest
import requests
from benchling_sdk.apps.helpers.webhook_helpers import WebhookVerificationError, verify
from benchling_sdk.auth.client_credentials_oauth2 import ClientCredentialsOAuth2
from benchling_sdk.benchling import Benchling
from benchling_sdk.helpers.retry_helpers import RetryStrategy

from tests.benchling.conftest import QUIET
from tests.support import benchling_spec
from tests.support.benchling_world import add_batch
from tests.support.fake_benchling import FakeBenchling
from tests.support.records import BASE

pytestmark = QUIET


def _token(fake: FakeBenchling) -> str:
    client_id, secret = fake.add_client()
    response = requests.post(f"{fake.url}/api/v2/token", data={"grant_type": "client_credentials"},
                             auth=(client_id, secret), timeout=10)
    assert response.status_code == 200
    return str(response.json()["access_token"])


@pytest.mark.parametrize(("method", "path", "body", "problem"), [
    ("GET", "/api/v2/events?pageSize=500", None, "pageSize"),
    ("PATCH", "/api/v2/custom-entities/bfi_x", {"fieldz": {}}, "fieldz"),
    ("POST", "/api/v2/app-sessions", {"appId": "app_1", "name": "QC run", "timeoutSeconds": 0}, "timeoutSeconds"),
    ("POST", "/api/v2/app-sessions", {"appId": "app_1", "name": "QC run", "timeoutSeconds": 60,
                                      "messages": [{"content": "x" * 201}]}, "too long"),
], ids=["page-over-100", "unknown-member", "timeout-below-1", "message-over-200-chars"])
def test_refuses_a_request_the_description_forbids(fake: FakeBenchling, method: str, path: str,
                                                   body: object, problem: str) -> None:
    token = _token(fake)
    response = requests.request(method, fake.url + path, json=body, timeout=10,
                                headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert len(fake.violations) == 1 and problem in fake.violations[0]
    fake.violations.clear()  # seen: the fixture's closing check is for unexpected ones


def test_closing_all_of_keeps_unknown_members_out() -> None:
    document = benchling_spec.load_document(benchling_spec.REST_DOCUMENT)
    assert benchling_spec.close_all_of(document) > 10
    update = document["components"]["schemas"]["CustomEntityUpdate"]
    assert "fields" in update["properties"] and update["additionalProperties"] is False


def test_sdk_reads_through_the_fake_with_oauth(fake: FakeBenchling) -> None:
    client_id, secret = fake.add_client()
    entity_id, _ = add_batch(fake, BASE)
    benchling = Benchling(fake.url, ClientCredentialsOAuth2(client_id, secret),
                          retry_strategy=RetryStrategy.no_retries())
    entity = benchling.custom_entities.get_by_id(entity_id)
    assert entity.fields["Lot"].value == BASE["lot_id"]
    assert [r[1] for r in fake.requests] == ["/api/v2/token", f"/api/v2/custom-entities/{entity_id}"]


def test_bad_credentials_and_tokens_are_refused(fake: FakeBenchling) -> None:
    client_id, _ = fake.add_client()
    refused = requests.post(f"{fake.url}/api/v2/token", data={"grant_type": "client_credentials"},
                            auth=(client_id, "wrong"), timeout=10)
    assert refused.status_code == 401
    answer = requests.get(f"{fake.url}/api/v2/events", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert answer.status_code == 401


def test_pages_continue_with_next_token(fake: FakeBenchling) -> None:
    for i in range(7):
        add_batch(fake, dict(BASE, lot_id=f"L{i}", passages=[], senescence={}))
    token, seen, pages, cursor = _token(fake), [], 0, None
    while True:
        params = {"schemaId": "ts_MscBatch01", "pageSize": 3} | ({"nextToken": cursor} if cursor else {})
        body = requests.get(f"{fake.url}/api/v2/custom-entities", params=params, timeout=10,
                            headers={"Authorization": f"Bearer {token}"}).json()
        pages += 1
        seen += [e["id"] for e in body["customEntities"]]
        cursor = body.get("nextToken")
        if not cursor:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 7


def test_rate_limit_answers_429_past_the_window() -> None:
    server = FakeBenchling(rate_limit=(5, 30.0)).start()
    try:
        token = _token(server)
        statuses = [requests.get(f"{server.url}/api/v2/events", timeout=10,
                                 headers={"Authorization": f"Bearer {token}"}).status_code for _ in range(7)]
        assert statuses == [200] * 5 + [429] * 2
        assert server.rate_limited == 2
    finally:
        server.stop()


def test_webhooks_are_signed_with_the_published_key(fake: FakeBenchling) -> None:
    body = json.dumps(fake.envelope({"id": "evt_1", "type": "v2.entry.updated.fields", "resourceId": "etr_1",
                                     "createdAt": "2026-01-01T00:00:00+00:00", "deprecated": False,
                                     "schema": None, "updates": ["fields.Lot"]}))
    headers = fake.signer.headers(body)
    jwks = requests.get(f"{fake.url}/apps/jwks/{fake.app_definition_id}", timeout=10).json()
    assert jwks["keys"][0]["crv"] == "P-256"
    verify(fake.app_definition_id, body, headers, jwk_function=lambda _id: fake.signer.jwk_set())
    with pytest.raises(WebhookVerificationError):
        verify(fake.app_definition_id, body + " ", headers, jwk_function=lambda _id: fake.signer.jwk_set())


def test_the_fake_will_not_send_a_webhook_the_description_refuses(fake: FakeBenchling) -> None:
    with pytest.raises(AssertionError, match="resourceId"):
        fake.envelope({"id": "evt_1", "type": "v2.entry.updated.fields", "createdAt": "2026-01-01T00:00:00Z",
                       "deprecated": False, "updates": []})
