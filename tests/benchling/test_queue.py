"""The durable event queue and the worker pool that works it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from eln_msc_plugin.benchling.queue import Event, EventQueue
from eln_msc_plugin.benchling.workers import WorkerPool
from eln_msc_plugin.errors import ElnError


def _wait_for(condition, deadline: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < end, "condition not met before the deadline"
        time.sleep(0.02)


def test_a_webhook_id_is_stored_once(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "q")
    assert queue.offer("msg_1", "v2.entry.updated.fields", "etr_1", "{}") is True
    assert queue.offer("msg_1", "v2.entry.updated.fields", "etr_1", "{}") is False
    assert queue.counts()["queued"] == 1


def test_events_for_one_resource_are_read_once(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "q")
    for i, resource in enumerate(["etr_1", "etr_2", "etr_1", "etr_1"]):
        queue.offer(f"msg_{i}", "v2.entry.updated.fields", resource, "{}")
    first = queue.claim()
    assert first is not None and first.resource_id == "etr_1"
    second = queue.claim()
    assert second is not None and second.resource_id == "etr_2"
    assert queue.claim() is None
    assert queue.counts() | {} == {"queued": 0, "working": 2, "done": 0, "coalesced": 2, "failed": 0}


def test_a_resource_is_worked_by_one_worker_at_a_time(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "q")
    queue.offer("msg_1", "t", "etr_1", "{}")
    held = queue.claim()
    queue.offer("msg_2", "t", "etr_1", "{}")  # arrives while the first is in hand: must wait for it
    assert held is not None and queue.claim() is None
    queue.finish(held.seq, "done")
    later = queue.claim()
    assert later is not None and later.webhook_id == "msg_2"


def test_events_in_hand_at_a_crash_are_queued_again(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "q")
    queue.offer("msg_1", "t", "etr_1", "{}")
    assert queue.claim() is not None
    queue.close()
    reopened = EventQueue(tmp_path / "q")  # the next process
    assert reopened.recover() == 1
    again = reopened.claim()
    assert again is not None and again.attempts == 2


def test_the_pool_retries_what_may_pass_and_records_what_failed(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "q")
    calls: dict[str, int] = {}
    lock = threading.Lock()

    def handler(event: Event) -> str:
        with lock:
            calls[event.resource_id] = calls.get(event.resource_id, 0) + 1
        if event.resource_id == "flaky" and event.attempts < 3:
            raise ElnError("Benchling answered 503", retryable=True)
        if event.resource_id == "broken":
            raise ElnError("Benchling answered 403", status=403)
        if event.resource_id == "bug":
            raise KeyError("oops")
        return "annotated"

    for name in ("fine", "flaky", "broken", "bug"):
        queue.offer(f"msg_{name}", "t", name, "{}")
    pool = WorkerPool(queue, handler, workers=2, backoff=0.01, idle=0.01).start()
    try:
        _wait_for(lambda: queue.counts()["done"] == 2 and queue.counts()["failed"] == 2)
    finally:
        pool.stop()
    outcomes = {resource: (status, outcome) for _, resource, status, outcome in queue.outcomes()}
    assert outcomes["flaky"] == ("done", "annotated") and calls["flaky"] == 3
    assert outcomes["broken"] == ("failed", "Benchling answered 403")
    assert outcomes["bug"][0] == "failed" and "KeyError" in str(outcomes["bug"][1])
    assert not pool.alive()


def test_finished_events_are_forgotten_after_a_while(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "q")
    for i in range(3):
        queue.offer(f"msg_{i}", "t", f"etr_{i}", "{}")
    done = queue.claim()
    assert done is not None
    queue.finish(done.seq, "annotated")
    assert queue.prune(3600) == 0  # finished just now: kept
    assert queue.prune(-1) == 1   # finished "long ago" (cutoff in the future): forgotten; queued ones stay
    assert queue.counts()["queued"] == 2
