"""`eln-msc serve benchling` as a real process: signed webhooks in, the verdict on the batch and its entry,
no loop on its own writes, and no event lost when the process is killed with events queued."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.benchling.conftest import QUIET
from tests.support.benchling_world import add_batch, write_mapping
from tests.support.fake_benchling import FakeBenchling
from tests.support.records import BASE

pytestmark = [*QUIET, pytest.mark.slow]
DEADLINE = 120.0  # generous: the machine is shared and slow


def wait_for(condition: Callable[[], object], what: str, deadline: float = DEADLINE) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Served:
    """A running `eln-msc serve benchling` process on a free port."""

    def __init__(self, fake: FakeBenchling, mapping: Path, queue: Path) -> None:
        client_id, secret = fake.add_client()
        env = dict(os.environ, BENCHLING_CLIENT_ID=client_id, BENCHLING_CLIENT_SECRET=secret)
        command = [sys.executable, "-m", "eln_msc_plugin.cli", "serve", "benchling", "--port", "0",
                   "--config", str(mapping), "--url", fake.url, "--queue", str(queue), "--workers", "2"]
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert "listening on port" in line, f"serve did not start: {line!r} {self.process.stderr.read()}"  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{line.rsplit(' ', 1)[1].strip()}"

    def health(self) -> dict:  # type: ignore[type-arg]
        return requests.get(f"{self.url}/health", timeout=10).json()  # type: ignore[no-any-return]

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(60)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def mapping(fake: FakeBenchling, tmp_path: Path) -> Path:
    return write_mapping(tmp_path, fake, receiver={"jwks_url": f"{fake.url}/apps/jwks/{fake.app_definition_id}"})


@pytest.fixture
def served(fake: FakeBenchling, mapping: Path, tmp_path: Path) -> Iterator[Served]:
    server = Served(fake, mapping, tmp_path / "queue.sqlite3")
    try:
        yield server
    finally:
        server.stop()


def _settled(served: Served, done: int) -> bool:
    queue = served.health()["queue"]
    return queue["queued"] == 0 and queue["working"] == 0 and queue["done"] + queue["coalesced"] >= done


def test_entry_update_to_verdict_and_canvas_without_a_loop(fake: FakeBenchling, served: Served) -> None:
    record = dict(BASE, production_passage=6)
    entity_id, entry_id = add_batch(fake, record)
    fake.tenant.webhooks.clear()  # creation events: not what this test is about
    fake.tenant.emit_entry(entry_id, "v2.entry.updated.fields", ["fields.Operator"])
    assert fake.deliver_pending(f"{served.url}/webhooks") == [202]
    wait_for(lambda: _settled(served, 1), "the first event to be judged")  # every write of it made
    with fake.tenant.lock:  # a PATCH sets the fields and queues its event under this lock
        assert fake.tenant.entities[entity_id]["fields"]["QC verdict"]["value"] == "fail"
        (canvas,) = fake.tenant.canvases.values()
    assert canvas["resourceId"] == entry_id and "FAIL" in canvas["blocks"][0]["value"]
    # the app's own PATCH made an event; deliver it (and anything it causes) until nothing is left
    rounds = 0
    while fake.tenant.webhooks:
        rounds += 1
        assert rounds < 5, "the receiver keeps causing events: a loop"
        assert set(fake.deliver_pending(f"{served.url}/webhooks")) == {202}
        settled = rounds + 1
        wait_for(lambda: _settled(served, settled), "the queue to settle")  # noqa: B023 - read at once
    assert rounds == 1
    assert len(fake.api_requests("PATCH")) == 1  # the fields written once; the own-write event wrote nothing
    outcomes = [o for _, _, _, o in sqlite3.connect(served_queue(served)).execute(
        "SELECT webhook_id, resource_id, status, outcome FROM events ORDER BY seq")]
    assert "own write" in outcomes[-1]


def served_queue(served: Served) -> str:
    args = served.process.args
    assert isinstance(args, list)
    return str(args[args.index("--queue") + 1])


def test_late_duplicate_and_out_of_order_events_are_judged_on_the_latest_state(fake: FakeBenchling,
                                                                              served: Served) -> None:
    entity_id, _ = add_batch(fake, BASE)
    fake.tenant.webhooks.clear()
    fake.tenant.user_update(entity_id, {"Production passage": 6})
    newer = fake.tenant.webhooks.pop()
    fake.tenant.user_update(entity_id, {"Production passage": 4})
    newest = fake.tenant.webhooks.pop()
    url = f"{served.url}/webhooks"
    assert fake.deliver(url, newest).status_code == 202   # out of order: the newest first
    wait_for(lambda: _settled(served, 1), "the first event")
    assert fake.tenant.entities[entity_id]["fields"]["QC verdict"]["value"] == "pass"
    assert fake.deliver(url, newer).status_code == 202    # late: reads the batch as it is now
    wait_for(lambda: _settled(served, 2), "the late event")
    assert fake.tenant.entities[entity_id]["fields"]["QC verdict"]["value"] == "pass"
    assert len(fake.api_requests("PATCH")) == 1  # the late event found the verdict already current


def test_a_killed_receiver_loses_no_queued_event(fake: FakeBenchling, mapping: Path, tmp_path: Path) -> None:
    queue = tmp_path / "queue.sqlite3"
    batches = [add_batch(fake, dict(BASE, lot_id=f"LOT-{i}"))[0] for i in range(20)]
    fake.tenant.webhooks.clear()
    for entity_id in batches:
        fake.tenant.user_update(entity_id, {"Donor": "D-018"})
    first = Served(fake, mapping, queue)
    try:
        assert set(fake.deliver_pending(f"{first.url}/webhooks")) == {202}
    finally:
        first.stop(signal.SIGKILL)  # a crash, with events still queued or in hand
    left = sqlite3.connect(queue).execute(
        "SELECT COUNT(*) FROM events WHERE status IN ('queued', 'working')").fetchone()[0]
    assert left > 0, "every event was done before the kill: the test proves nothing"
    second = Served(fake, mapping, queue)
    try:
        wait_for(lambda: all(fake.tenant.entities[i]["fields"]["QC verdict"]["value"] for i in batches),
                 "every batch judged after the restart")
        wait_for(lambda: _settled(second, 20), "the queue to settle")
    finally:
        second.stop()
    patches = [r[1] for r in fake.api_requests("PATCH")]
    assert sorted(set(patches)) == sorted(f"/api/v2/custom-entities/{i}" for i in batches)
    assert len(patches) == len(batches)  # each batch's verdict written once
    statuses = dict(sqlite3.connect(queue).execute("SELECT status, COUNT(*) FROM events GROUP BY status"))
    assert statuses.get("failed", 0) == 0 and json.dumps(statuses)
