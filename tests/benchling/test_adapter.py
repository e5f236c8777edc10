"""The Benchling adapter against the fake tenant: read, judge, write, supersede, recognise its own writes."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from eln_msc_plugin.benchling.adapter import BenchlingAdapter, credentials
from eln_msc_plugin.benchling.mapping import load_mapping
from eln_msc_plugin.benchling.transport import RateLimiter
from eln_msc_plugin.eln.base import ChangeQuery, RecordRef
from eln_msc_plugin.eln.http import Token
from eln_msc_plugin.eln.judge import judge_and_annotate
from eln_msc_plugin.errors import ConfigError, ElnError
from eln_msc_plugin.pipeline import Engine
from tests.benchling.conftest import QUIET
from tests.support.benchling_world import add_batch, seed_schemas, write_mapping
from tests.support.fake_benchling import FakeBenchling
from tests.support.records import BASE

pytestmark = QUIET


def _failing() -> dict:  # type: ignore[type-arg]
    record = copy.deepcopy(BASE)
    record["production_passage"] = 6
    return record


@pytest.fixture
def adapter(fake: FakeBenchling, mapping_file: Path) -> BenchlingAdapter:
    client_id, secret = fake.add_client()
    opened = BenchlingAdapter(fake.url, load_mapping(mapping_file), client_id, Token(secret))
    yield opened  # type: ignore[misc]
    opened.close()


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def _fields(fake: FakeBenchling, entity_id: str) -> dict:  # type: ignore[type-arg]
    return {k: v["value"] for k, v in fake.tenant.entities[entity_id]["fields"].items()}


def test_a_batch_gets_verdict_findings_canvas_session_and_report(fake: FakeBenchling, adapter: BenchlingAdapter,
                                                                  engine: Engine) -> None:
    entity_id, entry_id = add_batch(fake, _failing())
    outcome = judge_and_annotate(adapter, engine, adapter.ref(entity_id))
    assert (outcome.status, outcome.verdict) == ("annotated", "fail")
    assert (outcome.reads, outcome.writes) == (4, 4)  # batch, two result listings, entry; blob, session, canvas, PATCH
    fields = _fields(fake, entity_id)
    assert fields["QC verdict"] == "fail"
    assert "Production passage P6" in fields["QC findings"]
    record = json.loads(fields["QC record"])
    assert record["judged_revision"] and record["rule_pack"].startswith("msc-default")
    assert fields["QC report"] in fake.tenant.blobs
    (canvas,) = fake.tenant.canvases.values()
    assert canvas["resourceId"] == entry_id and "MSC batch QC: FAIL" in canvas["blocks"][0]["value"]
    (session,) = fake.tenant.sessions.values()
    assert session["messages"][0]["style"] == "ERROR"
    assert all(3 <= len(m["content"]) <= 200 for m in session["messages"])


def test_an_unchanged_batch_costs_no_write(fake: FakeBenchling, adapter: BenchlingAdapter, engine: Engine) -> None:
    entity_id, _ = add_batch(fake, BASE)
    judge_and_annotate(adapter, engine, adapter.ref(entity_id))
    again = judge_and_annotate(adapter, engine, adapter.ref(entity_id))
    assert (again.status, again.verdict, again.writes) == ("unchanged", "pass", 0)


def test_a_new_check_supersedes_and_overwrites_nothing(fake: FakeBenchling, adapter: BenchlingAdapter,
                                                       engine: Engine) -> None:
    entity_id, _ = add_batch(fake, BASE)
    first = judge_and_annotate(adapter, engine, adapter.ref(entity_id))
    first_blob = _fields(fake, entity_id)["QC report"]
    fake.tenant.user_update(entity_id, {"Production passage": 6})
    second = judge_and_annotate(adapter, engine, adapter.ref(entity_id))
    assert (first.verdict, second.status, second.verdict) == ("pass", "annotated", "fail")
    record = json.loads(_fields(fake, entity_id)["QC record"])
    assert record["supersedes"].startswith("pass of revision")
    assert len(fake.tenant.blobs) == 2 and first_blob in fake.tenant.blobs  # the first report is kept
    assert len(fake.tenant.canvases) == 1  # the canvas is replaced in place, not added to


def test_a_verdict_a_person_wrote_does_not_stand(fake: FakeBenchling, adapter: BenchlingAdapter,
                                                 engine: Engine) -> None:
    entity_id, _ = add_batch(fake, _failing())
    judge_and_annotate(adapter, engine, adapter.ref(entity_id))
    fake.tenant.user_update(entity_id, {"QC verdict": "pass"})
    again = judge_and_annotate(adapter, engine, adapter.ref(entity_id))
    assert (again.status, _fields(fake, entity_id)["QC verdict"]) == ("annotated", "fail")


def test_own_writes_are_recognised_from_the_changed_fields(adapter: BenchlingAdapter) -> None:
    own = RecordRef("bfi_1", listing={"properties": ["fields.QC verdict", "fields.QC record"]})
    mixed = RecordRef("bfi_1", listing={"properties": ["fields.QC verdict", "fields.Lot"]})
    other = RecordRef("etr_1", listing={"updates": ["name"]})
    assert adapter.is_own_write(own) and not adapter.is_own_write(mixed)
    assert not adapter.is_own_write(other) and not adapter.is_own_write(RecordRef("bfi_1"))


def test_a_mapped_field_the_schema_lacks_is_an_error_verdict(fake: FakeBenchling, engine: Engine,
                                                             tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path, fake, batch={"fields": {"lot_id": "Lot", "donor_id": "Donor code"}})
    client_id, secret = fake.add_client()
    adapter = BenchlingAdapter(fake.url, load_mapping(mapping), client_id, Token(secret))
    entity_id, _ = add_batch(fake, BASE)
    outcome = judge_and_annotate(adapter, engine, adapter.ref(entity_id))
    assert (outcome.status, outcome.verdict) == ("annotated", "error")
    assert "no field 'Donor code'" in _fields(fake, entity_id)["QC findings"]


def test_changes_lists_the_batch_schema_newest_first_in_pages(fake: FakeBenchling, adapter: BenchlingAdapter) -> None:
    made = [add_batch(fake, dict(copy.deepcopy(BASE), lot_id=f"L{i}"))[0] for i in range(105)]
    listed = [ref.id for ref in adapter.changes(ChangeQuery())]
    assert listed == list(reversed(made))
    pages = [r for r in fake.requests if r[1] == "/api/v2/custom-entities"]
    assert len(pages) == 2  # 100 + 5


def test_dry_run_writes_nothing(fake: FakeBenchling, adapter: BenchlingAdapter, engine: Engine) -> None:
    entity_id, _ = add_batch(fake, BASE)
    outcome = judge_and_annotate(adapter, engine, adapter.ref(entity_id), dry_run=True)
    assert (outcome.status, outcome.writes) == ("dry-run", 0)
    assert outcome.would_write["fields"]["QC verdict"] == "pass"
    assert not fake.api_requests("PATCH") and not fake.tenant.canvases


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[FakeBenchling]:
    """A fake tenant that allows 12 requests per 2 s (Benchling's 300 per 30 s, scaled down)."""
    server = FakeBenchling(rate_limit=(12, 2.0)).start()
    seed_schemas(server)
    try:
        yield server
    finally:
        server.stop()
    assert server.violations == []


def _judge_four(server: FakeBenchling, engine: Engine, tmp_path: Path, limiter: RateLimiter) -> BenchlingAdapter:
    client_id, secret = server.add_client()
    adapter = BenchlingAdapter(server.url, load_mapping(write_mapping(tmp_path, server)), client_id, Token(secret),
                               limiter=limiter)
    ids = [add_batch(server, BASE)[0] for _ in range(4)]
    assert [judge_and_annotate(adapter, engine, adapter.ref(i)).status for i in ids] == ["annotated"] * 4
    return adapter


@pytest.mark.slow  # waits out Retry-After, timeouts or a rate window, as the protocol says
def test_a_429_burst_is_waited_out(limited: FakeBenchling, engine: Engine, tmp_path: Path) -> None:
    adapter = _judge_four(limited, engine, tmp_path, RateLimiter(1000, 2.0))  # no client-side limit to speak of
    assert limited.rate_limited > 0 and adapter.client.transport.retried >= limited.rate_limited


@pytest.mark.slow  # waits out Retry-After, timeouts or a rate window, as the protocol says
def test_the_client_side_limit_keeps_under_the_server_limit(limited: FakeBenchling, engine: Engine,
                                                            tmp_path: Path) -> None:
    adapter = _judge_four(limited, engine, tmp_path, RateLimiter(10, 2.0))
    assert limited.rate_limited == 0 and adapter.client.limiter.waited > 0


def test_refused_credentials_say_so_without_the_secret(fake: FakeBenchling, mapping_file: Path) -> None:
    client_id, _ = fake.add_client()
    adapter = BenchlingAdapter(fake.url, load_mapping(mapping_file), client_id, Token("s3cret-value"))
    with pytest.raises(ElnError) as caught:
        adapter.account()
    assert "s3cret-value" not in str(caught.value) and "s3cret-value" not in repr(adapter)


@pytest.mark.parametrize(("value", "env", "expected"), [
    ("cid_1:sec", None, ("cid_1", "sec")),
    ("sec", "cid_2", ("cid_2", "sec")),
], ids=["id-in-the-secret-file", "id-from-the-environment"])
def test_credentials(value: str, env: str | None, expected: tuple[str, str],
                     monkeypatch: pytest.MonkeyPatch) -> None:
    if env:
        monkeypatch.setenv("BENCHLING_CLIENT_ID", env)
    client_id, secret = credentials(Token(value))
    assert (client_id, secret.reveal()) == expected


def test_credentials_without_an_id_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BENCHLING_CLIENT_ID", raising=False)
    with pytest.raises(ConfigError, match="BENCHLING_CLIENT_ID"):
        credentials(Token("sec"))


def test_a_batch_kept_as_a_notebook_entry(fake: FakeBenchling, engine: Engine, tmp_path: Path) -> None:
    from tests.support.benchling_world import add_entry_batch, example_mapping

    raw = example_mapping()
    notes = raw["annotation"]
    fields = {name: "text" for name in raw["batch"]["fields"].values()}
    fields |= {notes["verdict_field"]: "text", notes["findings_field"]: "long_text",
               notes["record_field"]: "long_text", notes["report_field"]: "blob_link"}
    fake.tenant.add_schema("entry", "MSC batch entry", fields, "ps_MscBatch01")
    mapping = write_mapping(tmp_path, fake, batch={"kind": "entry", "schema_id": "ps_MscBatch01",
                                                   "entry_link_field": None})
    client_id, secret = fake.add_client()
    adapter = BenchlingAdapter(fake.url, load_mapping(mapping), client_id, Token(secret))
    entry_id = add_entry_batch(fake, dict(copy.deepcopy(BASE), senescence={}), "ps_MscBatch01")
    outcome = judge_and_annotate(adapter, engine, adapter.ref(entry_id))
    assert outcome.status == "annotated"
    entry = fake.tenant.entries[entry_id]
    assert entry["fields"]["QC verdict"]["value"] == outcome.verdict
    assert outcome.report is not None and outcome.report.metrics["passages"]  # its results table was read
    assert outcome.report.metrics["cumulative_pdl"] > 0
    (canvas,) = fake.tenant.canvases.values()
    assert canvas["resourceId"] == entry_id
