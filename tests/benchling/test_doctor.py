"""`eln-msc doctor --eln benchling`: credentials, installation, the mapping against the tenant's schemas,
the receiver's reachability."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from eln_msc_plugin.benchling.adapter import BenchlingAdapter
from eln_msc_plugin.benchling.doctor import checks
from eln_msc_plugin.benchling.mapping import load_mapping
from eln_msc_plugin.eln.http import Token
from eln_msc_plugin.eln.spec import AdapterConfig
from tests.benchling.conftest import QUIET
from tests.support.benchling_world import write_mapping
from tests.support.fake_benchling import FakeBenchling

pytestmark = QUIET


def _checks(fake: FakeBenchling, mapping: Path, secret: str | None = None) -> dict[str, tuple[bool, str]]:
    client_id, right = fake.add_client()
    adapter = BenchlingAdapter(fake.url, load_mapping(mapping), client_id, Token(secret or right))
    try:
        return {c.name: (c.ok, c.detail) for c in checks(adapter, AdapterConfig(fake.url))}
    finally:
        adapter.close()


def test_a_sound_installation_passes(fake: FakeBenchling, mapping_file: Path) -> None:
    found = _checks(fake, mapping_file)
    assert all(ok for ok, _ in found.values()), found
    assert "all 17 mapped fields present" in found["schema MSC batch (ts_MscBatch01)"][1]
    assert "not checked" in found["webhook URL"][1]


def test_refused_credentials(fake: FakeBenchling, mapping_file: Path) -> None:
    found = _checks(fake, mapping_file, secret="wrong")
    assert found == {"app": (False, found["app"][1])} and "401" in found["app"][1]


def test_fields_the_schema_lacks_are_named(fake: FakeBenchling, tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path, fake, batch={"fields": {"lot_id": "Lot", "donor_id": "Donor code"}},
                            annotation={"report_field": "Lot"})
    found = _checks(fake, mapping)
    ok, detail = found["schema MSC batch (ts_MscBatch01)"]
    assert not ok
    assert "'Donor code' (batch.fields.donor_id) is not a field" in detail
    assert "'Lot' (annotation.report_field) is text, not blob_link" in detail


def test_an_unknown_schema_is_named(fake: FakeBenchling, tmp_path: Path) -> None:
    found = _checks(fake, write_mapping(tmp_path, fake, passages={"schema_id": "assaysch_Gone"}))
    ok, detail = found["schema assaysch_Gone"]
    assert not ok and "404" in detail


@pytest.mark.parametrize("healthy", [True, False], ids=["healthy", "unhealthy"])
def test_the_receivers_health_is_read_at_its_public_url(fake: FakeBenchling, tmp_path: Path, healthy: bool) -> None:
    def app(environ, start_response):  # type: ignore[no-untyped-def]
        start_response("200 OK" if healthy else "503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"{}"]

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/webhooks"
        ok, detail = _checks(fake, write_mapping(tmp_path, fake, receiver={"public_url": url}))["webhook URL"]
    finally:
        server.shutdown()  # the loop stops first, then the socket closes: no read of a closed socket
        server.server_close()
    assert ok is healthy and "/health answered" in detail and "should be https" in detail


def test_an_unreachable_receiver(fake: FakeBenchling, tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path, fake, receiver={"public_url": "http://127.0.0.1:9/webhooks"})
    ok, detail = _checks(fake, mapping)["webhook URL"]
    assert not ok and "cannot be reached" in detail
