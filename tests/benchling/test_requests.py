"""Requests per judged batch, counted at the fake tenant: the backfill's listing pages share their batches'
result rows and entries; the webhook path settles the app's own write and a late event with fewer reads."""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from eln_msc_plugin.benchling.adapter import BenchlingAdapter
from eln_msc_plugin.benchling.mapping import load_mapping
from eln_msc_plugin.benchling.own import OwnWrites
from eln_msc_plugin.benchling.queue import Event
from eln_msc_plugin.benchling.serve import handler
from eln_msc_plugin.eln.base import ChangeQuery
from eln_msc_plugin.eln.http import Token
from eln_msc_plugin.eln.judge import Outcome, judge_and_annotate
from eln_msc_plugin.errors import ElnError
from eln_msc_plugin.pipeline import Engine
from tests.benchling.conftest import QUIET
from tests.support.benchling_world import add_batch
from tests.support.fake_benchling import FakeBenchling
from tests.support.records import BASE

pytestmark = QUIET


@pytest.fixture
def adapter(fake: FakeBenchling, mapping_file: Path) -> Iterator[BenchlingAdapter]:
    client_id, secret = fake.add_client()
    opened = BenchlingAdapter(fake.url, load_mapping(mapping_file), client_id, Token(secret))
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def _record(i: int) -> dict[str, Any]:
    record = copy.deepcopy(BASE)
    record["lot_id"] = f"LOT-{i}"
    record["production_passage"] = 4 + i % 3  # P4 to P6: the verdicts differ by batch
    record["passages"] = record["passages"][:2 + i % 3]  # and so do the rows each batch links
    return record


def _requests(fake: FakeBenchling, since: int) -> Counter[str]:
    """What the app asked since request number `since`, by method and endpoint (ids folded)."""
    found: Counter[str] = Counter()
    for method, path, _ in fake.requests[since:]:
        parts = path.removeprefix("/api/v2/").split("/")
        found[f"{method} {parts[0]}" + ("/{id}" if len(parts) > 1 else "")] += 1
    return found


def _walk(adapter: BenchlingAdapter, engine: Engine) -> list[Outcome]:
    return [judge_and_annotate(adapter, engine, ref, want_report=True) for ref in adapter.changes(ChangeQuery())]


def test_a_listing_page_reads_its_rows_and_entries_once(fake: FakeBenchling, adapter: BenchlingAdapter,
                                                        engine: Engine) -> None:
    made = {add_batch(fake, _record(i))[0]: _record(i) for i in range(45)}  # three chunks of entityIds (20)
    since = len(fake.requests)
    first = _walk(adapter, engine)
    asked = _requests(fake, since)
    assert asked["GET custom-entities"] == 1 and asked["GET entries"] == 1
    assert asked["GET assay-results"] == 2 * 3  # two results schemas, 45 batches in chunks of 20
    assert asked["GET custom-entities/{id}"] == asked["GET entries/{id}"] == 0
    assert [o.status for o in first] == ["annotated"] * 45 and sum(o.writes for o in first) == 4 * 45
    for outcome in first:  # each batch got its own rows, not its neighbours'
        assert outcome.report is not None
        assert len(outcome.report.metrics["passages"]) == len(made[outcome.ref.id]["passages"])
    assert len({o.verdict for o in first}) > 1


def test_a_batch_read_from_a_page_or_alone_is_the_same_content(fake: FakeBenchling, adapter: BenchlingAdapter,
                                                               engine: Engine) -> None:
    ids = [add_batch(fake, _record(i))[0] for i in range(3)]
    _walk(adapter, engine)
    since = len(fake.requests)
    again = _walk(adapter, engine)
    assert [o.status for o in again] == ["unchanged"] * 3 and sum(o.writes for o in again) == 0
    assert sum(_requests(fake, since).values()) == 4  # the listing, two results listings, the entries
    alone = [judge_and_annotate(adapter, engine, adapter.ref(i)) for i in ids]
    assert [(o.status, o.writes) for o in alone] == [("unchanged", 0)] * 3


def test_an_entry_the_app_cannot_see_fails_its_batch_only(fake: FakeBenchling, adapter: BenchlingAdapter,
                                                          engine: Engine) -> None:
    good = [add_batch(fake, _record(i))[0] for i in range(2)]
    lost, lost_entry = add_batch(fake, _record(2))
    del fake.tenant.entries[lost_entry]  # the listing of the page's entries is refused (400) for it
    results: dict[str, str] = {}
    for ref in adapter.changes(ChangeQuery()):
        try:
            results[ref.id] = judge_and_annotate(adapter, engine, ref).status
        except Exception as error:  # the host records the failure and goes on
            results[ref.id] = f"failed: {error}"
    assert [results[i] for i in good] == ["annotated"] * 2
    assert results[lost].startswith("failed") and lost_entry in results[lost]
    assert any(r[0] == "GET" and r[1] == "/api/v2/entries" and r[2] == 400 for r in fake.requests)
    fake.violations.clear()  # the refused listing is the behaviour under test, not a fake's mistake


def test_the_fake_refuses_entity_ids_over_the_described_limit(fake: FakeBenchling,
                                                              adapter: BenchlingAdapter) -> None:
    with pytest.raises(ElnError, match="400"):
        adapter.client.results("assaysch_MscPassage01", [f"bfi_{i}" for i in range(21)])
    assert adapter.client.results("assaysch_MscPassage01", [f"bfi_{i}" for i in range(20)]) == []
    assert len(fake.violations) == 1 and "maximum of 20" in fake.violations[0]
    fake.violations.clear()  # the refusal is the behaviour under test


