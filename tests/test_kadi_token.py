"""The plugin's token endpoint on the real Kadi4Mat: a token learns when it expires (Kadi's API does not say)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from eln_msc_plugin.eln.http import Token
from eln_msc_plugin.kadi.client import KadiClient
from tests.support.kadi import Stack, make_token

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
