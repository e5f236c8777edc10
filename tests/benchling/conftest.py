"""Pytest fixtures for the Benchling tests: a started fake tenant with the example schemas, and its mapping.

Every test module in this folder gets them.
Every test ends by checking that the fake saw no request and sent no response its description forbids.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.benchling_world import seed_schemas, write_mapping
from tests.support.fake_benchling import FakeBenchling


@pytest.fixture
def fake() -> Iterator[FakeBenchling]:
    server = FakeBenchling().start()
    seed_schemas(server)
    try:
        yield server
    finally:
        server.stop()
    assert server.violations == [], "requests or responses outside Benchling's API description"


@pytest.fixture
def mapping_file(fake: FakeBenchling, tmp_path: Path) -> Path:
    return write_mapping(tmp_path, fake)


@pytest.fixture
def credentials(fake: FakeBenchling, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """An app client registered with the fake, exported as the adapter reads it (environment)."""
    client_id, secret = fake.add_client()
    monkeypatch.setenv("BENCHLING_CLIENT_ID", client_id)
    monkeypatch.setenv("BENCHLING_CLIENT_SECRET", secret)
    return client_id, secret

# openapi-core checks no OAuth scheme (it warns so; the fake checks bearer tokens itself), and benchling-sdk
# passes cookies per request, which httpx deprecates: neither is this project's to fix.
QUIET = [pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning"),
         pytest.mark.filterwarnings("ignore:Setting per-request cookies:DeprecationWarning")]
