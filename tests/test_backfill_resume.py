"""Kill a backfill of 1,000 historical records with SIGKILL halfway; the next run finishes, each annotated once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.historical import (
    create_historical,
    new_type,
    service_revisions,
    verdicts,
)
from tests.support.kadi import Stack, wait_for

pytestmark = pytest.mark.kadi
COUNT = 1000


def _command(stack: Stack, record_type: str, state: Path, report: Path) -> list[str]:
    return [sys.executable, "-m", "eln_msc_plugin.cli", "backfill", "--kadi", stack.url, "--token-file",
            str(stack.service_token_file), "--type", record_type, "--state", str(state), "--workers", "4",
            "--report", str(report)]


def _done(state: Path) -> int:
    if not state.exists():
        return 0
    db = sqlite3.connect(str(state), timeout=5)
    try:
        return int(db.execute("SELECT count(*) FROM records WHERE status='annotated'").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


def test_sigkill_halfway_then_resume_annotates_every_record_exactly_once(stack: Stack, tmp_path: Path) -> None:
    record_type = new_type()
    expected = create_historical(stack, COUNT, record_type)
    state, report = tmp_path / "state.sqlite", tmp_path / "report.html"
    first = subprocess.Popen(_command(stack, record_type, state, report), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _done(state) >= COUNT // 2 or first.poll() is not None, 600, 0.05, "half the records")
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    at_kill = _done(state)
    assert first.returncode == -signal.SIGKILL and 0 < at_kill < COUNT

    second = subprocess.run(_command(stack, record_type, state, report), capture_output=True, text=True, timeout=900,
                            check=False)
    assert second.returncode == 0, second.stderr[-2000:]
    assert f"backfill: {COUNT} records" in second.stdout
    assert set(service_revisions(stack, list(expected)).values()) == {1}
    assert verdicts(stack.service(), list(expected)) == expected
    csv_lines = report.with_suffix(".csv").read_text().splitlines()
    assert len(csv_lines) == COUNT + 1  # the report covers the records annotated before the kill too
