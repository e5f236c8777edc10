"""Progress output: a bar redrawn with \\r on a terminal, plain lines otherwise (backfill and validate)."""

from __future__ import annotations

import io

import pytest

from eln_msc_plugin import progress as progress_module
from eln_msc_plugin.progress import Progress


@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "log"])
def test_progress_shows_counts_rate_and_eta(tty: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "REDRAW_S", 0.0)
    monkeypatch.setattr(progress_module, "LOG_EVERY_S", 0.0)
    out = io.StringIO()
    shown = Progress(out, tty=tty)
    shown.total = 4
    for status, verdict in [("annotated", "pass"), ("unchanged", "warn"), ("annotated", "fail"), ("failed", None)]:
        shown.add(status, verdict)
    shown.close()
    text = out.getvalue()
    last = text.replace("\r", "\n").strip().splitlines()[-1]
    assert "4/4" in last and "pass 1 warn 1 fail 1 error 0" in last and "failed 1" in last and "ETA" in last
    assert ("\r[" in text) is tty and ("backfill: " in text) is (not tty)


def test_progress_of_blocks_against_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """`validate` counts blocks of records and knows the bytes of its input, not the number of records."""
    monkeypatch.setattr(progress_module, "REDRAW_S", 0.0)
    out = io.StringIO()
    shown = Progress(out, tty=True, label="validate")
    shown.total_bytes = 1000
    shown.add_many({"pass": 200, "fail": 56}, 256, 250)
    assert "[######..................] 256 " in out.getvalue() and "ETA" in out.getvalue()
    shown.clear()
    assert out.getvalue().endswith("\r\033[K")
    shown.add_many({"pass": 10}, 10, 750)
    shown.close()
    last = out.getvalue().replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("[" + "#" * 24 + "] 266 ") and "pass 210 warn 0 fail 56 error 0" in last
