"""`eln-msc watch` as the service runs it: a real process, killed with SIGKILL at any moment and restarted,
stopped with SIGTERM; nothing skipped, nothing written twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.elabftw import Lab
from tests.support.records import BASE, record

FAILING = record(production_passage=6, passages=BASE["passages"])
DEADLINE = 240.0  # seconds; the machine may be busy: wait on conditions, never on a guess


def start(lab: Lab, state: Path, key: str | None = None) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "eln_msc_plugin.cli", "watch", "--eln", "elabftw", "--url", lab.url,
               "--category", "MSC batch record", "--interval", "1", "--quiet", "1", "--state", str(state)]
    env = {**os.environ, "ELABFTW_KEY": key or lab.service_key}
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition: Callable[[], bool], what: str, process: subprocess.Popen[str] | None = None) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if process is not None and process.poll() is not None:
            pytest.fail(f"the watch ended ({process.returncode}) before {what}: {process.stderr.read()[-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def writes(lab: Lab) -> int:
    return sum(1 for e in lab.fake.requests() if e.method != "GET" and e.user == lab.service_user)


def annotated(lab: Lab, refs: list[str]) -> bool:
    return all(lab.fake.store.entities[("experiments", int(r.split("/")[1]))].metadata.find('"msc_qc"') >= 0
               for r in refs)


@pytest.mark.slow
def test_sigkill_at_any_moment_then_restart_skips_nothing_and_writes_nothing_twice(lab: Lab, tmp_path: Path) -> None:
    refs = [lab.save(BASE if i % 4 else FAILING, title=f"lot {i}") for i in range(60)]
    state = tmp_path / "watch-state.sqlite"
    killed_mid_work = 0
    for kill_after in (1, 37, 95, 160, 222):  # writes seen by the fake before the kill: mid-entry, mid-page …
        process = start(lab, state)
        wait_for(lambda n=kill_after: writes(lab) >= n or annotated(lab, refs), f"{kill_after} writes", process)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        killed_mid_work += not annotated(lab, refs)
    assert killed_mid_work == 5
    process = start(lab, state)
    wait_for(lambda: annotated(lab, refs), "every entry", process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    lab.set_field(refs[7], "production_passage", "7")  # a save while the watch is down
    process = start(lab, state)
    wait_for(lambda: lab.annotation(refs[7])["verdict"] == "fail", "the entry saved meanwhile", process)
    settled_at = writes(lab)
    time.sleep(3.5)  # three more polls: the plugin's own writes must not start anything
    process.send_signal(signal.SIGTERM)
    _, errors = process.communicate(timeout=60)
    assert process.returncode == 0 and "stopped; records by status:" in errors, errors[-2000:]
    assert writes(lab) == settled_at
    for ref in refs:
        entity = lab.fake.store.entities[("experiments", int(ref.split("/")[1]))]
        expected = 2 if ref == refs[7] else 1  # refs[7] changed while the watch was down: judged again
        assert len(entity.comments) == len(entity.uploads) == expected, (ref, entity.comments)
    for kind in ("comments", "uploads", "tags"):
        sent = [e for e in lab.fake.requests("POST", f"/{kind}$") if e.user == lab.service_user]
        assert len(sent) == len(refs) + 1, kind  # once per entry, and once more for the entry saved meanwhile


@pytest.mark.slow
def test_one_line_per_judged_entry_and_a_clean_stop(lab: Lab, tmp_path: Path) -> None:
    refs = [lab.save(BASE), lab.save(FAILING)]
    lab.call("PATCH", refs[1], json={"action": "lock"})
    process = start(lab, tmp_path / "state.sqlite")
    wait_for(lambda: len(lab.entry(refs[1])["comments"]) == 1 and lab.annotation(refs[0]) is not None,
             "both entries", process)
    process.send_signal(signal.SIGINT)  # Ctrl-C
    _, errors = process.communicate(timeout=60)
    lines = [line for line in errors.splitlines() if "experiments/" in line]
    assert process.returncode == 0
    assert any(f"{refs[0]} (MSC batch): pass (annotated; 1 reads, 4 writes)" in line for line in lines), errors
    assert any(f"{refs[1]} (MSC batch): fail (partial; 1 reads, 1 writes): This entry is locked" in line
               for line in lines), errors
    assert lab.service_key not in errors


def test_a_key_that_is_refused_stops_with_a_clear_message(lab: Lab, tmp_path: Path) -> None:
    process = start(lab, tmp_path / "state.sqlite", key="not-a-key")
    _, errors = process.communicate(timeout=120)
    assert process.returncode == 1 and "HTTP 401" in errors and "Traceback" not in errors and "not-a-key" not in errors
