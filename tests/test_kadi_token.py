"""The plugin's token endpoint on the real Kadi4Mat: a token learns when it expires (Kadi's API does not say)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from eln_msc_plugin.eln.http import Token
from eln_msc_plugin.kadi.client import KadiClient
from tests.support.kadi import Stack, create_batch_record, make_token, wait_annotation, wait_for
from tests.support.records import record

pytestmark = pytest.mark.kadi


def _ask(stack: Stack, token_file: Path) -> tuple[int, dict]:
    response = KadiClient(stack.url, Token.from_file(str(token_file))).session.request("GET", "api/eln_msc/token")
    return response.status_code, response.json()


def test_a_token_with_an_expiry_learns_it(stack: Stack, tmp_path: Path) -> None:
    status, body = _ask(stack, make_token(stack, tmp_path / "t", expires_in_days=5))
    assert status == 200 and body["eln_msc"] == 1
    expires = dt.datetime.fromisoformat(body["token"]["expires_at"])
    left = expires - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=4, hours=23) < left <= dt.timedelta(days=5)
    assert body["token"]["is_expired"] is False
    assert body["token"]["scopes"] == ["record.read", "record.update", "user.read"]


def test_a_token_without_expiry_says_so(stack: Stack, tmp_path: Path) -> None:
    status, body = _ask(stack, make_token(stack, tmp_path / "t"))
    assert status == 200 and body["token"]["expires_at"] is None


def test_an_expired_token_is_refused_by_kadi_with_its_reason(stack: Stack, tmp_path: Path) -> None:
    status, body = _ask(stack, make_token(stack, tmp_path / "t", expires_in_days=-1))
    assert status == 401 and "expired" in body["description"]


def test_the_on_save_task_logs_a_token_that_expires_soon(stack: Stack, tmp_path: Path) -> None:
    """The worker says what doctor says: a service token expiring within two weeks is logged as a warning."""
    original = stack.service_token_file.read_text()
    soon = make_token(stack, tmp_path / "soon.token", expires_in_days=5).read_text()
    mark = len(stack.log("celery.log"))
    try:
        stack.service_token_file.write_text(soon)
        created = create_batch_record(stack.scientist(), record())
        found = wait_annotation(stack.scientist(), created["id"], timeout=60)  # the check still runs
        assert found["verdict"] == "pass"
        logged = wait_for(lambda: "eln-msc: the service token expires at" in (log := stack.log("celery.log")[mark:])
                          and log, 30, what="the expiry warning in the worker's log")
    finally:
        stack.service_token_file.write_text(original)
    line = next(line for line in logged.splitlines() if "the service token expires at" in line)
    assert "WARNING" in line and ("in 5.0 days" in line or "in 4.9 days" in line), line
    assert soon.strip() not in logged
