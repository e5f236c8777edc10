"""`eln-msc doctor|backfill --eln elabftw` through the generic hosts, against the fake eLabFTW."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eln_msc_plugin.cli import main
from tests.support.elabftw import Lab
from tests.support.records import BASE, record

FAILING = record(production_passage=6, passages=BASE["passages"])


@pytest.fixture
def elabftw_cli(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The arguments naming the fake eLabFTW and its MSC category; the key in the adapter's own variable."""
    monkeypatch.setenv("ELABFTW_KEY", lab.service_key)
    return ["--eln", "elabftw", "--url", lab.url, "--category", "MSC batch record"]


def test_doctor_passes_every_check(lab: Lab, elabftw_cli: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    lab.save(BASE)
    assert main(["doctor", *elabftw_cli]) == 0
    out = capsys.readouterr().out
    assert "6 of 6 checks passed" in out and "acts as MSC QC bot" in out and lab.service_key not in out


def test_doctor_names_the_fix_for_a_read_only_key(lab: Lab, elabftw_cli: list[str],
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    lab.save(BASE)
    monkeypatch.setenv("ELABFTW_KEY", lab.readonly_key)
    assert main(["doctor", *elabftw_cli]) == 1
    out = capsys.readouterr().out
    assert "FAIL  read/write" in out and "read/write API key" in out


def test_backfill_annotates_every_entry_then_finds_them_unchanged(lab: Lab, elabftw_cli: list[str], tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    refs = [lab.save(BASE if i % 2 else FAILING, title=f"lot {i}") for i in range(6)]
    lab.save(BASE, entity_type="items")  # another kind of entry, in no watched category
    arguments = ["backfill", *elabftw_cli, "--state", str(tmp_path / "state.sqlite"),
                 "--report", str(tmp_path / "report")]
    assert main(arguments) == 0
    first = capsys.readouterr().out
    assert "6 records (6 annotated)" in first and "3 fail, 3 pass" in first
    assert all(lab.annotation(ref) is not None for ref in refs)
    rows = json.loads((tmp_path / "report.json").read_text())["records"]
    assert sorted(row["id"] for row in rows) == sorted(refs)
    assert main(arguments) == 0
    second = capsys.readouterr().out
    assert "6 records (6 unchanged)" in second and " 0 writes" in second
