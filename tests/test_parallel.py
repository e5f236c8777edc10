"""The worker pool: answers by key, a dead worker named with its unit, errors carried back, nothing left."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest

from eln_msc_plugin.parallel import Died, Pool, Raised


def handler() -> Any:
    def handle(unit: Any) -> Any:
        if unit == "die":
            os.kill(os.getpid(), signal.SIGKILL)
        if unit == "raise":
            raise ValueError("no such unit")
        return (unit, os.getpid())

    return handle


def answers(pool: Pool, count: int) -> dict[int, Any]:
    got: dict[int, Any] = {}
    deadline = time.monotonic() + 120
    while len(got) < count:
        assert time.monotonic() < deadline
        got.update(pool.wait())
    return got


@pytest.fixture
def pool() -> Any:
    made = Pool(2, handler, ())
    try:
        yield made
    finally:
        made.terminate()


def test_units_are_answered_by_key_in_separate_processes(pool: Pool) -> None:
    for key in range(6):
        pool.submit(key, f"u{key}")
    got = answers(pool, 6)
    assert {key: value[0] for key, value in got.items()} == {k: f"u{k}" for k in range(6)}
    assert len({pid for _, pid in got.values()}) == 2 and os.getpid() not in {pid for _, pid in got.values()}


def test_a_dead_worker_names_its_unit_and_is_replaced(pool: Pool) -> None:
    pool.submit(1, "die")
    pool.submit(2, "fine")
    got = answers(pool, 2)
    assert got[1] == Died(-signal.SIGKILL) and got[1].describe() == "killed by SIGKILL"
    pool.submit(3, "after")
    assert answers(pool, 1)[3][0] == "after"


def test_an_error_in_a_worker_is_carried_back(pool: Pool) -> None:
    pool.submit(1, "raise")
    [(key, answer)] = answers(pool, 1).items()
    assert key == 1 and isinstance(answer, Raised) and str(answer.error) == "no such unit"


def test_terminate_leaves_no_worker(pool: Pool) -> None:
    pool.submit(1, "a")
    pool.submit(2, "b")
    answers(pool, 2)
    processes = [w.process for w in pool.workers]
    pool.terminate()
    assert processes and not any(p.is_alive() for p in processes) and not pool.busy()