# ------------------------------------------------------------------ webhook path
def _handle(fake: FakeBenchling, adapter: BenchlingAdapter, engine: Engine) -> Callable[..., str]:
    job = handler(adapter, engine)
    counter = iter(range(1, 10**6))

    def handle(message: dict[str, Any], coalesced: int = 0) -> str:
        seq = next(counter)
        body = json.dumps(fake.envelope(message))
        return str(job(Event(seq, f"wh_{seq}", message["type"], message["resourceId"], body, 1, coalesced)))

    return handle


def _events(fake: FakeBenchling) -> list[dict[str, Any]]:
    with fake.tenant.lock:
        found = list(fake.tenant.webhooks)
        fake.tenant.webhooks.clear()
    return found


Judged = tuple[str, Callable[..., str], str]  # the batch, the worker's job, the verdict the app wrote


@pytest.fixture
def judged(fake: FakeBenchling, adapter: BenchlingAdapter, engine: Engine) -> Judged:
    """A batch a scientist just edited, judged from the edit's event; the app's own event is pending."""
    entity_id, _ = add_batch(fake, _record(1))
    handle = _handle(fake, adapter, engine)
    _events(fake)
    fake.tenant.user_update(entity_id, {"Donor": "D-77"})
    (edit,) = _events(fake)
    since = len(fake.requests)
    outcome = handle(edit)
    verdict = fake.tenant.entities[entity_id]["fields"]["QC verdict"]["value"]
    assert outcome == f"{entity_id}: annotated {verdict}"
    asked = _requests(fake, since)
    assert (asked["GET custom-entities/{id}"], asked["GET assay-results"], asked["GET entries/{id}"]) == (1, 2, 1)
    return entity_id, handle, verdict


def _forged(verdict: str) -> str:
    return "pass" if verdict != "pass" else "fail"


def test_the_apps_own_write_event_costs_no_request(fake: FakeBenchling, judged: Judged) -> None:
    entity_id, handle, verdict = judged
    (own,) = _events(fake)
    since = len(fake.requests)
    assert handle(own).endswith("own write")
    assert len(fake.requests) == since


def test_a_second_event_naming_the_same_fields_is_read(fake: FakeBenchling,
                                                       judged: Judged) -> None:
    entity_id, handle, verdict = judged
    (own,) = _events(fake)
    fake.tenant.user_update(entity_id, {"QC verdict": _forged(verdict)})  # a person overwrites the verdict at once
    (forged,) = _events(fake)
    assert handle(own).endswith("own write")
    since = len(fake.requests)
    assert handle(dict(forged, properties=own["properties"])).endswith(f"annotated {verdict}")  # claimed once only
    assert fake.tenant.entities[entity_id]["fields"]["QC verdict"]["value"] == verdict
    assert _requests(fake, since)["GET custom-entities/{id}"] == 1


def test_an_own_write_event_that_settled_others_is_read(fake: FakeBenchling,
                                                        judged: Judged) -> None:
    entity_id, handle, verdict = judged
    (own,) = _events(fake)
    fake.tenant.user_update(entity_id, {"QC verdict": _forged(verdict)})  # its event was coalesced into the app's
    since = len(fake.requests)
    assert handle(own, coalesced=1).endswith(f"annotated {verdict}")
    assert fake.tenant.entities[entity_id]["fields"]["QC verdict"]["value"] == verdict
    assert _requests(fake, since)["GET custom-entities/{id}"] == 1


def test_a_late_event_of_a_judged_change_costs_one_read(fake: FakeBenchling, adapter: BenchlingAdapter,
                                                        judged: Judged) -> None:
    entity_id, handle, verdict = judged
    _events(fake)
    late = {"id": "evt_late", "type": "v3.customEntity.updated", "resourceId": entity_id, "createdAt":
            "2026-01-01T00:00:00Z", "deprecated": False, "stability": "stable", "properties": ["fields.Donor"]}
    since = len(fake.requests)
    assert "unchanged" in handle(late)
    assert sum(_requests(fake, since).values()) == 1 and not _events(fake)
    fake.tenant.user_update(entity_id, {"Production passage": 7})  # a real change is read in full and judged
    (edit,) = _events(fake)
    since = len(fake.requests)
    assert handle(edit).endswith("annotated fail") and _requests(fake, since)["GET assay-results"] == 2


def test_own_writes_are_claimed_once_and_forgotten_after_a_while() -> None:
    now = [0.0]
    own = OwnWrites(keep=3600.0, clock=lambda: now[0])
    own.note("bfi_1", frozenset({"QC verdict", "QC record"}), frozenset({"QC record"}))
    assert not own.claim("bfi_1", frozenset({"QC verdict"}))  # a set the write does not explain
    assert not own.claim("bfi_2", frozenset({"QC record"}))  # another batch
    assert own.claim("bfi_1", frozenset({"QC record"})) and not own.claim("bfi_1", frozenset({"QC record"}))
    own.note("bfi_1", frozenset({"QC record"}), frozenset({"QC record"}))
    now[0] = 3601.0  # its event never came: after an hour the write is forgotten (the next event is read)
    assert not own.claim("bfi_1", frozenset({"QC record"}))
