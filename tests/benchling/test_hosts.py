"""The generic hosts with the Benchling adapter: `eln-msc doctor --eln benchling` and
`eln-msc backfill --eln benchling` (idempotent: a second run writes nothing)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from eln_msc_plugin.cli import main
from tests.benchling.conftest import QUIET
from tests.support.benchling_world import add_batch
from tests.support.fake_benchling import FakeBenchling
from tests.support.records import BASE

pytestmark = QUIET


def test_doctor(fake: FakeBenchling, mapping_file: Path, credentials: tuple[str, str],
                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--eln", "benchling", "--url", fake.url, "--mapping", str(mapping_file)]) == 0
    out = capsys.readouterr().out
    assert "signed in as the app MSC batch QC" in out and "all 17 mapped fields present" in out
    assert credentials[1] not in out


def test_backfill_twice_writes_once(fake: FakeBenchling, mapping_file: Path, credentials: tuple[str, str],
                                    tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(6):
        add_batch(fake, dict(copy.deepcopy(BASE), lot_id=f"L{i}", production_passage=4 + i % 2 * 2))
    argv = ["backfill", "--eln", "benchling", "--url", fake.url, "--mapping", str(mapping_file),
            "--state", str(tmp_path / "state.json"), "--report", str(tmp_path / "report.html")]
    assert main(argv) == 0  # the run went through (verdicts are in the report, not the exit status)
    first = capsys.readouterr().out
    assert "6 records (6 annotated)" in first and "3 fail, 3 pass" in first
    patches = len(fake.api_requests("PATCH"))
    assert patches == 6
    assert main(argv) == 0
    assert "6 unchanged" in capsys.readouterr().out
    assert len(fake.api_requests("PATCH")) == patches  # the second run wrote nothing
    rows = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert rows  # the report names the batches judged


def test_a_backfill_reads_a_page_of_batches_in_a_few_requests(fake: FakeBenchling, mapping_file: Path,
                                                               credentials: tuple[str, str], tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(45):
        add_batch(fake, dict(copy.deepcopy(BASE), lot_id=f"L{i}", production_passage=4 + i % 2 * 2))
    argv = ["backfill", "--eln", "benchling", "--url", fake.url, "--mapping", str(mapping_file), "--workers", "2",
            "--report", str(tmp_path / "report.html")]
    for run, writes in (("first", 4 * 45), ("again, a new state file", 0)):
        since = len(fake.requests)
        assert main([*argv, "--state", str(tmp_path / f"{run}.state")]) == 0, run
        asked = [(m, p) for m, p, _ in fake.requests[since:] if p.startswith("/api/v2/") and p != "/api/v2/token"]
        reads = sorted(p for m, p in asked if m == "GET")
        # the app's account (checked first), the listing, 2 results schemas x 3 chunks of 20, the entries
        assert reads == sorted(["/api/v2/apps/" + fake.app_id, "/api/v2/custom-entities", "/api/v2/entries"]
                               + ["/api/v2/assay-results"] * 6), run
        assert len(asked) - len(reads) == writes, run
    assert "45 unchanged" in capsys.readouterr().out
