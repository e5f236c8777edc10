"""`eln-msc watch` in process, against the fake eLabFTW: new, changed and bulk entries, own writes, quiet
periods, and every kind of failure ending with no entry lost."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eln_msc_plugin.elabftw.adapter import fields_digest
from eln_msc_plugin.pipeline import Engine
from eln_msc_plugin.watch.loop import Watcher, WatchOptions
from eln_msc_plugin.watch.state import WatchState
from tests.support.elabftw import Lab, elabftw_engine, open_adapter, writes_to
from tests.support.fake_elabftw import Fault
from tests.support.records import BASE, record

FAILING = record(production_passage=6, passages=BASE["passages"])


class Clock:
    """A monotonic clock the test moves (the quiet period is measured on it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def engine() -> Engine:
    return elabftw_engine()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def watch(lab: Lab, engine: Engine, clock: Clock, tmp_path: Path) -> Iterator[Any]:
    """`watch(key=None, **options)` → a Watcher on the lab's MSC category with its own state file."""
    opened: list[Any] = []

    def make(key: str | None = None, quiet: float = 5.0, page_size: int = 100) -> Watcher:
        adapter = open_adapter(lab, key)
        state = WatchState(tmp_path / "watch-state.sqlite")
        opened.append((adapter, state))
        return Watcher(adapter, engine, state, WatchOptions(interval=30, quiet=quiet, page_size=page_size),
                       clock=clock)

    yield make
    for adapter, state in opened:
        adapter.close()
        state.close()


def settle(watcher: Watcher, clock: Clock, lab: Lab, polls: int = 2) -> None:
    """Poll, wait out the quiet period, poll again (each poll a second later on the fake's clock too)."""
    for _ in range(polls):
        watcher.poll()
        clock.now += watcher.options.quiet + 1
        lab.fake.store.clock_offset += dt.timedelta(seconds=2)


def test_a_new_entry_is_judged_once_its_quiet_period_is_over(lab: Lab, watch: Any, clock: Clock) -> None:
    watcher = watch()
    ref = lab.save(FAILING)
    first = watcher.poll()
    assert first.statuses["waiting"] == 1 and not writes_to(lab.fake, ref)
    clock.now += 6
    second = watcher.poll()
    assert second.statuses["annotated"] == 1 and lab.entry(ref)["tags"] == "qc-fail"
    assert second.writes == 4 and second.reads <= 3  # the listing page, the entry (and the team's categories once)


def test_own_writes_never_trigger_a_new_judgement(lab: Lab, watch: Any, clock: Clock) -> None:
    watcher = watch()
    lab.save(BASE)
    settle(watcher, clock, lab)
    for _ in range(4):
        summary = watcher.poll()
        clock.now += 6
        assert summary.writes == 0 and summary.reads == 1  # one listing page: own write, then settled
    assert summary.statuses == {"settled": 1}


def test_a_changed_entry_is_judged_again_and_a_form_filled_in_gets_one_verdict(lab: Lab, watch: Any,
                                                                               clock: Clock) -> None:
    watcher = watch()
    ref = lab.save(BASE)
    settle(watcher, clock, lab)
    for field, value in (("production_passage", "6"), ("donor_id", "D-2"), ("tissue_source", "adipose")):
        lab.set_field(ref, field, value)
        lab.fake.store.clock_offset += dt.timedelta(seconds=1)
        watcher.poll()  # each edit seen before the quiet period ends: nothing judged yet
        clock.now += 2
    edited_at = lab.entry(ref)["modified_at"]
    settle(watcher, clock, lab, polls=3)
    comments = lab.entry(ref)["comments"]
    assert len(comments) == 2 and comments[1]["comment"].startswith("MSC QC verdict: FAIL")
    assert lab.annotation(ref)["judged_revision"] == edited_at  # the last edit, not one on the way


@pytest.mark.slow
def test_a_bulk_of_500_entries_with_edits_meanwhile_misses_nothing(lab: Lab, watch: Any, clock: Clock) -> None:
    watcher = watch(page_size=100)
    refs = [lab.save(BASE if i % 3 else FAILING, title=f"lot {i}") for i in range(500)]
    watcher.poll()
    clock.now += 6
    edited = refs[::10]
    scientist = threading.Thread(target=lambda: [lab.set_field(ref, "donor_id", "D-edited") for ref in edited])
    scientist.start()  # a scientist edits entries while the watcher writes its judgements
    watcher.poll()
    scientist.join()
    settle(watcher, clock, lab, polls=3)
    for ref in refs:
        entity = lab.fake.store.entities[("experiments", int(ref.split("/")[1]))]
        fields = json.loads(entity.metadata or "{}")["extra_fields"]
        judged = json.loads(fields["msc_qc"]["value"])
        assert judged["fields_sha256"] == fields_digest({"metadata": entity.metadata}), ref  # the current content
        assert len(entity.comments) == len(entity.uploads) == (len(entity.comments) if ref in edited else 1), ref
        assert len(entity.comments) <= 2, ref
    writes = []
    for _ in range(2):
        clock.now += 6
        writes.append(watcher.poll().writes)
    assert writes == [0, 0] and not watcher.state.open_records()  # the plugin's own writes settle, unjudged


def test_a_locked_entry_gets_its_comment_and_a_clear_line(lab: Lab, watch: Any, clock: Clock,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "eln_msc_plugin.watch")
    ref = lab.save(FAILING)
    lab.call("PATCH", ref, json={"action": "lock"})
    settle(watch(), clock, lab, polls=3)
    [line] = [r.getMessage() for r in caplog.records if ref in r.getMessage()]
    assert "fail (partial; 1 reads, 1 writes): This entry is locked" in line
    assert len(lab.entry(ref)["comments"]) == 1


def test_malformed_metadata_is_judged_error_with_a_clear_line(lab: Lab, watch: Any, clock: Clock,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "eln_msc_plugin.watch")
    ref = lab.save(BASE)
    lab.fake.store.entities[("experiments", int(ref.split("/")[1]))].metadata = "{not json"
    settle(watch(), clock, lab, polls=3)
    [line] = [r.getMessage() for r in caplog.records if ref in r.getMessage()]
    assert ": error (partial;" in line and "metadata is not valid JSON" in line
    assert lab.entry(ref)["tags"] == "qc-error"


def test_a_read_only_key_loses_no_entry(lab: Lab, watch: Any, clock: Clock,
                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "eln_msc_plugin.watch")
    refs = [lab.save(BASE) for _ in range(3)]
    settle(watch(lab.readonly_key), clock, lab, polls=3)
    lines = [r.getMessage() for r in caplog.records]
    assert all(any(ref in line and "read-only key" in line for line in lines) for ref in refs)
    assert all(lab.annotation(ref) is None for ref in refs)
    settle(watch(), clock, lab, polls=2)  # the admin gives a read/write key; same state file
    assert all(lab.annotation(ref) is not None for ref in refs)


@pytest.mark.parametrize(
    "fault",
    [Fault(status=503, times=3, method="GET", path=r"/experiments/\d+$"),
     Fault(status=429, retry_after=0, times=4, method="POST"),
     Fault(delay=1.0, times=6, method="GET", path=r"/experiments/\d+$")],
    ids=["503-burst", "429-on-writes", "timeouts"])
@pytest.mark.slow  # waits out Retry-After, timeouts or a rate window, as the protocol says
def test_faults_end_with_every_entry_annotated_once(lab: Lab, watch: Any, clock: Clock, fault: Fault,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "eln_msc_plugin.watch")
    refs = [lab.save(BASE if i % 2 else FAILING) for i in range(4)]
    lab.fake.inject(fault)
    watcher = watch()
    watcher.adapter.client.session.timeout = (5.0, 0.3)
    settle(watcher, clock, lab, polls=6)
    for ref in refs:
        entry = lab.entry(ref)
        assert lab.annotation(ref) is not None and len(entry["comments"]) == 1 and len(entry["uploads"]) == 1
    assert fault.times == 0  # every injected fault was met
    if fault.delay:
        assert any("did not answer in time" in r.getMessage() for r in caplog.records)


def test_the_state_file_belongs_to_one_watch(tmp_path: Path) -> None:
    from eln_msc_plugin.errors import ConfigError

    state = WatchState(tmp_path / "s.sqlite")
    state.bind({"eln": "elabftw", "category": "MSC"})
    state.bind({"eln": "elabftw", "category": "MSC"})
    with pytest.raises(ConfigError, match="belongs to another watch"):
        state.bind({"eln": "elabftw", "category": "Other"})
    state.close()


def test_a_save_slipping_in_while_the_plugin_writes_is_judged(lab: Lab, watch: Any, clock: Clock) -> None:
    from tests.support.xmlgen import to_xml

    watcher = watch()
    ref = lab.save(BASE)
    prepare = watcher.adapter.prepare

    def scientist_saves_meanwhile(content: Any) -> Any:
        watcher.adapter.prepare = prepare
        lab.attach(ref, "lot.xml", to_xml(FAILING))  # the plugin becomes the last changer right after
        return prepare(content)

    watcher.adapter.prepare = scientist_saves_meanwhile
    settle(watcher, clock, lab, polls=5)
    annotation = lab.annotation(ref)
    assert annotation is not None and annotation["verdict"] == "fail" and "lot.xml" in annotation["sources"]


def test_a_poll_that_breaks_is_logged_and_the_next_one_goes_on(lab: Lab, watch: Any, clock: Clock,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    watcher = watch()
    ref = lab.save(BASE)
    changes = watcher.adapter.changes

    def broken(query: Any) -> Any:
        watcher.stop.set()  # after this poll, run() ends instead of waiting for the next
        raise OSError("No space left on device")

    watcher.adapter.changes = broken
    watcher.run()
    assert any("poll failed: OSError: No space left on device" in r.getMessage() for r in caplog.records)
    watcher.adapter.changes = changes
    watcher.stop.clear()
    settle(watcher, clock, lab)
    assert lab.annotation(ref) is not None


def test_the_watch_knows_only_the_protocol(tmp_path: Path, clock: Clock) -> None:
    """Any adapter that lists its changes can be watched: here the toy ELN of the contract tests."""
    from eln_msc_plugin.pipeline import build_engine
    from tests.support.toy_eln import Notebook, ToyAdapter, ToyPerson, serve

    server = serve(Notebook())
    url = server.url
    adapter = ToyAdapter(url)
    state = WatchState(tmp_path / "toy.sqlite")
    try:
        watcher = Watcher(adapter, build_engine(), state, WatchOptions(quiet=5.0, filters={"tag": "msc"}),
                          clock=clock)
        record_id = str(ToyPerson(url).create("msc", FAILING))
        statuses = []
        for _ in range(4):
            statuses.append(dict(watcher.poll().statuses))
            clock.now += 6
        assert statuses == [{"waiting": 1}, {"annotated": 1}, {"waiting": 1}, {"own-write": 1}]
        assert adapter.read(adapter.ref(record_id)).current.verdict == "fail"
    finally:
        adapter.close()
        state.close()
        server.close()
